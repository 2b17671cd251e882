//! The watch's Prometheus families (`probe_watch_*`), kept per target as the watch goes and
//! rendered on each scrape. Memory is fixed per target: counters by outcome word, a histogram
//! of fixed buckets.

use super::event::PushOutcome;
use crate::outcome::Outcome;
use crate::report::prometheus::escape_label;
use crate::seconds::Seconds;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::{Duration, Instant};

/// Upper bounds of the push latency histogram, seconds.
pub const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// What the watch knows of one target.
#[derive(Debug, Clone)]
pub struct TargetStats {
    pub name: String,
    pub pushes: BTreeMap<&'static str, u64>,
    /// Cumulative per bucket, as the exposition wants.
    latency_buckets: [u64; LATENCY_BUCKETS.len()],
    latency_sum_s: f64,
    latency_count: u64,
    /// Since when the listener is open; `None` while it is down.
    pub listening_since: Option<Instant>,
    pub reopens: BTreeMap<&'static str, u64>,
    pub incidents: u64,
    /// Seconds of incidents that ended.
    pub incident_closed: Seconds,
    /// The open incident's first failed push.
    pub incident_open_since: Option<Instant>,
}

impl TargetStats {
    pub fn new(name: &str) -> TargetStats {
        TargetStats {
            name: name.to_string(),
            pushes: BTreeMap::new(),
            latency_buckets: [0; LATENCY_BUCKETS.len()],
            latency_sum_s: 0.0,
            latency_count: 0,
            listening_since: None,
            reopens: BTreeMap::new(),
            incidents: 0,
            incident_closed: Seconds::ZERO,
            incident_open_since: None,
        }
    }

    pub fn push(&mut self, outcome: PushOutcome, latency: Option<Duration>) {
        *self.pushes.entry(outcome.as_str()).or_default() += 1;
        if let Some(l) = latency {
            let s = l.as_secs_f64();
            for (count, bound) in self.latency_buckets.iter_mut().zip(LATENCY_BUCKETS) {
                if s <= bound {
                    *count += 1;
                }
            }
            self.latency_sum_s += s;
            self.latency_count += 1;
        }
    }

    pub fn reopened(&mut self, reason: Outcome) {
        *self.reopens.entry(reason.as_str()).or_default() += 1;
    }

    pub fn total_pushes(&self) -> u64 {
        self.pushes.values().sum()
    }

    pub fn failed_pushes(&self) -> u64 {
        self.total_pushes() - self.pushes.get("delivered").copied().unwrap_or(0)
    }
}

/// The exposition of every target's families, labelled `target` and `segment`.
pub fn render(targets: &[TargetStats], segment: &str, now: Instant) -> String {
    let mut out = String::new();
    let seg = escape_label(segment);
    let base = |t: &TargetStats| format!("target=\"{}\",segment=\"{seg}\"", escape_label(&t.name));
    let mut family = |name: &str, kind: &str, help: &str, lines: &mut dyn FnMut(&mut String)| {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        lines(&mut out);
    };
    family(
        "probe_watch_pushes_total",
        "counter",
        "Pushes through the relay to the watched listener, by outcome (delivered, or the failure's word).",
        &mut |o| {
            for t in targets {
                if t.pushes.is_empty() {
                    let _ = writeln!(o, "probe_watch_pushes_total{{{},outcome=\"delivered\"}} 0", base(t));
                }
                for (outcome, n) in &t.pushes {
                    let _ = writeln!(o, "probe_watch_pushes_total{{{},outcome=\"{outcome}\"}} {n}", base(t));
                }
            }
        },
    );
    family(
        "probe_watch_push_latency_seconds",
        "histogram",
        "How long a delivered push took to reach the listener.",
        &mut |o| {
            for t in targets {
                let b = base(t);
                for (bound, n) in LATENCY_BUCKETS.iter().zip(t.latency_buckets) {
                    let _ = writeln!(
                        o,
                        "probe_watch_push_latency_seconds_bucket{{{b},le=\"{bound}\"}} {n}"
                    );
                }
                let _ = writeln!(
                    o,
                    "probe_watch_push_latency_seconds_bucket{{{b},le=\"+Inf\"}} {}",
                    t.latency_count
                );
                let _ = writeln!(
                    o,
                    "probe_watch_push_latency_seconds_sum{{{b}}} {}",
                    t.latency_sum_s
                );
                let _ = writeln!(
                    o,
                    "probe_watch_push_latency_seconds_count{{{b}}} {}",
                    t.latency_count
                );
            }
        },
    );
    family(
        "probe_watch_listener_up",
        "gauge",
        "1 while the watch's listener is open, 0 while it is being reopened.",
        &mut |o| {
            for t in targets {
                let _ = writeln!(
                    o,
                    "probe_watch_listener_up{{{}}} {}",
                    base(t),
                    u8::from(t.listening_since.is_some())
                );
            }
        },
    );
    family(
        "probe_watch_listener_age_seconds",
        "gauge",
        "How long the listener's current connection has been open (0 while down).",
        &mut |o| {
            for t in targets {
                let age = t
                    .listening_since
                    .map_or(0.0, |s| now.saturating_duration_since(s).as_secs_f64());
                let _ = writeln!(
                    o,
                    "probe_watch_listener_age_seconds{{{}}} {:.3}",
                    base(t),
                    age
                );
            }
        },
    );
    family(
        "probe_watch_reopens_total",
        "counter",
        "Reopen attempts of a failed listener, by the failure that made it necessary.",
        &mut |o| {
            for t in targets {
                for (reason, n) in &t.reopens {
                    let _ = writeln!(
                        o,
                        "probe_watch_reopens_total{{{},reason=\"{reason}\"}} {n}",
                        base(t)
                    );
                }
            }
        },
    );
    family(
        "probe_watch_incidents_total",
        "counter",
        "Incidents begun: runs of consecutive failed pushes.",
        &mut |o| {
            for t in targets {
                let _ = writeln!(
                    o,
                    "probe_watch_incidents_total{{{}}} {}",
                    base(t),
                    t.incidents
                );
            }
        },
    );
    family(
        "probe_watch_incident_seconds_total",
        "counter",
        "Seconds spent in incidents, from each one's first failed push to its first good delivery (the open one so far included).",
        &mut |o| {
            for t in targets {
                let open = t.incident_open_since.map_or(0.0, |s| now.saturating_duration_since(s).as_secs_f64());
                let _ = writeln!(o, "probe_watch_incident_seconds_total{{{}}} {:.3}", base(t), t.incident_closed.as_f64() + open);
            }
        },
    );
    family(
        "probe_watch_incident_ongoing",
        "gauge",
        "1 while an incident is open on the target.",
        &mut |o| {
            for t in targets {
                let _ = writeln!(
                    o,
                    "probe_watch_incident_ongoing{{{}}} {}",
                    base(t),
                    u8::from(t.incident_open_since.is_some())
                );
            }
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_render_with_labels_and_cumulative_buckets() {
        let mut t = TargetStats::new("relay \"lab\"");
        t.push(PushOutcome::Delivered, Some(Duration::from_millis(3)));
        t.push(PushOutcome::Delivered, Some(Duration::from_millis(200)));
        t.push(PushOutcome::Failed(Outcome::SilentDrop), None);
        t.reopened(Outcome::SilentDrop);
        t.incidents = 1;
        let text = render(&[t], "b7", Instant::now());
        let l = "target=\"relay \\\"lab\\\"\",segment=\"b7\"";
        for line in [
            format!("probe_watch_pushes_total{{{l},outcome=\"delivered\"}} 2"),
            format!("probe_watch_pushes_total{{{l},outcome=\"silent_drop\"}} 1"),
            format!("probe_watch_push_latency_seconds_bucket{{{l},le=\"0.005\"}} 1"),
            format!("probe_watch_push_latency_seconds_bucket{{{l},le=\"0.25\"}} 2"),
            format!("probe_watch_push_latency_seconds_count{{{l}}} 2"),
            format!("probe_watch_listener_up{{{l}}} 0"),
            format!("probe_watch_reopens_total{{{l},reason=\"silent_drop\"}} 1"),
            format!("probe_watch_incidents_total{{{l}}} 1"),
            "# TYPE probe_watch_push_latency_seconds histogram".to_string(),
        ] {
            assert!(text.lines().any(|x| x == line), "missing {line}\n{text}");
        }
    }
}
