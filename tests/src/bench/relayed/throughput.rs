//! Request mode and rendezvous through a running mock-relay, each beside its direct reference
//! measured right after it in the same process.

use super::direct::DirectServers;
use super::http_load::{self, LoadOutcome, Target};
use super::responder::{respond, Answer};
use super::stream::{ack_each, push, StreamOutcome};
use crate::hc::{next_accept, HcTarget};
use crate::proc::cpu_seconds;
use crate::tls_client::{connect_tls, STEP};
use relay_protocol::hc::AUTHORIZATION_HEADER;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Request mode through the relay and direct.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RequestsReport {
    /// Listeners on the entity, each answering on its control channel.
    pub listeners: usize,
    /// `request` messages the listeners got (every relayed request answered reached one).
    pub listener_received: u64,
    /// The relay process's CPU time over its run divided by the wall time (1.0 = one core).
    pub relay_cpu_cores: f64,
    /// CPU microseconds per answered request, all processes of the path together (relay, this
    /// process's senders and listeners; direct: this process's senders and server).
    pub relay_path_cpu_us: f64,
    pub direct_cpu_us: f64,
    pub relay: LoadOutcome,
    pub direct: LoadOutcome,
}

/// Rendezvous through the relay and a direct TLS WebSocket.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RendezvousReport {
    pub relay: StreamOutcome,
    pub direct: StreamOutcome,
}

/// `cpu_s` seconds spread over `requests`, in microseconds each.
fn per_request(cpu_s: f64, requests: u64) -> f64 {
    cpu_s * 1e6 / requests.max(1) as f64
}

/// A request-mode target on `entity` through the relay, signed.
pub fn relay_target(hc: &HcTarget, entity: &str) -> Target {
    let endpoint = hc.cs.endpoint();
    Target {
        addr: hc.addr,
        ca_pem: hc.ca_pem.clone(),
        server_name: endpoint.host().trim_matches(['[', ']']).to_string(),
        host: endpoint.authority(),
        path: format!("/{entity}"),
        headers: vec![(AUTHORIZATION_HEADER.into(), hc.token(entity, 3600))],
    }
}

/// `connections` keep-alive senders for `duration` through the relay to `listeners` listeners,
/// then against the direct server; `relay_pid` is whose CPU time counts as the relay's.
pub async fn requests(
    hc: &HcTarget,
    relay_pid: Option<u32>,
    direct: &DirectServers,
    listeners: usize,
    connections: usize,
    duration: Duration,
) -> Result<RequestsReport, String> {
    let entity = "bench-requests";
    let received = Arc::new(AtomicU64::new(0));
    for i in 0..listeners.max(1) {
        let ws = hc
            .listen(entity, &format!("listener-{i}"))
            .await
            .map_err(|e| format!("listener {i}: {e:?}"))?;
        tokio::spawn(respond(ws, Answer::Now, received.clone()));
    }
    let relay_pids: Vec<u32> = relay_pid.into_iter().collect();
    let (me, both) = (
        [std::process::id()],
        [relay_pids.clone(), vec![std::process::id()]].concat(),
    );
    let (relay_before, both_before) = (cpu_seconds(&relay_pids), cpu_seconds(&both));
    let relay = http_load::run(&relay_target(hc, entity), connections, duration).await;
    let relay_cpu_cores = (cpu_seconds(&relay_pids) - relay_before) / relay.seconds;
    let relay_path_cpu_us = per_request(cpu_seconds(&both) - both_before, relay.requests);
    let direct_target = Target {
        addr: direct.https,
        ca_pem: direct.ca_pem.clone(),
        server_name: "localhost".into(),
        host: "localhost".into(),
        path: format!("/{entity}"),
        headers: Vec::new(),
    };
    let direct_before = cpu_seconds(&me);
    let direct = http_load::run(&direct_target, connections, duration).await;
    let direct_cpu_us = per_request(cpu_seconds(&me) - direct_before, direct.requests);
    Ok(RequestsReport {
        listeners: listeners.max(1),
        listener_received: received.load(Ordering::Relaxed),
        relay_cpu_cores,
        relay_path_cpu_us,
        direct_cpu_us,
        relay,
        direct,
    })
}

/// One sender pushing 1 MiB messages to one listener for `duration` through an accepted
/// rendezvous, then over the direct TLS WebSocket.
pub async fn rendezvous(
    hc: &HcTarget,
    direct: &DirectServers,
    duration: Duration,
) -> Result<RendezvousReport, String> {
    let entity = "bench-stream";
    let mut listener = hc
        .listen(entity, "listener")
        .await
        .map_err(|e| format!("listener: {e:?}"))?;
    let sender = {
        let hc = hc.clone();
        tokio::spawn(async move { hc.send(entity, "sender").await })
    };
    let accept = next_accept(&mut listener, STEP)
        .await
        .ok_or("no accept within the step")?;
    let accepted = hc
        .open(&accept.address, None)
        .await
        .map_err(|e| format!("accept: {e:?}"))?;
    tokio::spawn(ack_each(accepted));
    let sender = tokio::time::timeout(STEP, sender)
        .await
        .map_err(|_| "the sender's handshake did not finish")?
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("sender: {e:?}"))?;
    let relay = push(sender, duration).await;
    let tls = connect_tls(direct.wss, &direct.ca_pem, "localhost")
        .await
        .map_err(|e| format!("direct: {e}"))?;
    let (ws, _) = tokio::time::timeout(
        STEP,
        tokio_tungstenite::client_async("wss://localhost/", tls),
    )
    .await
    .map_err(|_| "direct WebSocket handshake timed out")?
    .map_err(|e| format!("direct WebSocket: {e}"))?;
    let direct = push(ws, duration).await;
    Ok(RendezvousReport { relay, direct })
}
