//! The .NET `machine.config` `<system.net><defaultProxy>` section: the proxy the sync service
//! actually uses (it does not read WinHTTP or the user's Internet settings).

use super::proxy::{Proxy, ProxyUrlError};
use std::path::{Path, PathBuf};

/// The machine.config files of .NET Framework 4 under `windir` (`%WINDIR%`, else
/// `C:\Windows`): the 64-bit one first, which the sync service (a 64-bit process) reads, then
/// the 32-bit one.
pub fn default_paths(windir: Option<&str>) -> Vec<PathBuf> {
    let windir = windir
        .map(|w| w.trim_end_matches(['\\', '/']))
        .filter(|w| !w.is_empty())
        .unwrap_or(r"C:\Windows");
    ["Framework64", "Framework"]
        .iter()
        .map(|fw| {
            PathBuf::from(format!(
                r"{windir}\Microsoft.NET\{fw}\v4.0.30319\Config\machine.config"
            ))
        })
        .collect()
}

/// What the section says.
#[derive(Debug, Clone, PartialEq)]
pub struct DefaultProxy {
    /// `<proxy proxyaddress="...">`.
    pub proxy: Option<Proxy>,
    /// `bypassonlocal="true"`: local (dotless) names skip the proxy.
    pub bypass_on_local: bool,
    /// `usesystemdefault="true"`: .NET uses the Internet Explorer settings instead.
    pub use_system_default: bool,
    /// `useDefaultCredentials="true"`: the service authenticates as its own account
    /// (NTLM/Negotiate), which this probe cannot do.
    pub use_default_credentials: bool,
    /// `<defaultProxy enabled="false">`.
    pub enabled: bool,
    /// `<bypasslist><add address="regex"/>`: .NET regular expressions, reported only.
    pub bypass_list: Vec<String>,
}

/// A machine.config that gives no usable proxy setting.
#[derive(Debug, thiserror::Error)]
pub enum MachineConfigError {
    /// `tried`: the default paths, comma-separated.
    #[error("--proxy-from-machine-config: no machine.config at its default paths ({tried}); name the file")]
    NotFound { tried: String },
    #[error("--proxy-from-machine-config {}: cannot read it ({source})", .path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("machine.config {origin}: not valid XML: {error}")]
    NotXml {
        origin: String,
        error: roxmltree::Error,
    },
    #[error(transparent)]
    Proxy(#[from] ProxyUrlError),
}

impl crate::error::UserError for MachineConfigError {}

/// Reads `path`, or when `None` the first of [`default_paths`] that exists (`%WINDIR%` from the
/// environment).
pub fn read(path: Option<&Path>) -> Result<(PathBuf, DefaultProxy), MachineConfigError> {
    let path = match path {
        Some(p) => p.to_path_buf(),
        None => {
            let candidates = default_paths(std::env::var("WINDIR").ok().as_deref());
            match candidates.iter().find(|p| p.is_file()) {
                Some(found) => found.clone(),
                None => {
                    let tried: Vec<String> =
                        candidates.iter().map(|p| p.display().to_string()).collect();
                    return Err(MachineConfigError::NotFound {
                        tried: tried.join(", "),
                    });
                }
            }
        }
    };
    let text = std::fs::read_to_string(&path).map_err(|source| MachineConfigError::Unreadable {
        path: path.clone(),
        source,
    })?;
    let parsed = parse(&text, &path.display().to_string())?;
    Ok((path, parsed))
}

/// Parses machine.config text; `origin` names it in messages.
pub fn parse(text: &str, origin: &str) -> Result<DefaultProxy, MachineConfigError> {
    let doc = roxmltree::Document::parse(text).map_err(|error| MachineConfigError::NotXml {
        origin: origin.to_string(),
        error,
    })?;
    let mut result = DefaultProxy {
        proxy: None,
        bypass_on_local: false,
        use_system_default: false,
        use_default_credentials: false,
        enabled: true,
        bypass_list: Vec::new(),
    };
    let Some(section) = doc.descendants().find(|n| {
        n.has_tag_name("defaultProxy") && n.parent().is_some_and(|p| p.has_tag_name("system.net"))
    }) else {
        return Ok(result);
    };
    let truthy = |v: Option<&str>| v.is_some_and(|v| v.eq_ignore_ascii_case("true"));
    result.enabled = !section
        .attribute("enabled")
        .is_some_and(|v| v.eq_ignore_ascii_case("false"));
    result.use_default_credentials = truthy(section.attribute("useDefaultCredentials"));
    for child in section.children().filter(|c| c.is_element()) {
        if child.has_tag_name("proxy") {
            result.use_system_default = truthy(child.attribute("usesystemdefault"));
            result.bypass_on_local = truthy(child.attribute("bypassonlocal"));
            if let Some(address) = child.attribute("proxyaddress").filter(|a| !a.is_empty()) {
                let source = format!("machine.config {origin}");
                result.proxy = Some(Proxy::parse(address, &source)?);
            }
        } else if child.has_tag_name("bypasslist") {
            result.bypass_list = child
                .children()
                .filter(|c| c.has_tag_name("add"))
                .filter_map(|c| c.attribute("address").map(str::to_string))
                .collect();
        }
    }
    Ok(result)
}

impl DefaultProxy {
    /// Plain words for the report when the section does not name a usable proxy.
    pub fn why_no_proxy(&self) -> Option<String> {
        if !self.enabled {
            return Some("machine.config disables the default proxy (enabled=\"false\"): the sync service connects directly".into());
        }
        if self.proxy.is_some() {
            return None;
        }
        if self.use_system_default {
            return Some("machine.config asks for the system default proxy (usesystemdefault=\"true\"): the service then uses the Internet Explorer settings of its account, which this probe cannot read; pass that proxy with --proxy".into());
        }
        Some("machine.config sets no proxy: the sync service connects directly".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<configuration>
  <system.net>
    <defaultProxy useDefaultCredentials="true" enabled="true">
      <proxy usesystemdefault="false" proxyaddress="http://proxy.corp.example:8080" bypassonlocal="true" />
      <bypasslist><add address="[a-z]+\.corp\.example$" /></bypasslist>
    </defaultProxy>
  </system.net>
</configuration>"#;

    #[test]
    fn reads_the_default_proxy_section() {
        let d = parse(SAMPLE, "m.config").unwrap();
        let p = d.proxy.as_ref().unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy.corp.example", 8080));
        assert!(d.bypass_on_local && d.use_default_credentials && !d.use_system_default);
        assert_eq!(d.bypass_list.len(), 1);
        assert!(d.why_no_proxy().is_none());
    }

    #[test]
    fn says_when_there_is_no_proxy_or_the_system_default() {
        let none = parse("<configuration><system.net/></configuration>", "m").unwrap();
        assert!(none.why_no_proxy().unwrap().contains("sets no proxy"));
        let sys = parse(
            r#"<configuration><system.net><defaultProxy><proxy usesystemdefault="true"/></defaultProxy></system.net></configuration>"#,
            "m",
        )
        .unwrap();
        assert!(sys.why_no_proxy().unwrap().contains("system default"));
        assert!(parse("<configuration>", "m").is_err());
    }

    #[test]
    fn direct_disabled_and_local_bypass_fixtures() {
        // Unset: the section is there, but names no proxy (the shipped machine.config).
        let unset = parse(
            r#"<configuration><system.net><defaultProxy useDefaultCredentials="true"/></system.net></configuration>"#,
            "m",
        )
        .unwrap();
        assert!(unset.proxy.is_none() && unset.enabled);
        assert!(unset.why_no_proxy().unwrap().contains("connects directly"));
        // Disabled: a proxy named but switched off.
        let off = parse(
            r#"<configuration><system.net><defaultProxy enabled="false"><proxy proxyaddress="http://p:3128" bypassonlocal="false"/></defaultProxy></system.net></configuration>"#,
            "m",
        )
        .unwrap();
        assert!(off.proxy.is_some() && !off.enabled && !off.bypass_on_local);
        assert!(off.why_no_proxy().unwrap().contains("enabled=\"false\""));
        // Set, with bypassonlocal (.NET's <local>) and a bypass list of two regexes.
        let local = parse(
            r#"<configuration><system.net><defaultProxy><proxy proxyaddress="proxy.corp.example:8080" bypassonlocal="True"/><bypasslist><add address="10\.\d+\.\d+\.\d+"/><add address=".*\.corp\.example"/></bypasslist></defaultProxy></system.net></configuration>"#,
            "m",
        )
        .unwrap();
        assert!(local.bypass_on_local);
        assert_eq!(local.proxy.unwrap().port, 8080);
        assert_eq!(local.bypass_list.len(), 2);
    }

    #[test]
    fn default_paths_are_under_windir_64_bit_first() {
        let paths = default_paths(Some(r"D:\WINNT\"));
        assert_eq!(
            paths[0].to_string_lossy(),
            r"D:\WINNT\Microsoft.NET\Framework64\v4.0.30319\Config\machine.config"
        );
        assert_eq!(
            paths[1].to_string_lossy(),
            r"D:\WINNT\Microsoft.NET\Framework\v4.0.30319\Config\machine.config"
        );
        // Where .NET Framework 4 (64-bit) keeps it on a default Windows install.
        assert_eq!(
            default_paths(None)[0].to_string_lossy(),
            r"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Config\machine.config"
        );
    }
}
