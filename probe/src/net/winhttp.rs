//! The WinHTTP default proxy: what `netsh winhttp set proxy` stores and `netsh winhttp show
//! proxy` prints. Windows services built on WinHTTP use it; the sync service does not (it reads
//! machine.config), yet admins often set only this one, so the probe reads it and says when the
//! two disagree.
//!
//! Storage: the REG_BINARY value `WinHttpSettings` under
//! `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections`. Microsoft
//! does not document the layout beyond its direct-access bytes
//! (`1800000000000000010000000000000000000000`, KB 4494447); Wine's winhttp, which reads and
//! writes the same value, and the observed values agree on this one, every integer a
//! little-endian u32:
//!
//! | offset | field |
//! |---|---|
//! | 0 | version, 0x18 |
//! | 4 | change counter (Windows increments it, Wine writes 0) |
//! | 8 | flags: 0x1 direct access, 0x2 a named proxy |
//! | 12 | length N of the proxy server list, then N ASCII bytes |
//! | 16 + N | length M of the bypass list, then M ASCII bytes |
//!
//! The lists follow `WINHTTP_PROXY_INFO`: proxies `([<scheme>=][<scheme>"://"]<server>[":"<port>])`
//! and bypass names, each separated by semicolons or whitespace; `<local>` bypasses every name
//! without a period.

use super::bypass::{split_list, BypassList};
use super::proxy::{Proxy, ProxyUrlError};
use std::path::{Path, PathBuf};

/// The registry key, under HKEY_LOCAL_MACHINE.
pub const REGISTRY_KEY: &str =
    r"SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections";
/// The registry value.
pub const REGISTRY_VALUE: &str = "WinHttpSettings";
/// Where the settings are named in messages.
pub const ORIGIN: &str = r"WinHTTP (HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections\WinHttpSettings)";

const HEADER_LEN: usize = 12;
const FLAG_NAMED_PROXY: u32 = 0x2;

/// `WinHttpSettings` bytes that do not have the layout above.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("{0} bytes, shorter than the 20 of a direct-access value")]
    TooShort(usize),
    #[error("the {0} length is missing")]
    NoLength(&'static str),
    #[error(
        "the {what} ({len} bytes at offset {start}) runs past the end of the value ({total} bytes)"
    )]
    PastTheEnd {
        what: &'static str,
        len: usize,
        start: usize,
        total: usize,
    },
}

/// A `reg export` file without the value.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(
        "no \"{}\"=hex:... line in it (export the key with: reg export \"HKLM\\{}\" winhttp.reg)",
        REGISTRY_VALUE,
        REGISTRY_KEY
    )]
    NoValue,
    #[error("`{0}` is not a hex byte")]
    NotHex(String),
}

/// WinHTTP settings that cannot be read; every message names `--proxy-from-winhttp`.
#[derive(Debug, thiserror::Error)]
pub enum WinHttpError {
    #[error("--proxy-from-winhttp {}: cannot read it ({source})", .path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("--proxy-from-winhttp {}: {error}", .path.display())]
    Export { path: PathBuf, error: ExportError },
    #[error("--proxy-from-winhttp: {origin}: not a WinHttpSettings value: {error}")]
    NotSettings { origin: String, error: BlobError },
    #[cfg(windows)]
    #[error("--proxy-from-winhttp: {} is not a REG_BINARY value", ORIGIN)]
    NotBinary,
    #[cfg(not(windows))]
    #[error("--proxy-from-winhttp: the WinHTTP settings live in the Windows registry; off Windows, pass a file exported on the server with: reg export \"HKLM\\{}\" winhttp.reg", REGISTRY_KEY)]
    NoRegistry,
    #[error("--proxy-from-winhttp: {0}")]
    Proxy(ProxyUrlError),
}

impl crate::error::UserError for WinHttpError {}

/// What the `WinHttpSettings` value says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WinHttpSettings {
    /// The proxy server list; `None` is direct access.
    pub proxy_list: Option<String>,
    /// The bypass list, as stored.
    pub bypass: BypassList,
}

/// Parses the `WinHttpSettings` bytes.
pub fn parse(blob: &[u8]) -> Result<WinHttpSettings, BlobError> {
    let word = |at: usize| -> Option<u32> {
        let bytes = blob.get(at..at + 4)?;
        Some(u32::from_le_bytes(bytes.try_into().ok()?))
    };
    if blob.len() < HEADER_LEN + 8 {
        return Err(BlobError::TooShort(blob.len()));
    }
    let flags = word(8).unwrap_or(0);
    let mut at = HEADER_LEN;
    let mut string = |what: &'static str| -> Result<String, BlobError> {
        let len = word(at).ok_or(BlobError::NoLength(what))? as usize;
        let start = at + 4;
        let bytes = start
            .checked_add(len)
            .and_then(|end| blob.get(start..end))
            .ok_or(BlobError::PastTheEnd {
                what,
                len,
                start,
                total: blob.len(),
            })?;
        at = start + len;
        Ok(String::from_utf8_lossy(bytes).trim().to_string())
    };
    let proxy_list = string("proxy server list")?;
    let bypass = string("bypass list")?;
    let named = flags & FLAG_NAMED_PROXY != 0 && !proxy_list.is_empty();
    Ok(WinHttpSettings {
        proxy_list: named.then_some(proxy_list),
        bypass: if named {
            BypassList::parse(&bypass)
        } else {
            BypassList::default()
        },
    })
}

/// The `WinHttpSettings` bytes in a `reg export` file (REGEDIT4 or version 5, UTF-16 or UTF-8):
/// `"WinHttpSettings"=hex:18,00,...`, continued over lines ending in `\`.
pub fn from_reg_export(bytes: &[u8]) -> Result<Vec<u8>, ExportError> {
    let text = crate::windows_text::decode(bytes);
    let mut lines = text.lines();
    let needle = format!("\"{}\"=hex:", REGISTRY_VALUE.to_ascii_lowercase());
    let first = lines
        .by_ref()
        .find(|l| l.trim().to_ascii_lowercase().starts_with(&needle))
        .ok_or(ExportError::NoValue)?;
    let mut hex = first.trim()[needle.len()..].to_string();
    while hex.trim_end().ends_with('\\') {
        hex = hex.trim_end().trim_end_matches('\\').to_string();
        match lines.next() {
            Some(next) => hex.push_str(next.trim()),
            None => break,
        }
    }
    hex.split(',')
        .map(str::trim)
        .filter(|b| !b.is_empty())
        .map(|b| u8::from_str_radix(b, 16).map_err(|_| ExportError::NotHex(b.to_string())))
        .collect()
}

impl WinHttpSettings {
    /// The proxy WinHTTP uses for an `https://` URL: the first `https=` entry, else the first
    /// entry without a `scheme=` prefix; `None` for direct access or when only other schemes
    /// (`http=`, `socks=`) are named. `source` names the settings in messages.
    pub fn https_proxy(&self, source: &str) -> Result<Option<Proxy>, ProxyUrlError> {
        let Some(list) = &self.proxy_list else {
            return Ok(None);
        };
        let entries: Vec<&str> = split_list(list).collect();
        let for_https = entries.iter().find_map(|e| {
            let (scheme, server) = e.split_once('=')?;
            scheme.eq_ignore_ascii_case("https").then_some(server)
        });
        let any_scheme = || entries.iter().copied().find(|e| !e.contains('='));
        match for_https.or_else(any_scheme) {
            Some(server) => Proxy::parse(server, source).map(Some),
            None => Ok(None),
        }
    }

    /// How `netsh winhttp show proxy` would put it, in one line.
    pub fn describe(&self) -> String {
        match &self.proxy_list {
            None => "direct access (no proxy server)".into(),
            Some(list) if self.bypass.is_empty() => format!("proxy server(s) {list}"),
            Some(list) => format!("proxy server(s) {list}, bypass list {}", self.bypass),
        }
    }
}

/// Reads the settings: from `export` (a `reg export` file) when given, else from the registry
/// (Windows only). A missing value is direct access, as WinHTTP itself takes it.
pub fn read(export: Option<&Path>) -> Result<(String, WinHttpSettings), WinHttpError> {
    let (origin, blob) = match export {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|source| WinHttpError::Unreadable {
                path: path.to_path_buf(),
                source,
            })?;
            let blob = from_reg_export(&bytes).map_err(|error| WinHttpError::Export {
                path: path.to_path_buf(),
                error,
            })?;
            (format!("WinHTTP ({})", path.display()), Some(blob))
        }
        None => (ORIGIN.to_string(), read_registry()?),
    };
    let Some(blob) = blob else {
        return Ok((origin, WinHttpSettings::default()));
    };
    let settings = parse(&blob).map_err(|error| WinHttpError::NotSettings {
        origin: origin.clone(),
        error,
    })?;
    Ok((origin, settings))
}

/// The raw value, or `None` when WinHTTP was never configured (no key or no value).
#[cfg(windows)]
pub fn read_registry() -> Result<Option<Vec<u8>>, WinHttpError> {
    let key = match windows_registry::LOCAL_MACHINE.open(REGISTRY_KEY) {
        Ok(key) => key,
        Err(_) => return Ok(None),
    };
    match key.get_value(REGISTRY_VALUE) {
        Ok(value) if value.ty() == windows_registry::Type::Bytes => Ok(Some(value.to_vec())),
        Ok(_) => Err(WinHttpError::NotBinary),
        Err(_) => Ok(None),
    }
}

/// Off Windows there is no registry: the settings come from a `reg export` file.
#[cfg(not(windows))]
pub fn read_registry() -> Result<Option<Vec<u8>>, WinHttpError> {
    Err(WinHttpError::NoRegistry)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `netsh winhttp reset proxy`: Microsoft's direct-access bytes (KB 4494447).
    const DIRECT: &[u8] = &[
        0x18, 0, 0, 0, 0, 0, 0, 0, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];

    /// A value as Windows writes it (flags 0x3, the counter at 5).
    fn named(proxy: &str, bypass: &str) -> Vec<u8> {
        let mut blob = vec![0x18, 0, 0, 0, 5, 0, 0, 0, 0x03, 0, 0, 0];
        for s in [proxy, bypass] {
            blob.extend_from_slice(&(s.len() as u32).to_le_bytes());
            blob.extend_from_slice(s.as_bytes());
        }
        blob
    }

    #[test]
    fn direct_access_is_no_proxy() {
        let s = parse(DIRECT).unwrap();
        assert_eq!(s, WinHttpSettings::default());
        assert_eq!(s.https_proxy(ORIGIN).unwrap(), None);
        assert_eq!(s.describe(), "direct access (no proxy server)");
    }

    #[test]
    fn a_named_proxy_with_a_bypass_list() {
        // netsh winhttp set proxy proxy.contoso.com:8080 "localhost;*.contoso.com"
        let s = parse(&named("proxy.contoso.com:8080", "localhost;*.contoso.com")).unwrap();
        let p = s.https_proxy(ORIGIN).unwrap().unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy.contoso.com", 8080));
        assert!(s.bypass.matches("localhost"));
        assert!(s.bypass.matches("Files.CONTOSO.com"));
        assert!(!s.bypass.matches("contoso.com"));
        assert!(!s
            .bypass
            .matches("ssprdedicatedsbprodscu.servicebus.windows.net"));
        assert_eq!(
            s.describe(),
            "proxy server(s) proxy.contoso.com:8080, bypass list localhost;*.contoso.com"
        );
    }

    #[test]
    fn local_bypasses_names_without_a_period() {
        // netsh winhttp set proxy myproxy:80 "<local>;bar"
        let s = parse(&named("myproxy:80", "<local>;bar")).unwrap();
        assert!(s.bypass.matches("intranet"));
        assert!(s.bypass.matches("bar"));
        assert!(!s.bypass.matches("relay.servicebus.windows.net"));
        assert!(!s.bypass.matches("10.0.0.1"));
        let p = s.https_proxy(ORIGIN).unwrap().unwrap();
        assert_eq!((p.host.as_str(), p.port), ("myproxy", 80));
    }

    #[test]
    fn per_scheme_lists_pick_the_https_entry() {
        // netsh winhttp set proxy proxy-server="http=myproxy;https=sproxy:88" bypass-list="*.foo.com"
        let s = parse(&named("http=myproxy;https=sproxy:88", "*.foo.com")).unwrap();
        let p = s.https_proxy(ORIGIN).unwrap().unwrap();
        assert_eq!((p.host.as_str(), p.port), ("sproxy", 88));
        assert!(s.bypass.matches("a.foo.com") && !s.bypass.matches("foo.org"));
        // Only an http= entry: https URLs go direct.
        let http_only = parse(&named("http=myproxy:3128", "")).unwrap();
        assert_eq!(http_only.https_proxy(ORIGIN).unwrap(), None);
        // A scheme:// prefix names how to talk to the proxy, not which URLs use it.
        let url = parse(&named("http://wp.example:8080 backup:3128", "")).unwrap();
        assert_eq!(url.https_proxy(ORIGIN).unwrap().unwrap().host, "wp.example");
    }

    #[test]
    fn wines_writer_is_read_the_same() {
        // Wine's WinHttpSetDefaultProxyConfiguration writes flags 0x2 and a zero counter.
        let mut blob = named("proxy.corp.example:3128", "<local>");
        blob[4] = 0;
        blob[8] = 0x02;
        let s = parse(&blob).unwrap();
        assert_eq!(s.proxy_list.as_deref(), Some("proxy.corp.example:3128"));
        assert!(s.bypass.matches("sync01"));
    }

    #[test]
    fn a_stale_proxy_string_without_the_proxy_flag_is_direct() {
        let mut blob = named("old.proxy:8080", "");
        blob[8] = 0x01;
        assert_eq!(parse(&blob).unwrap().proxy_list, None);
    }

    #[test]
    fn broken_values_say_what_is_wrong() {
        assert!(parse(&DIRECT[..12])
            .unwrap_err()
            .to_string()
            .contains("12 bytes"));
        let mut blob = named("proxy:8080", "");
        blob[12] = 200;
        assert!(parse(&blob)
            .unwrap_err()
            .to_string()
            .contains("runs past the end"));
        let huge = [DIRECT[..12].to_vec(), vec![0xff; 8]].concat();
        assert!(parse(&huge).is_err());
    }

    #[test]
    fn reads_a_reg_export_file() {
        let export = "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections]\r\n\"DefaultConnectionSettings\"=hex:46,00,00,00\r\n\"WinHttpSettings\"=hex:18,00,00,00,00,00,00,00,03,00,00,00,0a,00,00,00,70,72,\\\r\n  6f,78,79,3a,38,30,38,30,07,00,00,00,3c,6c,6f,63,61,6c,3e\r\n";
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(export.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        for bytes in [export.as_bytes(), &utf16] {
            let s = parse(&from_reg_export(bytes).unwrap()).unwrap();
            assert_eq!(s.proxy_list.as_deref(), Some("proxy:8080"));
            assert!(s.bypass.matches("server"));
        }
        assert!(from_reg_export(b"REGEDIT4\n")
            .unwrap_err()
            .to_string()
            .contains("reg export"));
        assert!(from_reg_export(b"\"WinHttpSettings\"=hex:zz")
            .unwrap_err()
            .to_string()
            .contains("`zz`"));
    }
}
