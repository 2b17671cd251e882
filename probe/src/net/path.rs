//! One connection to a target, phase by phase: resolve -> connect -> TLS. Used wherever a check
//! needs a fresh connection of its own (WebSocket to a relay, the idle ladder), so phase timings
//! mean the same thing everywhere.

use super::connect::{self, ConnectFailure};
use super::io::Io;
use super::proxy::block_page;
use super::resolve::ResolveFailure;
use super::tls::TlsFailure;
use super::{Endpoint, NetContext, ALPN_HTTP1};
use crate::target::Target;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio_rustls::client::TlsStream;

/// Why a connection could not be opened, by phase.
#[derive(Debug, Clone, PartialEq)]
pub enum PathError {
    Resolve(ResolveFailure),
    /// Resolution took longer than the deadline.
    ResolveTimeout,
    Connect(SocketAddr, ConnectFailure),
    /// The proxy did not open a tunnel.
    Proxy(super::proxy::ConnectRefusal),
    Tls(TlsFailure),
    TlsTimeout,
    /// The proxy opened the tunnel, then sent a page of its own instead of the TLS handshake.
    BlockPage(super::proxy::block_page::BlockPage),
}

impl PathError {
    /// The vocabulary word for the phase that failed and how.
    pub fn outcome(&self) -> crate::outcome::Outcome {
        use crate::outcome::Outcome;
        match self {
            PathError::Resolve(r) => r.outcome(),
            PathError::ResolveTimeout
            | PathError::TlsTimeout
            | PathError::Proxy(super::proxy::ConnectRefusal::Timeout) => Outcome::Timeout,
            PathError::Connect(_, c) => c.outcome(),
            PathError::Proxy(r) => r.outcome(),
            PathError::BlockPage(_) => Outcome::ProxyBlockPage,
            PathError::Tls(t) => t.outcome(),
        }
    }
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathError::Resolve(r) => write!(f, "name resolution failed: {r}"),
            PathError::ResolveTimeout => f.write_str("name resolution timed out"),
            PathError::Connect(a, c) => write!(f, "TCP connect to {a} failed: {c}"),
            PathError::Proxy(r) => write!(f, "the proxy refused the tunnel: {r}"),
            PathError::Tls(t) => write!(f, "TLS handshake failed: {t}"),
            PathError::TlsTimeout => f.write_str("TLS handshake timed out"),
            PathError::BlockPage(page) => write!(
                f,
                "the proxy sent a block page instead of the TLS handshake: {}",
                page.describe()
            ),
        }
    }
}

/// Durations of the phases a connection went through.
#[derive(Debug, Clone, Copy, Default)]
pub struct PathTimings {
    pub resolve: Duration,
    pub connect: Duration,
    pub tls: Duration,
}

/// An open TLS connection and how long each phase took.
pub struct Opened {
    pub stream: TlsStream<Io>,
    pub peer: SocketAddr,
    pub timings: PathTimings,
    /// The kernel's view of the TCP connection under it (to the far end, or to the proxy).
    pub tcp: Option<super::tcp_info::Handle>,
}

/// Opens a TLS connection to the first address of `target` that accepts one.
pub async fn open_tls(ctx: &NetContext, target: &Target) -> Result<Opened, PathError> {
    open_tls_with(ctx, target, &ctx.socket).await
}

/// [`open_tls`] with other socket options (the idle check's keepalive variant).
pub async fn open_tls_with(
    ctx: &NetContext,
    target: &Target,
    socket: &connect::SocketOptions,
) -> Result<Opened, PathError> {
    open_tls_at(ctx, Endpoint::of(target), socket).await
}

/// Opens a TLS connection to `endpoint` (the server name is its host), through the proxy that
/// applies to it.
pub async fn open_tls_at(
    ctx: &NetContext,
    endpoint: Endpoint<'_>,
    socket: &connect::SocketOptions,
) -> Result<Opened, PathError> {
    let started = Instant::now();
    let hop = ctx.hop_to(endpoint);
    let resolution =
        match tokio::time::timeout(ctx.timeout, ctx.resolver.resolve(hop.host, hop.port)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => return Err(PathError::Resolve(e)),
            Err(_) => return Err(PathError::ResolveTimeout),
        };
    let resolve = started.elapsed();
    let started = Instant::now();
    let addrs: Vec<SocketAddr> = resolution
        .addresses
        .iter()
        .map(|ip| SocketAddr::new(*ip, hop.port))
        .collect();
    let (peer, tcp) = connect::connect_first(&addrs, ctx.timeout, socket)
        .await
        .map_err(|last| match last {
            Some((addr, failure)) => PathError::Connect(addr, failure),
            None => PathError::Resolve(ResolveFailure::NoRecords),
        })?;
    let connect = started.elapsed();
    let started = Instant::now();
    let handle = super::tcp_info::Handle::of(&tcp);
    let mut io: Io = Box::new(tcp);
    let mut first_bytes = None;
    if let Some(proxy) = hop.proxy {
        let tunnel = super::proxy::connect_tunnel(
            io,
            proxy,
            ctx.proxy.auth,
            &endpoint.authority(),
            ctx.timeout,
        )
        .await
        .map_err(PathError::Proxy)?;
        first_bytes = Some(tunnel.first_bytes);
        io = tunnel.io;
    }
    let tls_started = Instant::now();
    let handshake = ctx.tls.handshake_or_stream(io, endpoint.host, ALPN_HTTP1);
    let stream = match tokio::time::timeout(ctx.timeout, handshake).await {
        Ok((Ok(s), _)) => s,
        Ok((Err((e, mut io)), _)) => {
            if let Some(first) = first_bytes.filter(|f| f.block_page().is_some()) {
                block_page::read_rest(&mut io, &first, tls_started + ctx.timeout).await;
                if let Some(page) = first.block_page() {
                    return Err(PathError::BlockPage(page));
                }
            }
            return Err(PathError::Tls(e));
        }
        Err(_) => return Err(PathError::TlsTimeout),
    };
    Ok(Opened {
        stream,
        tcp: handle,
        peer,
        timings: PathTimings {
            resolve,
            connect,
            tls: started.elapsed(),
        },
    })
}
