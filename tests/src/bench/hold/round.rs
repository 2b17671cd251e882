//! One round: a fresh relay, N held channels, RSS before and after, every push timed.

use super::client::{self, Channel, Dialer};
use super::relay_process::RelayProcess;
use super::summary::{mib, ms, Latency, RoundReport};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::{sleep, timeout_at, Instant};

/// How long a push may be late before it counts as missing.
const PUSH_GRACE: Duration = Duration::from_secs(10);
/// Holds in flight at once: few enough that the client reads each `held` as it comes (a burst
/// of thousands would timestamp them late and make the pushes look early).
const HOLDS_IN_FLIGHT: usize = 16;
/// Quiet time before an RSS sample, so the relay has finished what the last step started.
const SETTLE: Duration = Duration::from_secs(1);

/// What one round runs.
#[derive(Debug, Clone)]
pub struct RoundConfig {
    pub mock_relay: PathBuf,
    /// Extra `mock-relay serve` arguments.
    pub relay_args: Vec<String>,
    pub connections: usize,
    /// Pushes fall due evenly over this span, which opens once every hold is in.
    pub push_window: Duration,
    /// Connections being opened at once.
    pub concurrency: usize,
    /// Loopback source addresses (127.0.0.1, .2, ...) the connections are spread over.
    pub sources: u8,
}

/// Progress of the connection tasks, counted by the round.
enum Step {
    Opened,
    Held,
    Failed(String),
}

/// One connection's result; the channel is kept open until the round ends, so that no relay
/// connection closes (and frees memory) while other pushes are being timed.
struct Sample {
    latency_ms: f64,
    relay_late_ms: f64,
    channel: Channel,
}

/// Runs one round against a fresh relay.
pub async fn run_round(config: &RoundConfig) -> Result<RoundReport, String> {
    let started = Instant::now();
    let n = config.connections.max(1);
    let relay = RelayProcess::start(&config.mock_relay, &config.relay_args).await?;
    sleep(SETTLE).await;
    let baseline = relay.rss_kib().ok_or("the relay exited")?;
    let dialer = Arc::new(Dialer::new(relay.addr, &relay.ca_pem));

    let (go_tx, go_rx) = watch::channel::<Option<Instant>>(None);
    let (steps_tx, mut steps) = mpsc::unbounded_channel();
    let limits = Limits {
        open: Arc::new(Semaphore::new(config.concurrency.max(1))),
        hold: Arc::new(Semaphore::new(HOLDS_IN_FLIGHT)),
    };
    let mut tasks = JoinSet::new();
    for i in 0..n {
        let source = IpAddr::V4(Ipv4Addr::new(
            127,
            0,
            0,
            1 + (i % config.sources.max(1) as usize) as u8,
        ));
        let offset = config.push_window.mul_f64(i as f64 / n as f64);
        let (dialer, limits, go, steps) = (
            dialer.clone(),
            limits.clone(),
            go_rx.clone(),
            steps_tx.clone(),
        );
        tasks.spawn(async move {
            let result = connection(i, source, offset, &dialer, limits, go, &steps).await;
            if let Err(why) = &result {
                let _ = steps.send(Step::Failed(why.clone()));
            }
            result
        });
    }
    drop(steps_tx);

    let mut count = Counts::default();
    let connect_limit = Instant::now() + Duration::from_secs(120) + client::STEP * (n / 500) as u32;
    count
        .until(&mut steps, connect_limit, |c| c.opened + c.failed >= n)
        .await;
    let connect_s = started.elapsed().as_secs_f64();
    let open = relay.rss_kib().ok_or("the relay exited")?;

    // Room for every hold to be answered and the relay to fall quiet before the first push.
    let lead = Duration::from_secs(3) + Duration::from_millis(n as u64 / 2);
    let window_start = Instant::now() + lead;
    let _ = go_tx.send(Some(window_start));
    count
        .until(&mut steps, window_start, |c| c.held + c.failed >= n)
        .await;
    sleep(SETTLE.min(window_start.saturating_duration_since(Instant::now()))).await;
    let held_sample_before_pushes = Instant::now() < window_start;
    let held = relay.rss_kib().ok_or("the relay exited")?;

    let deadline = window_start + config.push_window + PUSH_GRACE + client::STEP;
    let mut latencies = Vec::with_capacity(n);
    let mut relay_late_max_ms = f64::NAN;
    let mut channels = Vec::with_capacity(n);
    while let Ok(Some(joined)) = timeout_at(deadline, tasks.join_next()).await {
        if let Ok(Ok(sample)) = joined {
            latencies.push(sample.latency_ms);
            relay_late_max_ms = relay_late_max_ms.max(sample.relay_late_ms);
            channels.push(sample.channel);
        }
    }
    tasks.abort_all();
    if let Some(first) = &count.first_failure {
        eprintln!(
            "bench-hold: {} of {n} connections failed; the first: {first}",
            count.failed
        );
    }
    let report = RoundReport {
        connections: n,
        failed: count.failed,
        baseline_rss_mib: mib(baseline),
        open_rss_mib: mib(open),
        held_rss_mib: mib(held),
        kib_per_conn: held.saturating_sub(baseline) as f64 / n as f64,
        pushes_missing: n - latencies.len(),
        push_latency: Latency::of(&mut latencies),
        relay_late_max_ms,
        connect_s,
        total_s: started.elapsed().as_secs_f64(),
        held_sample_before_pushes,
    };
    drop(channels);
    relay.stop().await;
    Ok(report)
}

/// Opens, waits for the go (the window's start), holds, waits for the push.
async fn connection(
    i: usize,
    source: IpAddr,
    offset: Duration,
    dialer: &Dialer,
    limits: Limits,
    mut go: watch::Receiver<Option<Instant>>,
    steps: &mpsc::UnboundedSender<Step>,
) -> Result<Sample, String> {
    let permit = limits.open.acquire().await.map_err(|e| e.to_string())?;
    let mut ws = dialer.open(source, &format!("bench-{i}")).await?;
    drop(permit);
    let _ = steps.send(Step::Opened);
    let window_start = go
        .wait_for(Option::is_some)
        .await
        .map_err(|_| "the round ended".to_string())?
        .unwrap_or_else(Instant::now);
    let permit = limits.hold.acquire().await.map_err(|e| e.to_string())?;
    let push_after_s = (window_start + offset)
        .saturating_duration_since(Instant::now())
        .as_secs_f64();
    let held_at = client::hold(&mut ws, &format!("h{i}"), push_after_s).await?;
    drop(permit);
    let _ = steps.send(Step::Held);
    let due = held_at + Duration::from_secs_f64(push_after_s);
    let (arrived, idle_s) = client::push(&mut ws, due + PUSH_GRACE).await?;
    let latency_ms = match arrived.checked_duration_since(due) {
        Some(late) => ms(late),
        None => -ms(due - arrived),
    };
    Ok(Sample {
        latency_ms,
        relay_late_ms: (idle_s - push_after_s) * 1000.0,
        channel: ws,
    })
}

/// Bounds on what the connection tasks do at once.
#[derive(Clone)]
struct Limits {
    open: Arc<Semaphore>,
    hold: Arc<Semaphore>,
}

#[derive(Default)]
struct Counts {
    opened: usize,
    held: usize,
    failed: usize,
    first_failure: Option<String>,
}

impl Counts {
    /// Counts steps until `done` says so or `deadline` passes.
    async fn until(
        &mut self,
        steps: &mut mpsc::UnboundedReceiver<Step>,
        deadline: Instant,
        done: impl Fn(&Counts) -> bool,
    ) {
        while !done(self) {
            match timeout_at(deadline, steps.recv()).await {
                Ok(Some(Step::Opened)) => self.opened += 1,
                Ok(Some(Step::Held)) => self.held += 1,
                Ok(Some(Step::Failed(why))) => {
                    self.failed += 1;
                    self.first_failure.get_or_insert(why);
                }
                Ok(None) | Err(_) => return,
            }
        }
    }
}
