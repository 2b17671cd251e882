//! Name resolution: hickory with its cache off (every lookup is timed for real), `--dns-server`,
//! and curl-style `--resolve HOST:PORT:ADDR` overrides.

use crate::error::UserError;
use crate::outcome::Outcome;
use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ProtocolConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::time::Duration;

/// A `--resolve` or `--dns-server` value that cannot be used; `given` is the whole value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveArgError {
    #[error("`{0}` is not HOST:PORT:ADDR (for example api.example.com:443:192.0.2.10)")]
    NotOverride(String),
    #[error("`{given}`: `{port}` is not a port number")]
    NotPort { given: String, port: String },
    #[error("`{given}`: `{address}` is not an IP address")]
    NotAddress { given: String, address: String },
    #[error("`{0}` is not IP[:PORT] (for example 198.51.100.53 or [2001:db8::53]:5353)")]
    NotServer(String),
}

/// A resolver that cannot be set up.
#[derive(Debug, thiserror::Error)]
pub enum ResolverError {
    #[error(
        "cannot read the system resolver configuration ({0}); name a server with --dns-server"
    )]
    SystemConfiguration(NetError),
    #[error("cannot set up the resolver: {0}")]
    Setup(NetError),
}

impl UserError for ResolverError {}

/// `--resolve HOST:PORT:ADDR[,ADDR...]`: answers for one host and port without asking DNS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolveOverride {
    pub host: String,
    pub port: u16,
    pub addresses: Vec<IpAddr>,
}

impl FromStr for ResolveOverride {
    type Err = ResolveArgError;

    fn from_str(s: &str) -> Result<Self, ResolveArgError> {
        let usage = || ResolveArgError::NotOverride(s.to_string());
        let (host, rest) = s.split_once(':').ok_or_else(usage)?;
        let (port, addrs) = rest.split_once(':').ok_or_else(usage)?;
        if host.is_empty() {
            return Err(usage());
        }
        let port: u16 = port.parse().map_err(|_| ResolveArgError::NotPort {
            given: s.to_string(),
            port: port.to_string(),
        })?;
        let addresses = addrs
            .split(',')
            .map(|a| {
                let a = a.trim().trim_start_matches('[').trim_end_matches(']');
                a.parse::<IpAddr>()
                    .map_err(|_| ResolveArgError::NotAddress {
                        given: s.to_string(),
                        address: a.to_string(),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ResolveOverride {
            host: host.to_ascii_lowercase(),
            port,
            addresses,
        })
    }
}

/// `--dns-server IP[:PORT]`.
pub fn parse_dns_server(s: &str) -> Result<SocketAddr, ResolveArgError> {
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok(sa);
    }
    let ip = s.trim_start_matches('[').trim_end_matches(']');
    ip.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| ResolveArgError::NotServer(s.to_string()))
}

/// Where the answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerSource {
    Dns,
    Override,
    Literal,
}

/// A successful resolution.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// IPv4 addresses first, then IPv6, each in the order the server gave them.
    pub addresses: Vec<IpAddr>,
    /// Every CNAME followed, in order (`name -> target`).
    pub cname_chain: Vec<String>,
    pub source: AnswerSource,
}

/// Why a name did not resolve.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolveFailure {
    Nxdomain,
    NoRecords,
    Servfail(String),
    Timeout,
    Other(String),
}

impl ResolveFailure {
    /// The vocabulary word for this failure.
    pub fn outcome(&self) -> Outcome {
        match self {
            ResolveFailure::Nxdomain => Outcome::Nxdomain,
            ResolveFailure::NoRecords => Outcome::NoRecords,
            ResolveFailure::Timeout => Outcome::Timeout,
            ResolveFailure::Servfail(_) | ResolveFailure::Other(_) => Outcome::Servfail,
        }
    }
}

impl fmt::Display for ResolveFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveFailure::Nxdomain => f.write_str("no such name (NXDOMAIN)"),
            ResolveFailure::NoRecords => f.write_str("the name has no address records"),
            ResolveFailure::Servfail(code) => write!(f, "the DNS server failed to answer ({code})"),
            ResolveFailure::Timeout => f.write_str("no DNS answer in time"),
            ResolveFailure::Other(why) => write!(f, "the lookup failed: {why}"),
        }
    }
}

/// The probe's resolver: one per run, shared by every check.
pub struct Resolver {
    inner: TokioResolver,
    overrides: Vec<ResolveOverride>,
    /// Human description of the servers asked, for messages.
    pub servers: String,
}

impl Resolver {
    /// `servers` empty: the system configuration (resolv.conf or the Windows registry).
    pub fn new(
        servers: &[SocketAddr],
        overrides: Vec<ResolveOverride>,
        timeout: Duration,
    ) -> Result<Resolver, ResolverError> {
        let provider = TokioRuntimeProvider::default();
        let (mut builder, description) = if servers.is_empty() {
            let builder =
                TokioResolver::builder(provider).map_err(ResolverError::SystemConfiguration)?;
            (builder, "the system resolver".to_string())
        } else {
            let name_servers = servers
                .iter()
                .map(|sa| {
                    let conn = |protocol| {
                        let mut c = ConnectionConfig::new(protocol);
                        c.port = sa.port();
                        c
                    };
                    NameServerConfig::new(
                        sa.ip(),
                        true,
                        vec![conn(ProtocolConfig::Udp), conn(ProtocolConfig::Tcp)],
                    )
                })
                .collect();
            let list: Vec<_> = servers.iter().map(|s| s.to_string()).collect();
            (
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(name_servers),
                    provider,
                ),
                list.join(", "),
            )
        };
        let opts: &mut ResolverOpts = builder.options_mut();
        opts.cache_size = 0;
        opts.timeout = timeout;
        opts.attempts = 1;
        opts.preserve_intermediates = true;
        opts.use_hosts_file = if servers.is_empty() {
            ResolveHosts::Always
        } else {
            ResolveHosts::Never
        };
        let inner = builder.build().map_err(ResolverError::Setup)?;
        Ok(Resolver {
            inner,
            overrides,
            servers: description,
        })
    }

    /// A resolver that asks no DNS server and reads no system configuration: for the demo,
    /// whose targets are address literals, so that it runs where there is no resolv.conf (an
    /// empty root, a bare container). A name would fail as `servfail`, saying so.
    pub fn literals_only(timeout: Duration) -> Result<Resolver, ResolverError> {
        let mut builder = TokioResolver::builder_with_config(
            ResolverConfig::from_name_servers(Vec::new()),
            TokioRuntimeProvider::default(),
        );
        let opts: &mut ResolverOpts = builder.options_mut();
        opts.cache_size = 0;
        opts.timeout = timeout;
        opts.attempts = 1;
        opts.use_hosts_file = ResolveHosts::Never;
        let inner = builder.build().map_err(ResolverError::Setup)?;
        Ok(Resolver {
            inner,
            overrides: Vec::new(),
            servers: "no DNS server (address literals only)".into(),
        })
    }

    /// Resolves `host` for `port`: overrides first, then address literals, then DNS (A and AAAA
    /// at once). The caller puts a deadline around it.
    pub async fn resolve(&self, host: &str, port: u16) -> Result<Resolution, ResolveFailure> {
        let lower = host.to_ascii_lowercase();
        if let Some(o) = self
            .overrides
            .iter()
            .find(|o| o.host == lower && o.port == port)
        {
            return Ok(Resolution {
                addresses: o.addresses.clone(),
                cname_chain: Vec::new(),
                source: AnswerSource::Override,
            });
        }
        if let Ok(ip) = host.parse::<IpAddr>() {
            return Ok(Resolution {
                addresses: vec![ip],
                cname_chain: Vec::new(),
                source: AnswerSource::Literal,
            });
        }
        // A fully qualified name asks exactly one question instead of walking the search list.
        let fqdn = if host.ends_with('.') {
            host.to_string()
        } else {
            format!("{host}.")
        };
        let (v4, v6) = tokio::join!(
            self.inner.lookup(fqdn.as_str(), RecordType::A),
            self.inner.lookup(fqdn.as_str(), RecordType::AAAA)
        );
        let mut addresses = Vec::new();
        let mut cname_chain = Vec::new();
        let mut failures = Vec::new();
        for result in [v4, v6] {
            match result {
                Ok(lookup) => {
                    for record in lookup.answers() {
                        match &record.data {
                            RData::A(a) => addresses.push(IpAddr::V4(a.0)),
                            RData::AAAA(a) => addresses.push(IpAddr::V6(a.0)),
                            RData::CNAME(c) => {
                                let link = format!(
                                    "{} -> {}",
                                    trim_dot(&record.name.to_string()),
                                    trim_dot(&c.0.to_string())
                                );
                                if !cname_chain.contains(&link) {
                                    cname_chain.push(link);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                Err(e) => failures.push(classify(&e)),
            }
        }
        addresses.dedup();
        if !addresses.is_empty() {
            return Ok(Resolution {
                addresses,
                cname_chain,
                source: AnswerSource::Dns,
            });
        }
        // Both failed (or answered with no address): report the most telling reason.
        let worst = failures
            .iter()
            .find(|f| matches!(f, ResolveFailure::Nxdomain))
            .or_else(|| {
                failures
                    .iter()
                    .find(|f| matches!(f, ResolveFailure::Servfail(_)))
            })
            .or_else(|| {
                failures
                    .iter()
                    .find(|f| matches!(f, ResolveFailure::Timeout))
            })
            .or_else(|| {
                failures
                    .iter()
                    .find(|f| matches!(f, ResolveFailure::Other(_)))
            })
            .cloned()
            .unwrap_or(ResolveFailure::NoRecords);
        Err(worst)
    }
}

/// One SRV answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvTarget {
    pub host: String,
    pub port: u16,
    pub priority: u16,
    pub weight: u16,
}

impl Resolver {
    /// SRV records of `name`, by priority (lowest first) then weight (highest first).
    pub async fn srv(&self, name: &str) -> Result<Vec<SrvTarget>, ResolveFailure> {
        let fqdn = if name.ends_with('.') {
            name.to_string()
        } else {
            format!("{name}.")
        };
        let lookup = self
            .inner
            .lookup(fqdn.as_str(), RecordType::SRV)
            .await
            .map_err(|e| classify(&e))?;
        let mut targets: Vec<SrvTarget> = lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::SRV(srv) => Some(SrvTarget {
                    host: trim_dot(&srv.target.to_string()).to_string(),
                    port: srv.port,
                    priority: srv.priority,
                    weight: srv.weight,
                }),
                _ => None,
            })
            .collect();
        targets.sort_by_key(|t| (t.priority, std::cmp::Reverse(t.weight)));
        if targets.is_empty() {
            return Err(ResolveFailure::NoRecords);
        }
        Ok(targets)
    }
}

fn trim_dot(s: &str) -> &str {
    s.strip_suffix('.').unwrap_or(s)
}

fn classify(e: &NetError) -> ResolveFailure {
    match e {
        NetError::Dns(DnsError::NoRecordsFound(nr))
            if nr.response_code == ResponseCode::NXDomain =>
        {
            ResolveFailure::Nxdomain
        }
        NetError::Dns(DnsError::NoRecordsFound(_)) => ResolveFailure::NoRecords,
        NetError::Dns(DnsError::ResponseCode(code)) => ResolveFailure::Servfail(code.to_string()),
        NetError::Timeout => ResolveFailure::Timeout,
        NetError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => ResolveFailure::Timeout,
        other => ResolveFailure::Other(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_curl_style_overrides() {
        let o: ResolveOverride = "Relay.Example:443:192.0.2.1,[2001:db8::1]".parse().unwrap();
        assert_eq!(o.host, "relay.example");
        assert_eq!(o.port, 443);
        assert_eq!(o.addresses.len(), 2);
        assert!("relay.example:443".parse::<ResolveOverride>().is_err());
        assert!("relay.example:x:192.0.2.1"
            .parse::<ResolveOverride>()
            .unwrap_err()
            .to_string()
            .contains("port"));
    }

    #[test]
    fn parses_dns_servers_with_and_without_port() {
        assert_eq!(parse_dns_server("192.0.2.53").unwrap().port(), 53);
        assert_eq!(parse_dns_server("192.0.2.53:5353").unwrap().port(), 5353);
        assert_eq!(
            parse_dns_server("[2001:db8::53]:5353").unwrap().port(),
            5353
        );
        assert!(parse_dns_server("dns.example").is_err());
    }
}
