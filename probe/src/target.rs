//! A parsed target: what to reach and which checks apply to it.

use relay_protocol::connection_string::Credential;
use relay_protocol::hc::{EntityPath, Namespace};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::IpAddr;

/// How the far end is spoken to, with what only that kind of target has; decides which checks
/// run.
#[derive(Debug, Clone, PartialEq)]
pub enum TargetKind {
    /// `https://`: TLS and an HTTP request; an Azure Relay namespace also gets its gateways and
    /// legacy ports checked.
    Https {
        relay_namespace: Option<RelayNamespace>,
    },
    /// `wss://`: TLS and a WebSocket upgrade.
    Wss,
    /// `tcp://host:port`: a TCP connect only (legacy relay ports, domain controllers).
    Tcp,
    /// `relay://host:port`: a mock-relay: TLS, `/healthz` and its WebSocket listener channel.
    Relay,
    /// An Active Directory domain (`--ad-domain`): its PDC emulator and domain controllers.
    AdDomain,
    /// `hc://NAMESPACE/ENTITY`: an Azure Relay hybrid connection (`--hybrid-connection`),
    /// spoken to as writeback speaks to its relay: a listener, a sender, and the rendezvous.
    Hc(Box<HybridConnection>),
}

/// An `https://` target that is an Azure Relay namespace (`relay_namespace = true`,
/// `--relay-namespace`): its gateways and legacy ports are checked too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RelayNamespace {
    /// Legacy relay ports (9350-9354, 5671) fail the target instead of warning.
    pub legacy_ports_required: bool,
}

/// The name of a [`TargetKind`], as the result document writes it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum TargetKindName {
    Https,
    Wss,
    Tcp,
    Relay,
    AdDomain,
    Hc,
}

impl TargetKindName {
    /// Every word, in declaration order.
    pub const ALL: &'static [TargetKindName] = <TargetKindName as strum::VariantArray>::VARIANTS;
}

impl TargetKind {
    /// A plain `https://` target (not a relay namespace).
    pub const HTTPS: TargetKind = TargetKind::Https {
        relay_namespace: None,
    };

    pub fn name(&self) -> TargetKindName {
        match self {
            TargetKind::Https { .. } => TargetKindName::Https,
            TargetKind::Wss => TargetKindName::Wss,
            TargetKind::Tcp => TargetKindName::Tcp,
            TargetKind::Relay => TargetKindName::Relay,
            TargetKind::AdDomain => TargetKindName::AdDomain,
            TargetKind::Hc(_) => TargetKindName::Hc,
        }
    }

    pub fn uses_tls(&self) -> bool {
        !matches!(self, TargetKind::Tcp | TargetKind::AdDomain)
    }
}

/// One endpoint to check.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// Label in reports; defaults to the host name.
    pub name: String,
    /// The URL as the user wrote it (credentials are never accepted in it).
    pub url: String,
    pub kind: TargetKind,
    /// Host name or address literal, without brackets.
    pub host: String,
    pub port: u16,
    /// Path and query for HTTP and WebSocket requests; `/` when absent.
    pub path: String,
    /// A failed required target fails the run; an optional one only warns.
    pub required: bool,
    /// HTTP status codes that count as a pass; empty means "any answer below 500".
    pub expect_status: Vec<u16>,
    /// Whether the idle-connection check applies (never for `tcp://`).
    pub idle: bool,
    /// Never through a proxy (the direct half of `--compare-direct`).
    pub direct: bool,
    /// Substrings of the issuers a genuine chain has; others mean TLS interception.
    pub expect_issuer: Vec<String>,
}

/// A hybrid connection to check: its namespace, its entities (the first for the listener and
/// rendezvous checks; every one for the idle ladder, one listener each) and the credential.
/// `Debug` shows the credential as `****`.
#[derive(Debug, Clone, PartialEq)]
pub struct HybridConnection {
    pub namespace: Namespace,
    /// The entity the listener and rendezvous checks use.
    pub entity: EntityPath,
    /// More entities of the same namespace and key, for the idle ladder (`--hc-entity`).
    pub more_entities: Vec<EntityPath>,
    pub credential: Credential,
    /// How long the tokens the probe signs are valid ([`relay_protocol::hc::SDK_TOKEN_LIFETIME`];
    /// shorter in rehearsals, `--hc-token-lifetime`); held listeners renew theirs ahead of it.
    pub token_lifetime: std::time::Duration,
}

impl HybridConnection {
    /// The entity the listener and rendezvous checks use.
    pub fn entity(&self) -> &EntityPath {
        &self.entity
    }

    /// Every entity, the first one first.
    pub fn entities(&self) -> Vec<&EntityPath> {
        std::iter::once(&self.entity)
            .chain(&self.more_entities)
            .collect()
    }
}

/// A target URL or AD domain that cannot be checked; `shown` is the URL without its credentials.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("`{shown}` is not a URL: {source}")]
    NotUrl {
        shown: String,
        source: url::ParseError,
    },
    #[error("`{0}`: a hybrid connection needs its credentials: use --hybrid-connection CONNECTION-STRING")]
    HcNeedsCredentials(String),
    #[error("`{shown}`: scheme `{scheme}` is not supported (use https://, wss://, tcp://host:port or relay://host:port)")]
    Scheme { shown: String, scheme: String },
    #[error("`{0}`: credentials do not belong in a target URL")]
    Credentials(String),
    #[error("`{0}`: the port after `:` is empty")]
    EmptyPort(String),
    #[error("`{0}` has no host")]
    NoHost(String),
    #[error("`{0}` needs a port (host:port)")]
    NoPort(String),
    #[error("`{0}`: port 0 cannot be connected to")]
    PortZero(String),
    #[error("`{0}` is not a DNS domain name")]
    NotDomain(String),
}

impl crate::error::UserError for TargetError {}

impl Target {
    /// Parses `https://`, `wss://`, `tcp://host:port` or `relay://host:port`.
    pub fn parse(url: &str) -> Result<Target, TargetError> {
        // Credentials never belong in a target URL, and never show in its errors either.
        let shown = redact_userinfo(url);
        let parsed = url::Url::parse(url).map_err(|source| TargetError::NotUrl {
            shown: shown.clone(),
            source,
        })?;
        let kind = match parsed.scheme() {
            "https" => TargetKind::HTTPS,
            "wss" => TargetKind::Wss,
            "tcp" => TargetKind::Tcp,
            "relay" => TargetKind::Relay,
            "hc" => return Err(TargetError::HcNeedsCredentials(shown)),
            other => {
                return Err(TargetError::Scheme {
                    shown,
                    scheme: other.to_string(),
                })
            }
        };
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(TargetError::Credentials(shown));
        }
        // `https://user:/pw@host` (or `:?`, `:#`) parses as host `user` with an empty port and
        // the password in the path: nobody means an empty port, so it is refused.
        if authority_of(url).ends_with(':') {
            return Err(TargetError::EmptyPort(shown));
        }
        let host = match parsed.host() {
            Some(url::Host::Domain(d)) => d.to_string(),
            Some(url::Host::Ipv4(a)) => a.to_string(),
            Some(url::Host::Ipv6(a)) => a.to_string(),
            None => return Err(TargetError::NoHost(shown)),
        };
        let port = match (parsed.port_or_known_default(), &kind) {
            (Some(p), _) => p,
            (None, TargetKind::Wss | TargetKind::Https { .. }) => 443,
            (None, _) => return Err(TargetError::NoPort(shown)),
        };
        if port == 0 {
            return Err(TargetError::PortZero(shown));
        }
        let mut path = parsed.path().to_string();
        if path.is_empty() {
            path.push('/');
        }
        if let Some(q) = parsed.query() {
            path.push('?');
            path.push_str(q);
        }
        Ok(Target {
            name: host.clone(),
            url: url.to_string(),
            idle: kind != TargetKind::Tcp,
            expect_issuer: match kind {
                // A mock-relay presents its own CA; anything else re-signed its traffic.
                TargetKind::Relay => vec!["mock-relay".to_string()],
                _ => Vec::new(),
            },
            kind,
            host,
            port,
            path,
            required: true,
            expect_status: Vec::new(),
            direct: false,
        })
    }

    /// A hybrid connection (`hc://NAMESPACE/ENTITY` in reports).
    pub fn hybrid_connection(hc: HybridConnection) -> Target {
        let namespace = &hc.namespace;
        let entity = hc.entity();
        let url = format!("hc://{namespace}/{entity}");
        let host = namespace
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Target {
            name: format!("{}/{entity}", namespace.host()),
            url,
            host,
            port: namespace.effective_port(),
            path: format!("{}{}", relay_protocol::hc::PATH_PREFIX, entity.encoded()),
            required: true,
            expect_status: Vec::new(),
            idle: true,
            direct: false,
            expect_issuer: Vec::new(),
            kind: TargetKind::Hc(Box::new(hc)),
        }
    }

    /// An Active Directory domain to find the PDC emulator of (`ad://DOMAIN` in reports).
    pub fn ad_domain(domain: &str) -> Result<Target, TargetError> {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        let valid = !domain.is_empty()
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !valid {
            return Err(TargetError::NotDomain(domain));
        }
        let mut target = Target::parse(&format!("tcp://{domain}:389"))?;
        target.kind = TargetKind::AdDomain;
        target.url = format!("ad://{domain}");
        target.name = format!("AD domain {domain}");
        target.idle = false;
        Ok(target)
    }

    /// The hybrid connection, for an `hc` target.
    pub fn hc(&self) -> Option<&HybridConnection> {
        match &self.kind {
            TargetKind::Hc(hc) => Some(hc),
            _ => None,
        }
    }

    /// How this target is an Azure Relay namespace, when it is one.
    pub fn relay_namespace(&self) -> Option<RelayNamespace> {
        match self.kind {
            TargetKind::Https { relay_namespace } => relay_namespace,
            _ => None,
        }
    }

    /// Marks an `https://` target as an Azure Relay namespace; `false` (and no change) for
    /// any other kind, which cannot be one.
    pub fn make_relay_namespace(&mut self, namespace: RelayNamespace) -> bool {
        match &mut self.kind {
            TargetKind::Https { relay_namespace } => {
                *relay_namespace = Some(namespace);
                true
            }
            _ => false,
        }
    }

    /// The host as an address, when the URL names one directly.
    pub fn ip_literal(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }

    /// The HTTP `Host` header: the authority, without the port when it is 443.
    pub fn host_header(&self) -> String {
        let authority = self.authority();
        match authority.strip_suffix(":443") {
            Some(h) => h.to_string(),
            None => authority,
        }
    }

    /// `host:port` with IPv6 literals bracketed, for Host headers and messages.
    pub fn authority(&self) -> String {
        match self.ip_literal() {
            Some(IpAddr::V6(a)) => format!("[{a}]:{}", self.port),
            _ => format!("{}:{}", self.host, self.port),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// The authority as written: from after `scheme://` to the first `/`, `?` or `#`.
fn authority_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// Replaces the user-information part of a URL with `****`, whatever else the URL holds, with
/// or without a scheme. It is taken to run to the *last* `@` of the text: a password that
/// holds `/`, `?`, `#`, `@` or `://` ends a strict parse's authority early, and must not show
/// all the same. Only a well-formed `scheme://` before it is kept. (A URL with an `@` in its
/// path loses a little more than its credentials, only in messages.)
pub fn redact_userinfo(url: &str) -> String {
    let Some((before, host)) = url.rsplit_once('@') else {
        return url.to_string();
    };
    let scheme = match before.find("://") {
        Some(i) => {
            let (scheme, _) = before.split_at(i + 3);
            let name = scheme.trim_end_matches("://");
            let well_formed = name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            if well_formed {
                scheme
            } else {
                ""
            }
        }
        None => "",
    };
    format!("{scheme}****@{host}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_scheme_with_default_ports() {
        let t = Target::parse("https://login.example.com").unwrap();
        assert_eq!(
            (t.kind, t.port, t.path.as_str()),
            (TargetKind::HTTPS, 443, "/")
        );
        let t = Target::parse("wss://relay.example.com/$hc/x?a=1").unwrap();
        assert_eq!(
            (t.kind, t.port, t.path.as_str()),
            (TargetKind::Wss, 443, "/$hc/x?a=1")
        );
        let t = Target::parse("tcp://[::1]:9350").unwrap();
        assert_eq!(
            (&t.kind, t.host.as_str(), t.port),
            (&TargetKind::Tcp, "::1", 9350)
        );
        assert_eq!(t.authority(), "[::1]:9350");
        let t = Target::parse("relay://127.0.0.1:8443").unwrap();
        assert_eq!(t.kind, TargetKind::Relay);
    }

    #[test]
    fn rejects_bad_urls_with_a_reason() {
        assert!(Target::parse("ftp://x")
            .unwrap_err()
            .to_string()
            .contains("scheme `ftp`"));
        assert!(Target::parse("tcp://x")
            .unwrap_err()
            .to_string()
            .contains("needs a port"));
        assert!(Target::parse("not a url")
            .unwrap_err()
            .to_string()
            .contains("not a URL"));
        let err = Target::parse("https://user:secret@x/")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn redacts_credentials() {
        assert_eq!(
            redact_userinfo("http://bob:hunter2@proxy:3128/"),
            "http://****@proxy:3128/"
        );
        assert_eq!(redact_userinfo("http://proxy:3128"), "http://proxy:3128");
        for leaky in [
            "http://u:pa/ss@proxy:3128",
            "http://u:pa#ss@proxy:3128",
            "http://u:pa?ss@proxy:3128",
            "http://u:pa@ss@proxy:3128",
            "u:pa/ss@proxy:3128",
            "u:pa://ss@proxy:3128",
            "http:/:pa@ss@proxy:3128",
        ] {
            let shown = redact_userinfo(leaky);
            assert!(
                !shown.contains("pa") && shown.ends_with("****@proxy:3128"),
                "{shown}"
            );
        }
        let err = Target::parse("https://u:secret@relay.example:99999/")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("secret"), "{err}");
        for leaky in [
            "https://u:/secret@relay.example/",
            "https://u:?secret@relay.example/",
            "https://u:#secret@relay.example/",
        ] {
            let err = Target::parse(leaky).unwrap_err().to_string();
            assert!(err.contains("port") && !err.contains("secret"), "{err}");
        }
    }
}
