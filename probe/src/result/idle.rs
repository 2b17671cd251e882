//! What the idle check reports (the target's `idle` object), and the one rule that reads a
//! ladder's records as rungs: the verdict, the human report and the charts all use it.

use crate::outcome::Outcome;
use crate::seconds::Seconds;
use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum IdleVerdict {
    Pass,
    Fail,
    /// The path could not be judged: the control connection failed too, the ladder stopped
    /// short of the requirement, or the far end itself limits idle connections.
    Inconclusive,
}

impl IdleVerdict {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Which way a test connection was checked.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Direction {
    /// The relay pushed down the idle connection (the direction a reset request travels).
    ServerPush,
    /// The client sent on the idle connection and waited for the answer.
    ClientSend,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// One check of one test connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeRecord {
    pub idle_s: Seconds,
    pub direction: Direction,
    /// `survived`, `reset`, `silent_drop`, `closed` or `tls_close_notify`.
    pub outcome: Outcome,
    /// Seconds from the start of idle to when the outcome was known.
    pub detected_after_s: Option<Seconds>,
    /// A RST or FIN arrived by itself while the connection was idle.
    pub unprompted: bool,
    /// 1 for the ladder, 2 for the `--refine` round.
    pub round: u8,
    /// The hybrid connection entity whose listener this was (hybrid connection targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// How the sender that was to reach this listener fared (hybrid connection targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender: Option<SenderView>,
    /// What the kernel knew of the connection when no answer came (Linux): whether the probe's
    /// bytes were acknowledged, how often they were retransmitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<TcpEvidence>,
}

/// The sender's side of a hybrid connection rung: what its handshake got, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SenderView {
    /// `accepted`, `rejected`, `no_listener`, `timeout`, or how its connection failed.
    pub outcome: Outcome,
    /// The handshake's HTTP status (101 once accepted), when there was one.
    pub status_code: Option<u16>,
    /// Seconds from the sender's start to its outcome.
    pub after_s: Seconds,
}

/// How a hybrid connection's idle ladder was laid out: one listener per entity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HcLadder {
    /// Entities available (the connection string's and `--hc-entity`).
    pub entities: usize,
    /// Idle periods tested in parallel, one entity each.
    pub rungs: usize,
    /// The control listener's entity (shared with the only rung when there is one entity).
    pub control_entity: String,
}

/// The control connection: active all along, so its death means the path or server failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlReport {
    pub interval_s: Seconds,
    pub outcome: Outcome,
    /// Seconds from the start of the ladder to the control's failure.
    pub failed_after_s: Option<Seconds>,
}

impl ControlReport {
    /// The control's report: `outcome`, and when it failed (seconds since `started`) if it did.
    pub fn at(
        interval: std::time::Duration,
        outcome: Outcome,
        failed: bool,
        started: std::time::Instant,
    ) -> ControlReport {
        ControlReport {
            interval_s: interval.into(),
            outcome,
            failed_after_s: failed.then(|| Seconds::rounded_to_ms(started.elapsed())),
        }
    }
}

/// What keeps a variant connection busy while the ladder runs.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Variant {
    /// TCP keepalive probes (layer 4): refresh NATs and firewalls, not proxies.
    TcpKeepalive,
    /// Application heartbeats (layer 7): refresh every middlebox.
    Heartbeat,
}

impl Variant {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A connection held for `--idle-max` with some activity that may keep it alive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariantReport {
    pub variant: Variant,
    pub interval_s: Seconds,
    pub idle_s: Seconds,
    pub outcome: Outcome,
    pub detected_after_s: Option<Seconds>,
    /// Why the connection could not be set up, when it could not.
    pub error: Option<String>,
}

/// The target's `idle` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IdleReport {
    pub required_s: Seconds,
    /// Survival short of this (but past `required_s`) passes with a warning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommended_s: Option<Seconds>,
    /// Longest idle period that survived in every direction.
    pub survived_s: Option<Seconds>,
    /// Shortest idle period that failed, or null.
    pub failed_s: Option<Seconds>,
    /// How that one failed.
    pub failure: Option<Outcome>,
    pub verdict: IdleVerdict,
    pub step_s: Seconds,
    pub probes: Vec<ProbeRecord>,
    pub control: ControlReport,
    pub variants: Vec<VariantReport>,
    /// Where idle connections die, in one line (device candidates and the setting to change).
    pub advice: String,
    /// The layout over a hybrid connection's entities (hybrid connection targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hc_ladder: Option<HcLadder>,
    /// Idle periods whose connections contradict the rest (a failure below a survival): the
    /// verdict rests on the consistent ones, and these are named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unstable_s: Vec<Seconds>,
    /// What writeback's listener would see on this path (the model in `writeback.rs`);
    /// absent when the ladder cannot say, and in documents of older probes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub writeback: Option<WritebackImpact>,
}

impl IdleReport {
    /// Every idle period tested, shortest first, with its connection's outcome.
    pub fn rungs(&self) -> Vec<Rung> {
        rungs(&self.probes)
    }
}

/// One connection of the ladder (an idle period in one round) and what became of it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rung {
    pub idle_s: Seconds,
    pub round: u8,
    pub outcome: Outcome,
}

/// How telling a failure outcome is: a RST or FIN names its sender's kind, silence does not.
fn weight(o: Outcome) -> u8 {
    match o {
        Outcome::Reset => 4,
        Outcome::Closed => 3,
        Outcome::TlsCloseNotify => 2,
        Outcome::SilentDrop => 1,
        _ => 0,
    }
}

/// The outcome of one connection over all its directions: survived only if every direction
/// survived; otherwise the most telling failure.
pub fn connection_outcome<'a>(records: impl IntoIterator<Item = &'a ProbeRecord>) -> Outcome {
    records
        .into_iter()
        .map(|r| r.outcome)
        .filter(|o| *o != Outcome::Survived)
        .max_by_key(|o| weight(*o))
        .unwrap_or(Outcome::Survived)
}

/// The records grouped by connection (idle period and round), shortest first, each with the
/// connection's outcome over its directions.
pub fn rungs(records: &[ProbeRecord]) -> Vec<Rung> {
    let mut keys: Vec<(Seconds, u8)> = records.iter().map(|r| (r.idle_s, r.round)).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .map(|(idle_s, round)| Rung {
            idle_s,
            round,
            outcome: connection_outcome(
                records
                    .iter()
                    .filter(|r| r.idle_s == idle_s && r.round == round),
            ),
        })
        .collect()
}

/// The kernel's view of one connection at one moment (Linux `TCP_INFO`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpEvidence {
    /// Segments sent and not yet acknowledged.
    pub unacked: u32,
    /// Retransmissions of the current unacknowledged data (the RTO backoff count).
    pub retransmits: u32,
    /// Retransmitted segments over the connection's life.
    pub total_retransmits: u32,
    /// Milliseconds since the last ACK arrived.
    pub last_ack_ms: u32,
}

/// How a dead listener is noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detection {
    /// The keep-alives keep the listener open: no cut.
    NotCut,
    /// A RST or FIN arrives at the cut.
    AtOnce,
    /// A RST answers the listener's next keep-alive.
    NextKeepalive,
    /// Nothing arrives: writeback's next heartbeat.
    NextHeartbeat,
}

/// The target's `idle.writeback` object (`writeback.rs` fills it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WritebackImpact {
    pub detection: Detection,
    /// Share of password resets that would fail, in percent, for a cut at the bracket's upper
    /// end (the fewest) and at its lower end (the most); equal for a single value.
    pub failing_pct_low: f64,
    pub failing_pct_high: f64,
    /// The longest a dead listener would stay unnoticed.
    pub undetected_s: Seconds,
    /// The model's answer in one sentence.
    pub summary: String,
}
