//! A load test for mock-relay: thousands of idle and garbage clients on loopback while a real
//! client checks `/healthz`, with the health latency (p50/p99) and the relay's resident memory
//! before, during and after. Run by `tests/load/mock_relay.sh` (the `load-mock-relay` binary)
//! and, small, by the mock_relay_load e2e test.
//!
//! The clients, each in a loop that reconnects when the relay ends its connection:
//!
//! | kind | does |
//! |---|---|
//! | idle | connects and sends nothing (the TLS handshake deadline ends it) |
//! | garbage | sends random bytes |
//! | slowloris | completes TLS, then sends request headers one byte a second |
//! | half-open TLS | sends half a ClientHello, then nothing |
//! | slow reader | pipelines `/echo` with padded headers and reads one byte a second |
//! | idle HC listener | opens a Hybrid Connections control channel and stays silent |

use crate::hc::HcTarget;
use crate::proc::Memory;
use crate::tls_client::{connect_tls, https_get};
use relay_protocol::channel::Stats;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{sleep, timeout, Instant};
use tokio_util::sync::CancellationToken;

/// Client kinds, in the order clients are assigned to them.
pub const KINDS: [&str; 6] = [
    "idle",
    "garbage",
    "slowloris",
    "half-open-tls",
    "slow-reader",
    "idle-hc-listener",
];

/// What to run against which relay.
pub struct LoadConfig {
    pub target: HcTarget,
    /// The relay's process, for its memory.
    pub pid: u32,
    /// Hostile or idle clients, spread evenly over [`KINDS`].
    pub clients: usize,
    /// How long the clients run.
    pub during: Duration,
    /// How long health is measured before and after.
    pub settle: Duration,
    /// Time between two health checks.
    pub health_every: Duration,
}

/// Health latency over one phase.
#[derive(Debug, Clone, Default)]
pub struct Phase {
    pub checks: usize,
    pub failures: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub memory: Option<Memory>,
    /// The relay's counters at the end of the phase.
    pub stats: Option<Stats>,
}

#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    pub before: Phase,
    pub during: Phase,
    pub after: Phase,
    /// Connections the clients opened, all kinds together.
    pub connections: u64,
}

impl std::fmt::Display for LoadReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "phase    checks  failed  health p50   health p99   RSS        peak RSS    open conns  HC listeners"
        )?;
        for (name, phase) in [
            ("before", &self.before),
            ("during", &self.during),
            ("after", &self.after),
        ] {
            let (rss, peak) = phase
                .memory
                .map(|m| (m.rss_mib(), m.peak_mib()))
                .unwrap_or_default();
            let (open, listeners) = phase
                .stats
                .as_ref()
                .map(|s| (s.open_connections, s.hc_listeners))
                .unwrap_or_default();
            writeln!(
                f,
                "{name:<8} {:>6}  {:>6}  {:>8.1} ms  {:>8.1} ms  {rss:>6.1} MiB  {peak:>6.1} MiB  {open:>10}  {listeners:>12}",
                phase.checks, phase.failures, phase.p50_ms, phase.p99_ms
            )?;
        }
        write!(f, "client connections opened: {}", self.connections)
    }
}

/// Runs the three phases and reports them.
pub async fn run(config: &LoadConfig) -> LoadReport {
    let target = Arc::new(config.target.clone());
    let before = health(&target, config.settle, config.health_every).await;
    let before = Phase {
        memory: Some(Memory::of(config.pid)),
        stats: stats(&target).await,
        ..before
    };

    let stop = CancellationToken::new();
    let opened = Arc::new(AtomicU64::new(0));
    let mut clients = tokio::task::JoinSet::new();
    for n in 0..config.clients {
        let kind = KINDS[n % KINDS.len()];
        let (target, stop, opened) = (target.clone(), stop.clone(), opened.clone());
        clients.spawn(async move {
            // Spread the starts over the first second.
            sleep(Duration::from_millis((n % 1000) as u64)).await;
            while !stop.is_cancelled() {
                opened.fetch_add(1, Ordering::Relaxed);
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = client(kind, &target, n as u64) => {}
                }
                // A client the relay ended comes back, after a pause.
                tokio::select! {
                    _ = stop.cancelled() => break,
                    _ = sleep(Duration::from_millis(200)) => {}
                }
            }
        });
    }
    let during = health(&target, config.during, config.health_every).await;
    let during = Phase {
        memory: Some(Memory::of(config.pid)),
        stats: stats(&target).await,
        ..during
    };
    stop.cancel();
    while clients.join_next().await.is_some() {}

    // Give the relay a moment to see every client gone, then measure again.
    sleep(config.settle).await;
    let after = health(&target, config.settle, config.health_every).await;
    let after = Phase {
        memory: Some(Memory::of(config.pid)),
        stats: stats(&target).await,
        ..after
    };
    LoadReport {
        before,
        during,
        after,
        connections: opened.load(Ordering::Relaxed),
    }
}

/// The relay's counters now (`None` if it did not answer).
async fn stats(target: &HcTarget) -> Option<Stats> {
    let resp = timeout(
        Duration::from_secs(10),
        https_get(target.addr, &target.ca_pem, "/stats"),
    )
    .await
    .ok()?
    .ok()?;
    serde_json::from_str(&resp.body).ok()
}

/// `GET /healthz` over a fresh TLS connection every `every`, for `span`.
async fn health(target: &HcTarget, span: Duration, every: Duration) -> Phase {
    let end = Instant::now() + span;
    let mut took = Vec::new();
    let mut failures = 0;
    while Instant::now() < end {
        let started = Instant::now();
        match timeout(
            Duration::from_secs(10),
            https_get(target.addr, &target.ca_pem, "/healthz"),
        )
        .await
        {
            Ok(Ok(resp)) if resp.status == 200 => took.push(started.elapsed()),
            _ => failures += 1,
        }
        sleep(every.saturating_sub(started.elapsed())).await;
    }
    took.sort_unstable();
    let at = |q: f64| {
        took.get(((took.len() as f64 - 1.0) * q).round() as usize)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    Phase {
        checks: took.len() + failures,
        failures,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        memory: None,
        stats: None,
    }
}

/// One connection of one kind, until the relay ends it (or a step's deadline passes).
async fn client(kind: &str, target: &HcTarget, seed: u64) {
    let addr = target.addr;
    let limit = Duration::from_secs(120);
    let _ = timeout(limit, async {
        match kind {
            "idle" => idle(addr).await,
            "garbage" => garbage(addr, seed).await,
            "slowloris" => slowloris(target).await,
            "half-open-tls" => half_open(addr).await,
            "slow-reader" => slow_reader(target).await,
            _ => idle_listener(target, seed).await,
        }
    })
    .await;
}

/// Reads until the peer closes (or fails); bounded by the caller.
async fn until_closed<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) {
    let mut buf = [0u8; 4096];
    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
}

async fn idle(addr: SocketAddr) {
    if let Ok(mut tcp) = TcpStream::connect(addr).await {
        until_closed(&mut tcp).await;
    }
}

async fn garbage(addr: SocketAddr, mut seed: u64) {
    let Ok(mut tcp) = TcpStream::connect(addr).await else {
        return;
    };
    seed |= 1;
    let bytes: Vec<u8> = (0..2048)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed as u8
        })
        .collect();
    let _ = tcp.write_all(&bytes).await;
    until_closed(&mut tcp).await;
}

async fn slowloris(target: &HcTarget) {
    let Ok(mut tls) = connect_tls(target.addr, &target.ca_pem, "localhost").await else {
        return;
    };
    for byte in b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: "
        .iter()
        .chain(std::iter::repeat(&b'a'))
    {
        if tls.write_all(&[*byte]).await.is_err() || tls.flush().await.is_err() {
            return;
        }
        let mut probe = [0u8; 256];
        match timeout(Duration::from_secs(1), tls.read(&mut probe)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return,
            _ => {}
        }
    }
}

async fn half_open(addr: SocketAddr) {
    let Ok(mut tcp) = TcpStream::connect(addr).await else {
        return;
    };
    let partial = [
        0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03,
    ];
    let _ = tcp.write_all(&partial).await;
    until_closed(&mut tcp).await;
}

async fn slow_reader(target: &HcTarget) {
    let Ok(mut tls) = connect_tls(target.addr, &target.ca_pem, "localhost").await else {
        return;
    };
    let request = format!(
        "GET /echo HTTP/1.1\r\nHost: localhost\r\nX-Pad: {}\r\n\r\n",
        "p".repeat(4096)
    );
    let _ = timeout(
        Duration::from_secs(5),
        tls.write_all(request.repeat(32).as_bytes()),
    )
    .await;
    let mut byte = [0u8; 1];
    loop {
        match tls.read(&mut byte).await {
            Ok(0) | Err(_) => return,
            Ok(_) => sleep(Duration::from_secs(1)).await,
        }
    }
}

async fn idle_listener(target: &HcTarget, n: u64) {
    let entity = format!("load{}", n % 1000);
    if let Ok(mut ws) = target.listen(&entity, &format!("load-{n}")).await {
        use futures_util::StreamExt;
        while let Some(Ok(_)) = ws.next().await {}
    }
}
