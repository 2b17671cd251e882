//! How bytes reach the far end, every phase timed: resolve -> connect -> TLS.

pub mod body;
pub mod connect;
pub mod ending;
pub mod io;
pub mod machine_config;
pub mod path;
pub mod plain_http;
pub mod proxy;
pub mod resolve;
pub mod tls;

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

impl NetContext {
    /// The proxy `target` goes through, if any.
    pub fn proxy_for(&self, target: &Target) -> Option<&proxy::Proxy> {
        if target.direct {
            return None;
        }
        self.proxy.for_host(&target.host)
    }

    /// Where the first TCP connection for `target` goes.
    pub fn first_hop<'a>(&'a self, target: &'a Target) -> Hop<'a> {
        match self.proxy_for(target) {
            Some(p) => Hop {
                host: &p.host,
                port: p.port,
                proxy: Some(p),
            },
            None => Hop {
                host: &target.host,
                port: target.port,
                proxy: None,
            },
        }
    }
}

/// The `User-Agent` of every request the probe sends.
pub const USER_AGENT: &str = concat!("probe/", env!("CARGO_PKG_VERSION"));

/// ALPN offered on every TLS connection: the probe speaks HTTP/1.1 (WebSocket needs it).
pub const ALPN_HTTP1: &[&[u8]] = &[b"http/1.1"];
