//! Idle verdict accuracy through the lab's kernel firewall: the router drops (blackhole) or
//! resets connections idle for T, the probe runs an idle ladder from the client namespace to a
//! mock-relay in the server namespace, and the bracket it reports is held against T.

use crate::lab::{self, firewall, probe, MockRelay, Topology};
use serde::Serialize;
use std::net::SocketAddr;
use std::time::Duration;

/// What the firewall does at its idle timeout.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Blackhole,
    Reset,
}

/// One ladder through one firewall setting.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub action: Action,
    /// The firewall's idle timeout, seconds.
    pub timeout_s: f64,
    /// The probe's verdict word for the cut (`silent_drop`, `reset`, ...), if it saw one.
    pub failure: Option<String>,
    pub survived_s: Option<f64>,
    pub failed_s: Option<f64>,
    /// survived_s <= T <= failed_s.
    pub contains_t: bool,
    pub width_s: Option<f64>,
    /// The idle check's own wall time.
    pub wall_s: f64,
    /// The ladder's longest rung.
    pub longest_rung_s: f64,
}

/// Runs one ladder through a firewall that strikes at `timeout_s` (whole seconds: conntrack's
/// timeouts are): rungs every second from 0.5 s to `timeout_s + 3.5`, so T falls between two
/// rungs, never on one.
pub async fn measure(action: Action, timeout_s: u64) -> Case {
    let timeout_s = timeout_s as f64;
    let t = Duration::from_secs_f64(timeout_s);
    let topo = Topology::new();
    topo.apply(&[match action {
        Action::Blackhole => firewall::blackhole_after(t),
        Action::Reset => firewall::reset_after(t),
    }]);
    let relay = MockRelay::start(
        &topo.server_site(),
        SocketAddr::from((topo.server_ip, 443)),
        &["--hostname", "relay.lab.test"],
    );
    let resolve = format!("relay.lab.test:443:{}", topo.server_ip);
    let ca = relay.ca_path.display().to_string();
    let longest = (timeout_s + 3.5).to_string();
    let run = probe::run(
        &topo.client_site(),
        &[
            "run",
            "--target",
            "relay://relay.lab.test:443",
            "--resolve",
            &resolve,
            "--ca-file",
            &ca,
            "--format",
            "json",
            "--timeout",
            "5",
            "--idle",
            &longest,
            "--idle-min",
            "0.5",
            "--idle-max",
            &longest,
            "--idle-step",
            "1",
        ],
        Duration::from_secs(120),
    )
    .await;
    let json = run.json();
    let idle = &json["targets"][0]["idle"];
    let survived_s = idle["survived_s"].as_f64();
    let failed_s = idle["failed_s"].as_f64();
    let longest_rung_s = idle["probes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["idle_s"].as_f64())
        .fold(0.0, f64::max);
    Case {
        action,
        timeout_s,
        failure: idle["failure"].as_str().map(str::to_string),
        survived_s,
        failed_s,
        contains_t: survived_s.unwrap_or(0.0) <= timeout_s
            && failed_s.is_some_and(|f| timeout_s <= f),
        width_s: failed_s.map(|f| f - survived_s.unwrap_or(0.0)),
        wall_s: run.check("idle")["duration_ms"].as_f64().unwrap_or(0.0) / 1000.0,
        longest_rung_s,
    }
}

/// Why the lab cannot run here, if it cannot.
pub fn unavailable() -> Option<String> {
    lab::skip::missing(&["nft"])
}
