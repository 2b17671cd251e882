//! One relay connection, start to end: handshake delay, TLS with a deadline, HTTP/1.1 under
//! the idle guard, and, after a WebSocket upgrade, the listener channel in the same task (so
//! the connection keeps its slot under the limit). Logs `opened` and `closed` with the reason.

use crate::channel;
use crate::hc;
use crate::idle::{Ending, EndingSlot, IdleGuard, IdlePolicy, Transport};
use crate::listener::Accepted;
use crate::routes;
use crate::state::{ConnCtx, PendingUpgrade, Shared, UpgradeKind};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_rustls::server::TlsStream;

/// Largest request head (request line plus headers) accepted; bigger gets 431 and a close.
const MAX_HEAD_BYTES: usize = 16 * 1024;
/// hyper's read buffer limit (its minimum is 8 KiB).
const MAX_BUF_BYTES: usize = 64 * 1024;
/// How long a graceful HTTP close may take at shutdown.
const CLOSE_LIMIT: Duration = Duration::from_secs(2);

pub(crate) async fn serve(
    conn: Accepted,
    shared: Arc<Shared>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let _open = shared.stats.connection();
    let started = Instant::now();
    let (id, peer) = (conn.id, conn.peer);
    let listener = if tls.is_some() { "tls" } else { "plain" };
    tracing::info!(conn = id, %peer, local = %conn.local, listener, "opened");
    let ctx = Arc::new(ConnCtx {
        shared,
        peer,
        id,
        upgrade: Mutex::new(None),
        upgraded: Arc::default(),
    });
    let reason = establish(conn, &ctx, tls).await;
    tracing::info!(
        conn = id,
        %peer,
        reason = %reason,
        duration_s = started.elapsed().as_secs_f64(),
        "closed"
    );
}

async fn establish(
    conn: Accepted,
    ctx: &Arc<ConnCtx>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> String {
    // A task's future is as large as its largest phase, for the task's whole life, and a local
    // moved away still keeps its room while it is in scope. So every phase before the channel
    // runs in a box of its own, freed when the phase ends, and the stream goes straight from one
    // box to the next: a held channel keeps neither a handshake's nor hyper's state reserved.
    if let Some(reason) = Box::pin(before_handshake(&ctx.shared)).await {
        return reason;
    }
    let Some(acceptor) = tls else {
        return http(Box::pin(serve_http(conn.stream, ctx)), ctx).await;
    };
    let serving = {
        let stream = match Box::pin(tls_handshake(&acceptor, conn.stream, ctx)).await {
            Ok(stream) => stream,
            Err(reason) => return reason.to_string(),
        };
        Box::pin(serve_http(stream, ctx))
    };
    http(serving, ctx).await
}

/// The `handshake-delay` fault, if any; why the connection ends instead, if it does.
async fn before_handshake(shared: &Shared) -> Option<String> {
    tokio::select! {
        biased;
        _ = shared.faults.before_handshake() => None,
        _ = shared.token.cancelled() => Some(Ended::ShuttingDown.to_string()),
    }
}

/// The TLS handshake, within the handshake timeout.
async fn tls_handshake(
    acceptor: &tokio_rustls::TlsAcceptor,
    tcp: TcpStream,
    ctx: &ConnCtx,
) -> Result<TlsStream<TcpStream>, Ended> {
    let shared = &ctx.shared;
    let handshake = tokio::time::timeout(shared.handshake_timeout, acceptor.accept(tcp));
    let stream = tokio::select! {
        _ = shared.token.cancelled() => return Err(Ended::ShuttingDown),
        result = handshake => match result {
            Err(_) => return Err(Ended::TlsTimedOut(shared.handshake_timeout)),
            Ok(Err(e)) => return Err(Ended::Tls(e)),
            Ok(Ok(stream)) => stream,
        },
    };
    let session = stream.get_ref().1;
    tracing::debug!(
        conn = ctx.id,
        version = ?session.protocol_version(),
        sni = session.server_name().unwrap_or(""),
        "tls established"
    );
    Ok(stream)
}

/// Runs `serving` (HTTP until the connection ends or becomes a WebSocket), then the WebSocket.
async fn http<F>(serving: F, ctx: &Arc<ConnCtx>) -> String
where
    F: Future<Output = (Result<(), Ended>, EndingSlot)>,
{
    let (result, ending) = serving.await;
    let shared = &ctx.shared;
    // The upgrade is turned into its (boxed) future at once: no local holds it across the wait.
    let upgraded = match result {
        Ok(()) => ctx
            .upgrade
            .lock()
            .ok()
            .and_then(|mut slot| slot.take())
            .map(|upgrade| run_upgraded(upgrade, ctx)),
        Err(_) => None,
    };
    let reason = match (upgraded, result) {
        (Some(running), _) => running.await,
        (None, Ok(())) if shared.token.is_cancelled() => Ended::ShuttingDown.to_string(),
        (None, Ok(())) => "peer closed".into(),
        (None, Err(why)) => why.to_string(),
    };
    explain_ending(&ending, reason)
}

/// hyper's HTTP/1.1 over the idle guard, until the connection ends or is upgraded.
async fn serve_http<T: Transport>(io: T, ctx: &Arc<ConnCtx>) -> (Result<(), Ended>, EndingSlot) {
    let shared = &ctx.shared;
    let policy = IdlePolicy {
        fault: shared.faults.idle(),
        max_idle: shared.max_idle,
        keep_alive: Some((shared.request_timeout, ctx.upgraded.clone())),
        write_timeout: shared.write_timeout,
    };
    let (guard, ending) = IdleGuard::new(io, policy);
    let service_ctx = ctx.clone();
    let service = service_fn(move |req| routes::handle(req, service_ctx.clone()));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        // The idle guard closes a silent keep-alive connection cleanly (close_notify) at the
        // request timeout, as a real server does; hyper's own deadline, a second later, only
        // catches clients that dribble their headers (and ends them without close_notify).
        .header_read_timeout(shared.request_timeout + Duration::from_secs(1))
        .max_buf_size(MAX_BUF_BYTES)
        .max_header_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    let conn = builder
        .serve_connection(TokioIo::new(guard), service)
        .with_upgrades();
    tokio::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        _ = shared.token.cancelled() => {
            conn.as_mut().graceful_shutdown();
            match tokio::time::timeout(CLOSE_LIMIT, conn.as_mut()).await {
                Ok(result) => result,
                Err(_) => return (Err(Ended::ShuttingDown), ending),
            }
        }
    };
    (result.map_err(Ended::Http), ending)
}

/// Why a connection ended before it became a WebSocket, for the `closed` log line.
#[derive(Debug, thiserror::Error)]
enum Ended {
    #[error("server shutting down")]
    ShuttingDown,
    #[error("tls handshake not finished within {} s", .0.as_secs_f64())]
    TlsTimedOut(Duration),
    #[error("tls handshake failed: {0}")]
    Tls(#[source] std::io::Error),
    #[error("{}", describe(.0))]
    Http(#[source] hyper::Error),
}

/// What the idle guard did explains the ending better than the error it caused.
fn explain_ending(ending: &EndingSlot, reason: String) -> String {
    match ending.get() {
        Some((Ending::Fault(action), idle)) => format!(
            "{} fault after {:.3} s idle",
            action.fault_name(),
            idle.as_secs_f64()
        ),
        Some((Ending::MaxIdle, idle)) => {
            format!("max-idle reached ({:.3} s idle)", idle.as_secs_f64())
        }
        Some((Ending::KeepAlive, idle)) => {
            format!("keep-alive timeout ({:.3} s idle)", idle.as_secs_f64())
        }
        Some((Ending::WriteBlocked, blocked)) => format!(
            "write blocked for {:.3} s: the peer does not read",
            blocked.as_secs_f64()
        ),
        None => reason,
    }
}

/// What a WebSocket upgrade turned the connection into, boxed (a channel idles in it).
fn run_upgraded(
    upgrade: PendingUpgrade,
    ctx: &ConnCtx,
) -> Pin<Box<dyn Future<Output = String> + Send + '_>> {
    match upgrade.kind {
        UpgradeKind::Channel { path } => {
            Box::pin(async move { channel::run(upgrade.on_upgrade, &path, ctx).await })
        }
        UpgradeKind::Hc(hc) => Box::pin(hc::run(hc, upgrade.on_upgrade, ctx)),
    }
}

fn describe(error: &hyper::Error) -> String {
    if error.is_timeout() {
        "request headers not received in time".into()
    } else if error.is_parse_too_large() {
        "request head too large".into()
    } else if error.is_parse() {
        format!("bad request: {error}")
    } else if error.is_incomplete_message() {
        "peer closed mid-request".into()
    } else {
        match std::error::Error::source(error) {
            Some(source) => format!("{error}: {source}"),
            None => error.to_string(),
        }
    }
}
