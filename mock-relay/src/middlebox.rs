//! A userland TCP forwarder that behaves like a firewall or proxy with an idle timeout.
//!
//! It forwards each accepted connection to its one configured upstream (never anywhere else:
//! it is not an open proxy). After `idle_timeout` with no payload in either direction it
//! strikes both sockets with its idle action, the same [`IdleAction`] the relay's idle faults
//! carry out: reset both sides, silently stop forwarding (holding both sockets open and
//! discarding what arrives), or close both with FIN. An optional delay is added to every
//! forwarded chunk in each direction, without limiting throughput.

use crate::announce::AddressLine;
use crate::fault::idle::{Aftermath, DRAIN_LIMIT};
use crate::fault::IdleAction;
use crate::listener::{bind, Accepted, Lifecycle};
use crate::StartError;
use socket2::SockRef;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Says why the middlebox cannot carry out `action`, if it cannot: it forwards TCP and is not
/// the TLS peer, so it cannot send a TLS `close_notify`.
pub fn check_action(action: IdleAction) -> Result<IdleAction, NeedsTlsPeer> {
    if action.needs_tls_peer() {
        return Err(NeedsTlsPeer(action));
    }
    Ok(action)
}

/// An idle action the middlebox cannot carry out; the message lists those it can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` needs the TLS peer, and the middlebox only forwards TCP; use one of {possible}",
    possible = actions().map(IdleAction::word).collect::<Vec<_>>().join(", ")
)]
pub struct NeedsTlsPeer(pub IdleAction);

/// The idle actions the middlebox can carry out (all but those that need the TLS peer).
pub fn actions() -> impl Iterator<Item = IdleAction> {
    IdleAction::ALL
        .into_iter()
        .filter(|action| !action.needs_tls_peer())
}

#[derive(Debug, Clone)]
pub struct MiddleboxConfig {
    pub listen: SocketAddr,
    /// `HOST:PORT`, resolved once at start.
    pub upstream: String,
    pub idle_timeout: Duration,
    /// One of [`actions`].
    pub on_idle: IdleAction,
    /// Added to every forwarded chunk, in each direction.
    pub delay: Duration,
    pub max_connections: usize,
    pub connect_timeout: Duration,
    /// How long a dropped (silenced) connection is held before its sockets are closed.
    pub hold_limit: Duration,
    pub shutdown_grace: Duration,
}

impl MiddleboxConfig {
    pub fn new(
        listen: SocketAddr,
        upstream: impl Into<String>,
        idle_timeout: Duration,
        on_idle: IdleAction,
    ) -> Self {
        MiddleboxConfig {
            listen,
            upstream: upstream.into(),
            idle_timeout,
            on_idle,
            delay: Duration::ZERO,
            max_connections: 100_000,
            connect_timeout: Duration::from_secs(10),
            hold_limit: Duration::from_secs(3600),
            shutdown_grace: Duration::from_secs(2),
        }
    }
}

pub struct RunningMiddlebox {
    local_addr: SocketAddr,
    upstream: SocketAddr,
    lifecycle: Lifecycle,
    grace: Duration,
}

impl RunningMiddlebox {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn upstream(&self) -> SocketAddr {
        self.upstream
    }

    pub fn address_line(&self) -> AddressLine {
        AddressLine {
            middlebox: Some(self.local_addr),
            upstream: Some(self.upstream),
            ..AddressLine::default()
        }
    }

    /// Stops accepting and closes every forwarded connection (FIN), waiting up to the grace.
    pub async fn shutdown(self) -> bool {
        tracing::info!("middlebox shutting down");
        self.lifecycle.shutdown(self.grace).await
    }
}

/// Resolves the upstream, binds the listener and starts forwarding.
pub async fn start(config: MiddleboxConfig) -> Result<RunningMiddlebox, StartError> {
    check_action(config.on_idle)
        .map_err(|why| StartError::Config(format!("--on-idle {}: {why}", config.on_idle)))?;
    let upstream = tokio::net::lookup_host(&config.upstream)
        .await
        .map_err(|e| StartError::Upstream {
            upstream: config.upstream.clone(),
            reason: e.to_string(),
        })?
        .next()
        .ok_or_else(|| StartError::Upstream {
            upstream: config.upstream.clone(),
            reason: "no addresses".into(),
        })?;
    let listener = bind(config.listen).await?;
    let local_addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: config.listen,
        source,
    })?;
    let lifecycle = Lifecycle::new(config.max_connections);
    let shared = Arc::new((config.clone(), upstream, lifecycle.token.clone()));
    lifecycle.spawn_accept_loop(listener, "middlebox", move |conn| {
        let shared = shared.clone();
        async move {
            let (config, upstream, token) = &*shared;
            forward(conn, config, *upstream, token).await
        }
    });
    tracing::info!(
        %local_addr, %upstream,
        idle_timeout_s = config.idle_timeout.as_secs_f64(),
        on_idle = %config.on_idle,
        delay_ms = config.delay.as_millis() as u64,
        "middlebox forwarding"
    );
    Ok(RunningMiddlebox {
        local_addr,
        upstream,
        lifecycle,
        grace: config.shutdown_grace,
    })
}

/// The instant of the last payload byte in either direction, shared by both pumps.
struct Activity {
    base: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            base: Instant::now(),
            last_ms: AtomicU64::new(0),
        }
    }
    fn touch(&self) {
        let ms = self.base.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }
    fn last(&self) -> Instant {
        self.base + Duration::from_millis(self.last_ms.load(Ordering::Relaxed))
    }
    async fn idle_for(&self, timeout: Duration) {
        loop {
            let due = self.last() + timeout;
            if Instant::now() >= due {
                return;
            }
            tokio::time::sleep_until(due).await;
        }
    }
}

async fn forward(
    conn: Accepted,
    config: &MiddleboxConfig,
    upstream: SocketAddr,
    token: &tokio_util::sync::CancellationToken,
) {
    let (id, peer) = (conn.id, conn.peer);
    let started = Instant::now();
    tracing::info!(conn = id, %peer, %upstream, "opened");
    let client = conn.stream;
    let server = match tokio::time::timeout(config.connect_timeout, TcpStream::connect(upstream))
        .await
    {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return closed(id, peer, started, &format!("upstream connect failed: {e}")),
        Err(_) => return closed(id, peer, started, "upstream connect timed out"),
    };
    let _ = server.set_nodelay(true);
    let activity = Activity::new();
    let pumps = async {
        tokio::try_join!(
            pump(&client, &server, config.delay, &activity),
            pump(&server, &client, config.delay, &activity)
        )
    };
    let outcome = tokio::select! {
        result = pumps => match result {
            Ok(_) => Outcome::Closed("both sides closed".into()),
            Err(e) => Outcome::Error(e),
        },
        _ = activity.idle_for(config.idle_timeout) => Outcome::Idle,
        _ = token.cancelled() => Outcome::Shutdown,
    };
    let reason = match outcome {
        Outcome::Closed(why) => why,
        Outcome::Error(e) => {
            // Pass a reset on: the other side learns the connection is gone the same way.
            IdleAction::Reset.strike(&client);
            IdleAction::Reset.strike(&server);
            format!("forwarding failed: {e}")
        }
        Outcome::Shutdown => {
            let _ = SockRef::from(&client).shutdown(Shutdown::Both);
            let _ = SockRef::from(&server).shutdown(Shutdown::Both);
            "middlebox shutting down".into()
        }
        Outcome::Idle => {
            let idle = activity.last().elapsed().as_secs_f64();
            tracing::info!(conn = id, idle_s = idle, action = %config.on_idle, "idle timeout");
            let aftermath = config.on_idle.strike(&client);
            config.on_idle.strike(&server);
            match aftermath {
                Aftermath::Drain => discard_both(&client, &server, DRAIN_LIMIT, token).await,
                Aftermath::Silence => {
                    discard_both(&client, &server, config.hold_limit, token).await
                }
                // Abort: dropping the zero-linger sockets sends RST. (CloseTls: refused at start.)
                Aftermath::Abort | Aftermath::CloseTls => {}
            }
            format!("idle {} after {idle:.3} s", config.on_idle)
        }
    };
    closed(id, peer, started, &reason);
}

enum Outcome {
    Closed(String),
    Error(io::Error),
    Idle,
    Shutdown,
}

fn closed(id: u64, peer: SocketAddr, started: Instant, reason: &str) {
    tracing::info!(conn = id, %peer, reason, duration_s = started.elapsed().as_secs_f64(), "closed");
}

/// Copies `from` to `to` until EOF (then half-closes `to`), adding `delay` to every chunk.
async fn pump(
    from: &TcpStream,
    to: &TcpStream,
    delay: Duration,
    activity: &Activity,
) -> io::Result<()> {
    if delay.is_zero() {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = read(from, &mut buf).await?;
            if n == 0 {
                let _ = SockRef::from(to).shutdown(Shutdown::Write);
                return Ok(());
            }
            activity.touch();
            write_all(to, &buf[..n]).await?;
        }
    }
    // Reader and writer run together through a bounded queue, so delay adds latency only.
    let (tx, mut rx) = mpsc::channel::<(Instant, Option<Vec<u8>>)>(64);
    let reader = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = read(from, &mut buf).await?;
            let chunk = (n > 0).then(|| buf[..n].to_vec());
            if n > 0 {
                activity.touch();
            }
            if tx.send((Instant::now() + delay, chunk)).await.is_err() || n == 0 {
                return Ok::<(), io::Error>(());
            }
        }
    };
    let writer = async {
        while let Some((due, chunk)) = rx.recv().await {
            tokio::time::sleep_until(due).await;
            match chunk {
                Some(bytes) => write_all(to, &bytes).await?,
                None => {
                    let _ = SockRef::from(to).shutdown(Shutdown::Write);
                    break;
                }
            }
        }
        Ok::<(), io::Error>(())
    };
    tokio::try_join!(reader, writer).map(|_| ())
}

async fn read(stream: &TcpStream, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        stream.readable().await?;
        match stream.try_read(buf) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            other => return other,
        }
    }
}

async fn write_all(stream: &TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        stream.writable().await?;
        match stream.try_write(data) {
            Ok(n) => data = &data[n..],
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Holds both sockets, reading and discarding, until both peers have closed, `limit` passes,
/// or the middlebox shuts down.
async fn discard_both(
    a: &TcpStream,
    b: &TcpStream,
    limit: Duration,
    token: &tokio_util::sync::CancellationToken,
) {
    async fn drain(s: &TcpStream) {
        let mut buf = vec![0u8; 16 * 1024];
        while let Ok(n) = read(s, &mut buf).await {
            if n == 0 {
                break;
            }
        }
    }
    tokio::select! {
        _ = async { tokio::join!(drain(a), drain(b)) } => {}
        _ = tokio::time::sleep(limit) => {}
        _ = token.cancelled() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_out_every_idle_action_but_close_notify() {
        let words: Vec<&str> = actions().map(IdleAction::word).collect();
        assert_eq!(words, ["reset", "drop", "fin"]);
        for word in ["reset", "drop", "fin"] {
            let action: IdleAction = word.parse().unwrap();
            assert_eq!(check_action(action).unwrap().to_string(), word);
        }
        let why = check_action(IdleAction::CloseNotify)
            .unwrap_err()
            .to_string();
        assert!(
            why.contains("TLS peer") && why.contains("reset, drop, fin"),
            "{why}"
        );
    }
}
