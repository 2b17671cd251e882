//! How bytes reach the far end, every phase timed: resolve -> connect -> TLS.

pub mod anchors;
pub mod body;
pub mod bypass;
pub mod cert;
pub mod connect;
pub mod ending;
pub mod hc;
pub mod io;
pub mod keep_alive;
pub mod machine_config;
pub mod path;
pub mod plain_http;
pub mod proxy;
pub mod proxy_sources;
pub mod resolve;
pub mod tcp_info;
pub mod tls;
pub mod websocket;
pub mod winhttp;

use crate::target::Target;
use std::time::Duration;

/// Everything a check needs to reach a target; one per run, shared by every check.
pub struct NetContext {
    pub resolver: resolve::Resolver,
    pub tls: tls::TlsSetup,
    /// Deadline of each phase (`--timeout`).
    pub timeout: Duration,
    pub socket: connect::SocketOptions,
    /// The forward proxy, if any, and the hosts that bypass it.
    pub proxy: proxy::ProxyRoute,
}

/// The first network hop towards a target: the target itself, or its proxy.
pub struct Hop<'a> {
    pub host: &'a str,
    pub port: u16,
    pub proxy: Option<&'a proxy::Proxy>,
}

/// A far end to open a connection to: a target, or a host a target sent us to (a Hybrid
/// Connection's rendezvous address).
#[derive(Debug, Clone, Copy)]
pub struct Endpoint<'a> {
    pub host: &'a str,
    pub port: u16,
    /// Never through a proxy (the direct half of `--compare-direct`).
    pub direct: bool,
}

impl<'a> Endpoint<'a> {
    pub fn of(target: &'a Target) -> Endpoint<'a> {
        Endpoint {
            host: &target.host,
            port: target.port,
            direct: target.direct,
        }
    }

    /// `host:port` with IPv6 literals bracketed, as a CONNECT request names it.
    pub fn authority(&self) -> String {
        match self.host.parse::<std::net::IpAddr>() {
            Ok(std::net::IpAddr::V6(a)) => format!("[{a}]:{}", self.port),
            _ => format!("{}:{}", self.host, self.port),
        }
    }
}

impl NetContext {
    /// The proxy `target` goes through, if any.
    pub fn proxy_for(&self, target: &Target) -> Option<&proxy::Proxy> {
        self.proxy_to(&Endpoint::of(target))
    }

    /// The proxy a connection to `endpoint` goes through, if any.
    pub fn proxy_to(&self, endpoint: &Endpoint<'_>) -> Option<&proxy::Proxy> {
        if endpoint.direct {
            return None;
        }
        self.proxy.for_host(endpoint.host)
    }

    /// Where the first TCP connection for `target` goes.
    pub fn first_hop<'a>(&'a self, target: &'a Target) -> Hop<'a> {
        self.hop_to(Endpoint::of(target))
    }

    /// Where the first TCP connection towards `endpoint` goes: the proxy, or the endpoint.
    pub fn hop_to<'a>(&'a self, endpoint: Endpoint<'a>) -> Hop<'a> {
        match self.proxy_to(&endpoint) {
            Some(p) => Hop {
                host: &p.host,
                port: p.port,
                proxy: Some(p),
            },
            None => Hop {
                host: endpoint.host,
                port: endpoint.port,
                proxy: None,
            },
        }
    }
}

/// The `User-Agent` of every request the probe sends.
pub const USER_AGENT: &str = concat!("probe/", env!("CARGO_PKG_VERSION"));

/// ALPN offered on every TLS connection: the probe speaks HTTP/1.1 (WebSocket needs it).
pub const ALPN_HTTP1: &[&[u8]] = &[b"http/1.1"];
