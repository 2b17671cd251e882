//! How bytes reach the far end, every phase timed: resolve -> connect -> TLS.

pub mod connect;
pub mod ending;
pub mod io;
pub mod path;
pub mod resolve;
pub mod tls;

use std::time::Duration;

/// Everything a check needs to reach a target; one per run, shared by every check.
pub struct NetContext {
    pub resolver: resolve::Resolver,
    pub tls: tls::TlsSetup,
    /// Deadline of each phase (`--timeout`).
    pub timeout: Duration,
    pub socket: connect::SocketOptions,
}

/// ALPN offered on every TLS connection: the probe speaks HTTP/1.1 (WebSocket needs it).
pub const ALPN_HTTP1: &[&[u8]] = &[b"http/1.1"];
