//! What one round measured, as a text line and as JSON.

use serde::Serialize;
use std::time::Duration;

/// Push latency (arrival minus due) over the pushes that arrived, in milliseconds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Latency {
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Latency {
    /// Percentiles of `samples` (negative values, a push a hair before the client's own due
    /// estimate, count as they are).
    pub fn of(samples: &mut [f64]) -> Latency {
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| {
            samples
                .get(((samples.len() as f64 - 1.0) * q).round() as usize)
                .copied()
                .unwrap_or(f64::NAN)
        };
        Latency {
            p50_ms: at(0.50),
            p99_ms: at(0.99),
            max_ms: samples.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// One connection count against one fresh relay.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RoundReport {
    pub connections: usize,
    /// Connections that could not be opened or held.
    pub failed: usize,
    pub baseline_rss_mib: f64,
    /// Once every channel was open, before any hold.
    pub open_rss_mib: f64,
    /// Once every channel was held and quiet, before the first push.
    pub held_rss_mib: f64,
    /// (held - baseline) / connections.
    pub kib_per_conn: f64,
    pub push_latency: Latency,
    /// The relay's own lateness: `idle_s` minus `push_after_s`, worst case.
    pub relay_late_max_ms: f64,
    /// Holds that got no push (failed connections included): must be 0.
    pub pushes_missing: usize,
    pub connect_s: f64,
    pub total_s: f64,
    /// False if the held sample could only be taken after the first push was due.
    pub held_sample_before_pushes: bool,
}

impl RoundReport {
    /// One line for a person.
    pub fn line(&self) -> String {
        format!(
            "connections={} held_rss={:.1}MiB baseline={:.1}MiB kib_per_conn={:.2} \
             push_latency_ms p50={:.2} p99={:.2} max={:.2} relay_late_max={:.2}ms missing={} \
             failed={} connect={:.1}s total={:.1}s{}",
            self.connections,
            self.held_rss_mib,
            self.baseline_rss_mib,
            self.kib_per_conn,
            self.push_latency.p50_ms,
            self.push_latency.p99_ms,
            self.push_latency.max_ms,
            self.relay_late_max_ms,
            self.pushes_missing,
            self.failed,
            self.connect_s,
            self.total_s,
            if self.held_sample_before_pushes {
                ""
            } else {
                " (held RSS sampled after pushes began)"
            }
        )
    }
}

pub(crate) fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
