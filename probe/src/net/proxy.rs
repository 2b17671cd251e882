//! Forward proxies: which one applies to a target (flags, scenario, environment with curl's
//! `NO_PROXY` semantics), and the HTTP CONNECT tunnel through it (`tunnel`), classified the way
//! a network team reads a proxy's answer.

pub mod block_page;
pub mod challenge;
mod connect_request;
#[cfg(unix)]
mod gssapi;
pub mod logon;
pub mod negotiate;
mod ntlm;
mod refusal;
#[cfg(windows)]
mod sspi;
mod tunnel;

pub use connect_request::Tunnel;
pub use refusal::{AuthSent, ConnectRefusal, HandshakeError, LogonEnd, LogonRefusal};
pub use tunnel::{connect_tunnel, ProxyAuth};

use percent_encoding::percent_decode_str;
use std::fmt;
use std::net::IpAddr;

/// An HTTP forward proxy. Credentials never leave this type except in the CONNECT header.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    pub host: String,
    pub port: u16,
    credentials: Option<(String, String)>,
    /// Where the proxy came from, for messages (`--proxy`, `HTTPS_PROXY`, a machine.config).
    pub source: String,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Proxy({} from {})", self.redacted(), self.source)
    }
}

/// A proxy URL that cannot be used; `origin` says where it came from (a flag, a variable, a
/// file), `shown` is the URL without its credentials.
#[derive(Debug, thiserror::Error)]
pub enum ProxyUrlError {
    #[error("{origin}: `{shown}` is not a proxy URL: {source}")]
    NotUrl {
        origin: String,
        shown: String,
        source: url::ParseError,
    },
    #[error("{origin}: `{shown}`: only http:// proxies are supported (the tunnel to the target is TLS already)")]
    NotHttp { origin: String, shown: String },
    #[error("{origin}: `{shown}` has no host")]
    NoHost { origin: String, shown: String },
    #[error("{origin}: `{shown}`: a proxy URL is http://[USER:PASSWORD@]HOST:PORT, with no path, query or fragment (a `/`, `?` or `#` in the password must be percent-encoded: %2F, %3F, %23)")]
    HasPath { origin: String, shown: String },
}

impl crate::error::UserError for ProxyUrlError {}

impl Proxy {
    /// Parses `http://[user:pass@]host:port` (a bare `host:port` is taken as http://).
    pub fn parse(url: &str, source: &str) -> Result<Proxy, ProxyUrlError> {
        let shown = crate::target::redact_userinfo(url);
        let with_scheme = if url.contains("://") {
            url.to_string()
        } else {
            format!("http://{url}")
        };
        let origin = source.to_string();
        let parsed = url::Url::parse(&with_scheme).map_err(|e| ProxyUrlError::NotUrl {
            origin: origin.clone(),
            shown: shown.clone(),
            source: e,
        })?;
        if parsed.scheme() != "http" {
            return Err(ProxyUrlError::NotHttp { origin, shown });
        }
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            None => return Err(ProxyUrlError::NoHost { origin, shown }),
        };
        if !matches!(parsed.path(), "" | "/")
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            return Err(ProxyUrlError::HasPath { origin, shown });
        }
        let port = parsed.port().unwrap_or(80);
        let credentials = if parsed.username().is_empty() {
            None
        } else {
            // Percent-decoding, as curl does: `+` is a plus here, not a space (that is form
            // encoding, for query strings).
            let decode = |s: &str| percent_decode_str(s).decode_utf8_lossy().into_owned();
            Some((
                decode(parsed.username()),
                decode(parsed.password().unwrap_or("")),
            ))
        };
        Ok(Proxy {
            host,
            port,
            credentials,
            source: source.to_string(),
        })
    }

    /// `http://host:port`, or `http://****@host:port` when it carries credentials.
    pub fn redacted(&self) -> String {
        let host = match self.host.parse::<IpAddr>() {
            Ok(IpAddr::V6(a)) => format!("[{a}]"),
            _ => self.host.clone(),
        };
        let auth = if self.credentials.is_some() {
            "****@"
        } else {
            ""
        };
        format!("http://{auth}{host}:{}", self.port)
    }

    pub fn has_credentials(&self) -> bool {
        self.credentials.is_some()
    }

    /// `(user, password)` from the URL, percent-decoded: for the `Proxy-Authorization` of the
    /// CONNECT only, never for a message.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(u, p)| (u.as_str(), p.as_str()))
    }
}

/// curl's `NO_PROXY`: comma-separated names (suffix match on a label boundary, a leading dot
/// allowed), IP addresses, CIDR ranges, or `*` for everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NoProxy {
    entries: Vec<String>,
}

impl NoProxy {
    pub fn parse(list: &str) -> NoProxy {
        NoProxy {
            entries: list
                .split(',')
                .map(|e| e.trim().trim_start_matches('.').to_ascii_lowercase())
                .filter(|e| !e.is_empty())
                .collect(),
        }
    }

    pub fn matches(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let ip = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|entry| {
            if entry == "*" {
                return true;
            }
            if let (Some(ip), Some((net, bits))) = (ip, entry.split_once('/')) {
                return cidr_contains(net, bits, ip);
            }
            host == *entry || host.ends_with(&format!(".{entry}"))
        })
    }
}

fn cidr_contains(net: &str, bits: &str, ip: IpAddr) -> bool {
    let (Ok(net), Ok(bits)) = (net.parse::<IpAddr>(), bits.parse::<u32>()) else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(a)) if bits <= 32 => {
            let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
            u32::from(n) & mask == u32::from(a) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(a)) if bits <= 128 => {
            let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
            u128::from(n) & mask == u128::from(a) & mask
        }
        _ => false,
    }
}

/// The proxy chosen for a run, and the hosts that bypass it.
#[derive(Debug, Clone, Default)]
pub struct ProxyRoute {
    pub proxy: Option<Proxy>,
    pub no_proxy: NoProxy,
    /// The proxy source's own bypass list (WinHTTP's), applied beside `NO_PROXY`.
    pub bypass: Option<super::bypass::BypassList>,
    /// How to answer the proxy's request for credentials (`--proxy-auth`).
    pub auth: ProxyAuth,
}

impl ProxyRoute {
    /// The proxy for `host`, unless it is bypassed.
    pub fn for_host(&self, host: &str) -> Option<&Proxy> {
        let bypassed = self.bypass.as_ref().is_some_and(|b| b.matches(host));
        self.proxy
            .as_ref()
            .filter(|_| !bypassed && !self.no_proxy.matches(host))
    }

    /// From the environment, as curl reads it: `https_proxy`, `HTTPS_PROXY`, `all_proxy`,
    /// `ALL_PROXY`; `no_proxy`/`NO_PROXY`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<ProxyRoute, ProxyUrlError> {
        let non_empty = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let proxy = ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
            .iter()
            .find_map(|k| non_empty(k).map(|v| (k, v)))
            .map(|(k, v)| Proxy::parse(&v, k))
            .transpose()?;
        let no_proxy = non_empty("no_proxy")
            .or_else(|| non_empty("NO_PROXY"))
            .map(|v| NoProxy::parse(&v))
            .unwrap_or_default();
        Ok(ProxyRoute {
            proxy,
            no_proxy,
            bypass: None,
            auth: ProxyAuth::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_redacts_credentials() {
        let p = Proxy::parse("http://svc%40corp:s3cr%3At@proxy.corp:3128", "--proxy").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy.corp", 3128));
        assert_eq!(p.redacted(), "http://****@proxy.corp:3128");
        assert_eq!(p.credentials, Some(("svc@corp".into(), "s3cr:t".into())));
        assert!(!format!("{p:?}").contains("s3cr"));
        let bare = Proxy::parse("10.0.0.1:8080", "--proxy").unwrap();
        assert_eq!(bare.redacted(), "http://10.0.0.1:8080");
        let err = Proxy::parse("socks5://u:pw@p:1080", "--proxy")
            .unwrap_err()
            .to_string();
        assert!(err.contains("only http://") && !err.contains("pw"), "{err}");
        let plus = Proxy::parse("http://a+b:c+d%2Be%20f@p:3128", "--proxy").unwrap();
        assert_eq!(plus.credentials, Some(("a+b".into(), "c+d+e f".into())));
        for leaky in [
            "u:secret@127.0.0.1:99999",
            "http://u:1234/secret@p:3128",
            "http://u:se#cret@p:3128",
            "http://u:se?cret@p:3128",
        ] {
            let err = Proxy::parse(leaky, "HTTPS_PROXY").unwrap_err().to_string();
            assert!(
                !err.contains("cret") && err.starts_with("HTTPS_PROXY"),
                "{err}"
            );
        }
    }

    #[test]
    fn no_proxy_has_curl_semantics() {
        let n = NoProxy::parse("localhost, .corp.example,192.0.2.0/24 ,::1");
        assert!(n.matches("localhost"));
        assert!(n.matches("a.corp.example"));
        assert!(n.matches("corp.example"));
        assert!(!n.matches("notcorp.example"));
        assert!(n.matches("192.0.2.77"));
        assert!(!n.matches("192.0.3.1"));
        assert!(n.matches("::1"));
        assert!(NoProxy::parse("*").matches("anything.example"));
    }

    #[test]
    fn environment_order_is_curls() {
        let env = |k: &str| match k {
            "HTTPS_PROXY" => Some("http://upper:3128".to_string()),
            "ALL_PROXY" => Some("http://all:3128".to_string()),
            "NO_PROXY" => Some("relay.example".to_string()),
            _ => None,
        };
        let route = ProxyRoute::from_env(env).unwrap();
        assert_eq!(route.proxy.as_ref().unwrap().host, "upper");
        assert!(route.for_host("relay.example").is_none());
        assert!(route.for_host("other.example").is_some());
    }
}
