//! The long run of `probe watch` (`bench-watch`, `tests/bench/run.sh --only watch`): a release
//! watch on many targets of one release mock-relay on loopback, pushed about every second each,
//! until it has made the pushes asked for. The product's shortest mean push interval is 1 s, so
//! a hundred thousand pushes in minutes take many targets in one watch: `relay://` listener
//! channels (one path each) and `hc://` listeners (one entity each), half and half.
//!
//! Sampled every few seconds: the watch's `/metrics` (pushes by outcome, reopens) and, from
//! `/proc`, its resident memory, CPU time, descriptors and threads, and mock-relay's CPU time
//! (the reference: what the other end of every push costs in the same run).

use super::hold::RelayProcess;
use crate::proc::{cpu_seconds, Holdings, Memory};
use serde::Serialize;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Clone)]
pub struct WatchConfig {
    pub probe: PathBuf,
    pub mock_relay: PathBuf,
    /// `relay://` targets; as many `hc://` targets again.
    pub pairs: usize,
    /// Stop once the watch has made this many pushes.
    pub pushes: u64,
    pub sample_every: Duration,
    /// The run stops here whatever the count (and says so).
    pub limit: Duration,
}

/// One sample of the run.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Sample {
    pub at_s: f64,
    pub pushes: u64,
    pub delivered: u64,
    pub reopens: u64,
    pub rss_kib: u64,
    pub fds: usize,
    pub threads: usize,
    pub cpu_s: f64,
    pub relay_cpu_s: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct WatchReport {
    pub targets: usize,
    pub relay_targets: usize,
    pub hc_targets: usize,
    pub pushes: u64,
    pub delivered: u64,
    pub delivered_share: f64,
    pub reopens: u64,
    pub wall_s: f64,
    pub pushes_per_s: f64,
    /// The warm-up sample: the first at a tenth of the pushes or more.
    pub warm: Sample,
    pub end: Sample,
    pub peak_rss_mib: f64,
    /// The watch's CPU per push over the whole run, and after the warm-up in two halves
    /// (steady CPU: the halves alike).
    pub cpu_us_per_push: f64,
    pub cpu_us_per_push_first_half: f64,
    pub cpu_us_per_push_second_half: f64,
    pub relay_cpu_us_per_push: f64,
    pub relay_rss_end_mib: f64,
    /// The watch's exit code after SIGTERM (0: no incident, 1: incidents; `None`: it did not
    /// stop in 30 s).
    pub exit_code: Option<i32>,
    pub stopped_by_limit: bool,
    pub load_average: String,
}

/// Kills the watch if the run ends early.
struct Watch(Child);

impl Drop for Watch {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub async fn run(config: &WatchConfig) -> Result<WatchReport, String> {
    crate::limits::raise_descriptor_limit();
    let relay = RelayProcess::start(&config.mock_relay, &[]).await?;
    let relay_pid = relay.pid().ok_or("mock-relay exited")?;
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &relay.ca_pem).map_err(|e| format!("{}: {e}", ca.display()))?;
    let cs = relay
        .connection_string
        .clone()
        .ok_or("mock-relay printed no connection string")?;
    let mut args: Vec<String> = [
        "watch",
        "--push-every",
        "1s",
        "--listen",
        "127.0.0.1:0",
        "--ca-file",
    ]
    .map(String::from)
    .to_vec();
    args.push(ca.display().to_string());
    args.extend(["--for".into(), format!("{}s", config.limit.as_secs() + 60)]);
    // One hybrid connection per entity (`--hc-entity` would add idle-ladder listeners to one
    // target instead).
    let cs = cs.expose().expose().trim_end_matches(';').to_string();
    for i in 1..=config.pairs {
        args.extend(["--target".into(), format!("relay://{}/w{i}", relay.addr)]);
        args.extend([
            "--hybrid-connection".into(),
            format!("{cs};EntityPath=w{i}"),
        ]);
    }
    let log_path = dir.path().join("watch.log");
    let log = std::fs::File::create(&log_path).map_err(|e| format!("watch log: {e}"))?;
    let out = dir.path().join("summary.txt");
    let summary = std::fs::File::create(&out).map_err(|e| format!("summary: {e}"))?;
    let child = Command::new(&config.probe)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(summary)
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", config.probe.display()))?;
    let mut watch = Watch(child);
    let pid = watch.0.id();
    let read_log = || std::fs::read_to_string(&log_path).unwrap_or_default();
    let metrics_at = wait_for_address(&read_log, &mut watch.0).await?;
    let watching = format!("probe watch: watching {} target(s)", 2 * config.pairs);
    if !read_log().contains(&watching) {
        return Err(format!("expected `{watching}`:\n{}", read_log()));
    }
    let started = Instant::now();
    let mut samples: Vec<Sample> = Vec::new();
    let mut stopped_by_limit = false;
    loop {
        tokio::time::sleep(config.sample_every).await;
        if let Ok(Some(status)) = watch.0.try_wait() {
            return Err(format!("the watch exited ({status}):\n{}", read_log()));
        }
        let metrics = scrape(metrics_at).await?;
        let held = Holdings::of(pid).ok_or("the watch is gone")?;
        let sample = Sample {
            at_s: started.elapsed().as_secs_f64(),
            pushes: family_sum(&metrics, "probe_watch_pushes_total{", None),
            delivered: family_sum(
                &metrics,
                "probe_watch_pushes_total{",
                Some("outcome=\"delivered\""),
            ),
            reopens: family_sum(&metrics, "probe_watch_reopens_total{", None),
            rss_kib: held.rss_kib,
            fds: held.fds,
            threads: held.threads,
            cpu_s: cpu_seconds(&[pid]),
            relay_cpu_s: cpu_seconds(&[relay_pid]),
        };
        samples.push(sample);
        if sample.pushes >= config.pushes {
            break;
        }
        if started.elapsed() >= config.limit {
            stopped_by_limit = true;
            break;
        }
    }
    let peak_rss_mib = Memory::try_of(pid).map(|m| m.peak_mib()).unwrap_or(0.0);
    let relay_rss_end_mib = relay.rss_kib().unwrap_or(0) as f64 / 1024.0;
    // SAFETY: kill on the pid of a child this function owns and has not reaped.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit_code = loop {
        if let Ok(Some(status)) = watch.0.try_wait() {
            break status.code();
        }
        if Instant::now() > deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    relay.stop().await;
    let end = *samples.last().ok_or("no sample")?;
    let warm = *samples
        .iter()
        .find(|s| s.pushes * 10 >= end.pushes)
        .ok_or("no warm-up sample")?;
    let mid_pushes = (warm.pushes + end.pushes) / 2;
    let mid = *samples
        .iter()
        .find(|s| s.pushes >= mid_pushes)
        .unwrap_or(&end);
    let per_push = |cpu: f64, pushes: u64| {
        if pushes == 0 {
            0.0
        } else {
            cpu * 1e6 / pushes as f64
        }
    };
    Ok(WatchReport {
        targets: 2 * config.pairs,
        relay_targets: config.pairs,
        hc_targets: config.pairs,
        pushes: end.pushes,
        delivered: end.delivered,
        delivered_share: if end.pushes == 0 {
            0.0
        } else {
            end.delivered as f64 / end.pushes as f64
        },
        reopens: end.reopens,
        wall_s: end.at_s,
        pushes_per_s: end.pushes as f64 / end.at_s.max(1e-9),
        warm,
        end,
        peak_rss_mib,
        cpu_us_per_push: per_push(end.cpu_s, end.pushes),
        cpu_us_per_push_first_half: per_push(mid.cpu_s - warm.cpu_s, mid.pushes - warm.pushes),
        cpu_us_per_push_second_half: per_push(end.cpu_s - mid.cpu_s, end.pushes - mid.pushes),
        relay_cpu_us_per_push: per_push(end.relay_cpu_s, end.pushes),
        relay_rss_end_mib,
        exit_code,
        stopped_by_limit,
        load_average: std::fs::read_to_string("/proc/loadavg")
            .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_default(),
    })
}

/// The /metrics address the watch prints on stderr.
async fn wait_for_address(
    read_log: &dyn Fn() -> String,
    child: &mut Child,
) -> Result<std::net::SocketAddr, String> {
    const SAID: &str = "probe watch: listening on http://";
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = read_log();
        if let Some(at) = log.find(SAID) {
            return log[at + SAID.len()..]
                .split_whitespace()
                .next()
                .and_then(|a| a.parse().ok())
                .ok_or(format!("no address in {log}"));
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("the watch exited ({status}):\n{log}"));
        }
        if Instant::now() > deadline {
            return Err(format!("the watch printed no address:\n{log}"));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// GET /metrics, within a deadline.
pub async fn scrape(addr: std::net::SocketAddr) -> Result<String, String> {
    let get = async {
        let mut s = tokio::net::TcpStream::connect(addr).await?;
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
            .await?;
        let mut body = String::new();
        s.read_to_string(&mut body).await?;
        Ok::<_, std::io::Error>(body)
    };
    match tokio::time::timeout(Duration::from_secs(10), get).await {
        Ok(Ok(body)) if body.starts_with("HTTP/1.1 200") => Ok(body),
        Ok(Ok(body)) => Err(format!(
            "/metrics answered {}",
            body.lines().next().unwrap_or("")
        )),
        Ok(Err(e)) => Err(format!("/metrics: {e}")),
        Err(_) => Err("/metrics did not answer in 10 s".into()),
    }
}

/// The sum of a family's samples (lines starting with `prefix`), those with `label` only when
/// given.
pub fn family_sum(metrics: &str, prefix: &str, label: Option<&str>) -> u64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix) && label.is_none_or(|x| l.contains(x)))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<u64>().ok())
        .sum()
}
