//! The proxy settings of a Windows sync server: the .NET machine.config, which the sync service
//! uses, and WinHTTP (`netsh winhttp`), which admins often set instead. One of them chooses the
//! proxy of the run; the other is read beside it when it can be (on Windows), and the report
//! says when they disagree.

use super::bypass::BypassList;
use super::machine_config::{self, DefaultProxy};
use super::proxy::Proxy;
use super::winhttp::{self, WinHttpSettings};
use crate::error::ConfigError;
use std::path::Path;

/// The proxy chosen from the Windows sources.
#[derive(Debug, Default)]
pub struct Chosen {
    pub proxy: Option<Proxy>,
    /// WinHTTP's bypass list, when WinHTTP chose.
    pub bypass: Option<BypassList>,
    /// What the report should say about the sources.
    pub notes: Vec<String>,
}

/// `--proxy-from-machine-config [PATH]` and `--proxy-from-winhttp [FILE]` (each `None` when
/// not given, `Some(None)` without a value). machine.config decides when given; WinHTTP
/// otherwise.
pub fn choose(
    machine_config_flag: Option<Option<&Path>>,
    winhttp_flag: Option<Option<&Path>>,
) -> Result<Chosen, ConfigError> {
    let machine = match machine_config_flag {
        Some(path) => Some(machine_config::read(path)?),
        // Beside WinHTTP only where the defaults exist; a missing file is no news.
        None if cfg!(windows) => machine_config::read(None).ok(),
        None => None,
    };
    let winhttp = match winhttp_flag {
        Some(file) => Some(winhttp::read(file)?),
        None if cfg!(windows) => winhttp::read(None).ok(),
        None => None,
    };
    let mut chosen = Chosen::default();
    if let Some((path, section)) = &machine.as_ref().filter(|_| machine_config_flag.is_some()) {
        chosen.notes.extend(machine_config_notes(path, section));
        chosen.proxy = section.proxy.clone().filter(|_| section.enabled);
    } else if let Some((origin, settings)) = &winhttp {
        chosen
            .notes
            .push(format!("{origin}: {}", settings.describe()));
        chosen.proxy = settings
            .https_proxy(origin)
            .map_err(winhttp::WinHttpError::Proxy)?;
        if chosen.proxy.is_none() && settings.proxy_list.is_some() {
            chosen.notes.push(format!(
                "{origin} names no proxy for https:// (only other schemes): WinHTTP connects to these endpoints directly"
            ));
        }
        chosen.bypass = Some(settings.bypass.clone()).filter(|b| !b.is_empty());
    }
    if let (Some((path, section)), Some((origin, settings))) = (&machine, &winhttp) {
        chosen.notes.extend(disagreement(
            &path.display().to_string(),
            section,
            origin,
            settings,
        ));
    }
    Ok(chosen)
}

/// What the report says about a machine.config section it uses.
fn machine_config_notes(path: &Path, section: &DefaultProxy) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(why) = section.why_no_proxy() {
        notes.push(format!("{}: {why}", path.display()));
    }
    if section.use_default_credentials {
        notes.push(format!(
            "{}: useDefaultCredentials=\"true\": the sync service authenticates to the proxy as its own account (NTLM/Negotiate), which this probe cannot do without that account's password; a 407 here may not happen to the service (test NTLM with --proxy http://DOMAIN%5Cuser:PASSWORD@HOST:PORT --proxy-auth ntlm)",
            path.display()
        ));
    }
    notes
}

/// A note when machine.config and WinHTTP send writeback's traffic different ways.
pub fn disagreement(
    machine_origin: &str,
    section: &DefaultProxy,
    winhttp_origin: &str,
    settings: &WinHttpSettings,
) -> Option<String> {
    if section.use_system_default && section.proxy.is_none() {
        // machine.config defers to the service account's own settings: nothing to compare.
        return None;
    }
    let machine = section
        .proxy
        .as_ref()
        .filter(|_| section.enabled)
        .map(|p| (p.host.to_ascii_lowercase(), p.port));
    let winhttp = settings
        .https_proxy(winhttp_origin)
        .ok()
        .flatten()
        .map(|p| (p.host.to_ascii_lowercase(), p.port));
    if machine == winhttp {
        return None;
    }
    let said = |p: &Option<(String, u16)>| match p {
        Some((host, port)) => format!("proxy {host}:{port}"),
        None => "direct".to_string(),
    };
    let advice = if machine.is_none() {
        "The sync service follows machine.config and ignores WinHTTP (netsh winhttp): if writeback must use that proxy, set <defaultProxy> in machine.config and restart the ADSync service"
    } else {
        "The sync service follows machine.config; other services on this server (WinHTTP clients) take the other way"
    };
    Some(format!(
        "machine.config and WinHTTP disagree: {machine_origin} says {}, {winhttp_origin} says {} ({}). {advice}",
        said(&machine),
        said(&winhttp),
        settings.describe()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine(xml_proxy: &str) -> DefaultProxy {
        machine_config::parse(
            &format!("<configuration><system.net><defaultProxy>{xml_proxy}</defaultProxy></system.net></configuration>"),
            "m",
        )
        .unwrap()
    }

    fn winhttp(proxy: Option<&str>, bypass: &str) -> WinHttpSettings {
        WinHttpSettings {
            proxy_list: proxy.map(str::to_string),
            bypass: BypassList::parse(bypass),
        }
    }

    #[test]
    fn only_winhttp_set_is_a_disagreement() {
        let note = disagreement(
            "m.config",
            &machine(""),
            "WinHTTP",
            &winhttp(Some("proxy.corp.example:8080"), "<local>"),
        )
        .unwrap();
        assert!(
            note.contains("m.config says direct, WinHTTP says proxy proxy.corp.example:8080"),
            "{note}"
        );
        assert!(
            note.contains("set <defaultProxy> in machine.config"),
            "{note}"
        );
        let only_machine = disagreement(
            "m.config",
            &machine(r#"<proxy proxyaddress="http://p.corp.example:3128"/>"#),
            "WinHTTP",
            &winhttp(None, ""),
        )
        .unwrap();
        assert!(
            only_machine.contains("m.config says proxy p.corp.example:3128, WinHTTP says direct")
                && only_machine.contains("other services"),
            "{only_machine}"
        );
    }

    #[test]
    fn the_same_proxy_or_both_direct_agree() {
        let set = machine(r#"<proxy proxyaddress="http://Proxy.corp.example:8080"/>"#);
        let same = winhttp(Some("https=proxy.corp.example:8080"), "");
        assert_eq!(disagreement("m", &set, "w", &same), None);
        assert_eq!(
            disagreement("m", &machine(""), "w", &winhttp(None, "")),
            None
        );
        // usesystemdefault: machine.config names no proxy of its own to compare.
        let sys = machine(r#"<proxy usesystemdefault="true"/>"#);
        assert_eq!(disagreement("m", &sys, "w", &same), None);
    }

    #[test]
    fn a_disabled_machine_config_proxy_is_direct() {
        let off = machine_config::parse(
            r#"<configuration><system.net><defaultProxy enabled="false"><proxy proxyaddress="http://p:3128"/></defaultProxy></system.net></configuration>"#,
            "m",
        )
        .unwrap();
        let note = disagreement("m", &off, "w", &winhttp(Some("p:3128"), "")).unwrap();
        assert!(
            note.contains("m says direct, w says proxy p:3128"),
            "{note}"
        );
    }
}
