//! The relay's resident memory with many listeners connected and slow requests in flight: a
//! fresh relay, its RSS alone, with every listener connected, and with every request delivered
//! to a listener that holds its answer; then the answers are released and counted.

use super::http_load::Client;
use super::responder::{respond, Answer};
use super::throughput::relay_target;
use crate::bench::hold::RelayProcess;
use crate::tls_client::STEP;
use relay_protocol::hc::MAX_LISTENERS_PER_ENTITY;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;

/// How long the held requests may take to reach their listeners.
const DELIVERY_LIMIT: Duration = Duration::from_secs(60);

/// What to hold.
#[derive(Debug, Clone)]
pub struct FootprintConfig {
    pub mock_relay: PathBuf,
    pub listeners: usize,
    pub in_flight: usize,
    /// Listener handshakes at once.
    pub concurrency: usize,
}

/// What the relay's memory was.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Footprint {
    pub listeners: usize,
    /// Entities the listeners were spread over (the per-entity quota).
    pub entities: usize,
    pub in_flight: usize,
    pub baseline_rss_mib: f64,
    pub listening_rss_mib: f64,
    pub in_flight_rss_mib: f64,
    /// Requests that reached a listener while held.
    pub delivered: u64,
    /// Requests answered 200 once released.
    pub answered: u64,
    pub failed: u64,
}

/// Runs the measurement against a fresh relay.
pub async fn run(config: &FootprintConfig) -> Result<Footprint, String> {
    let relay = RelayProcess::start(&config.mock_relay, &[]).await?;
    let hc = relay.hc().ok_or("the relay printed no connection string")?;
    let rss = |relay: &RelayProcess| {
        relay
            .rss_kib()
            .map(|k| k as f64 / 1024.0)
            .ok_or_else(|| "the relay exited".to_string())
    };
    let baseline_rss_mib = rss(&relay)?;
    let entities = config.listeners.div_ceil(MAX_LISTENERS_PER_ENTITY).max(1);
    let entity = |i: usize| format!("footprint-{}", i % entities);
    let (release, held) = watch::channel(false);
    let delivered = Arc::new(AtomicU64::new(0));
    let gate = Arc::new(Semaphore::new(config.concurrency.max(1)));
    let mut opening = JoinSet::new();
    for i in 0..config.listeners {
        let (hc, gate, entity, answer, delivered) = (
            hc.clone(),
            gate.clone(),
            entity(i),
            Answer::WhenReleased(held.clone()),
            delivered.clone(),
        );
        opening.spawn(async move {
            let permit = gate.acquire_owned().await.expect("never closed");
            let ws = hc.listen(&entity, &format!("listener-{i}")).await;
            drop(permit);
            let ws = ws.map_err(|e| format!("listener {i}: {e:?}"))?;
            tokio::spawn(respond(ws, answer, delivered));
            Ok::<_, String>(())
        });
    }
    while let Some(opened) = opening.join_next().await {
        opened.map_err(|e| e.to_string())??;
    }
    let listening_rss_mib = rss(&relay)?;
    let mut requests = JoinSet::new();
    for i in 0..config.in_flight {
        let target = relay_target(&hc, &entity(i));
        requests.spawn(async move {
            let mut client = Client::connect(&target).await?;
            client.get(&target, DELIVERY_LIMIT + STEP).await
        });
    }
    let deadline = Instant::now() + DELIVERY_LIMIT;
    while (delivered.load(Ordering::Relaxed) as usize) < config.in_flight
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let in_flight_rss_mib = rss(&relay)?;
    let delivered = delivered.load(Ordering::Relaxed);
    let _ = release.send(true);
    let (mut answered, mut failed) = (0, 0);
    while let Some(done) = requests.join_next().await {
        match done {
            Ok(Ok(())) => answered += 1,
            _ => failed += 1,
        }
    }
    relay.stop().await;
    Ok(Footprint {
        listeners: config.listeners,
        entities,
        in_flight: config.in_flight,
        baseline_rss_mib,
        listening_rss_mib,
        in_flight_rss_mib,
        delivered,
        answered,
        failed,
    })
}
