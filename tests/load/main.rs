//! Load test for the long-running servers: thousands of idle and garbage clients on loopback
//! (connect-and-wait, random bytes, slowloris, slow readers that never read their answers)
//! while one real client asks the health endpoint over and over. Prints that client's latency
//! p50/p99/max and the server's resident memory before, during and after the crowd.
//!
//! ```text
//! cargo run --release -p e2e --bin load -- serve [CLIENTS] [SECONDS]   (default 2000, 20)
//! ```
//!
//! mock-relay's load test is `tests/load/mock_relay.sh` (the `load-mock-relay` binary).
//!
//! A measurement, not a test: it passes or fails nothing. Loopback only.

mod crowd;

use crowd::Crowd;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One system under load: how to start it, and where its health answer is.
struct System {
    name: &'static str,
    child: tokio::process::Child,
    /// `host:port` of plain HTTP.
    addr: String,
    health_path: &'static str,
    /// Keeps the peers it needs alive.
    _keep: Box<dyn std::any::Any + Send>,
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map(String::as_str).unwrap_or("serve");
    let number = |i: usize, default: u64, name: &str| -> u64 {
        match args.get(i).map(|s| s.parse::<u64>()) {
            None => default,
            Some(Ok(n)) if n > 0 => n,
            Some(_) => {
                eprintln!("load: {name} must be a whole number above 0");
                std::process::exit(2);
            }
        }
    };
    let clients = number(1, 2000, "CLIENTS") as usize;
    let seconds = number(2, 20, "SECONDS");
    e2e::limits::raise_descriptor_limit();
    let system = match which {
        "serve" => probe_serve().await,
        other => {
            eprintln!(
                "load: unknown system `{other}`: serve (mock-relay's load test is tests/load/mock_relay.sh)"
            );
            std::process::exit(2);
        }
    };
    run(system, clients, Duration::from_secs(seconds)).await;
}

/// `probe serve` on a free loopback port, checking a local HTTPS server every 10 s.
async fn probe_serve() -> System {
    let runs = e2e::report_tools::Runs::new();
    let server = runs.https_server().await;
    let url = format!("https://localhost:{}/", server.port);
    let ca = runs.ca_file();
    let (child, addr) = e2e::served::Served::start(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--interval",
        "10s",
        "--target",
        &url,
        "--ca-file",
        &ca,
        "--quick",
        "--timeout",
        "5",
    ])
    .await
    .drain_stderr();
    System {
        name: "probe serve",
        child,
        addr,
        health_path: "/metrics",
        _keep: Box::new((runs, server)),
    }
}

/// Latencies of health requests made one after another for `span`; failures counted apart,
/// by kind.
async fn probe_health(addr: &str, path: &str, span: Duration) -> (Vec<Duration>, Failures) {
    let started = Instant::now();
    let mut latencies = Vec::new();
    let mut failures = Failures::default();
    while started.elapsed() < span {
        let t = Instant::now();
        match tokio::time::timeout(Duration::from_secs(10), get(addr, path)).await {
            Ok(Ok(true)) => latencies.push(t.elapsed()),
            Ok(Ok(false)) => failures.not_ok += 1,
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                failures.refused += 1
            }
            Ok(Err(_)) => failures.reset += 1,
            Err(_) => failures.timeout += 1,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    (latencies, failures)
}

/// Health requests that did not get a 200.
#[derive(Default)]
struct Failures {
    /// No answer within 10 s.
    timeout: usize,
    /// The connection was reset or closed before the answer was complete.
    reset: usize,
    refused: usize,
    /// An answer other than 200.
    not_ok: usize,
}

impl Failures {
    fn total(&self) -> usize {
        self.timeout + self.reset + self.refused + self.not_ok
    }
}

/// `GET path` with `Connection: close`: whether a 200 came back.
async fn get(addr: &str, path: &str) -> std::io::Result<bool> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).await?;
    Ok(answer.starts_with(b"HTTP/1.1 200"))
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kib| kib.parse::<f64>().ok())
        .map(|kib| kib / 1024.0)
        .unwrap_or(f64::NAN)
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * q) as usize).min(sorted.len() - 1);
    sorted.get(i).copied().unwrap_or_default()
}

fn row(phase: &str, latencies: &mut [Duration], failures: &Failures, rss: f64) {
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{phase:<8} {:>8} {:>9.2} {:>9.2} {:>9.2} {:>9} {:>9.1}",
        latencies.len(),
        ms(percentile(latencies, 0.5)),
        ms(percentile(latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
        failures.total(),
        rss
    );
    if failures.total() > 0 {
        println!(
            "         failed: {} timed out (10 s), {} reset or cut short, {} refused, {} not 200",
            failures.timeout, failures.reset, failures.refused, failures.not_ok
        );
    }
}

async fn run(mut system: System, clients: usize, span: Duration) {
    let pid = system.child.id().expect("running");
    let (addr, path) = (system.addr.clone(), system.health_path);
    println!(
        "{}: {clients} hostile clients for {} s on {addr}; health {path}",
        system.name,
        span.as_secs()
    );
    println!(
        "{:<8} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "phase", "answers", "p50 ms", "p99 ms", "max ms", "failed", "RSS MiB"
    );
    let quiet = span.min(Duration::from_secs(5));
    let (mut before, failed) = probe_health(&addr, path, quiet).await;
    row("before", &mut before, &failed, rss_mib(pid));

    let crowd = Crowd::start(&addr, clients);
    // Let the crowd connect before measuring.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let peak = std::sync::Arc::new(std::sync::Mutex::new(0f64));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                let now = rss_mib(pid);
                if let Ok(mut p) = peak.lock() {
                    *p = p.max(now);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let (mut during, failed) = probe_health(&addr, path, span).await;
    let during_peak = peak.lock().map(|p| *p).unwrap_or(f64::NAN);
    row("during", &mut during, &failed, during_peak);
    let stats = crowd.stop().await;
    sampler.abort();

    // After: the crowd gone, the server should be back where it started.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (mut after, failed) = probe_health(&addr, path, quiet).await;
    row("after", &mut after, &failed, rss_mib(pid));
    println!(
        "crowd: {} connections opened ({} refused or reset at connect), {} closed by the server",
        stats.opened, stats.connect_failed, stats.closed_by_server
    );
    let _ = system.child.start_kill();
}
