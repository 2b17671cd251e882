//! What the idle check reports (the target's `idle` object in JSON).

use crate::outcome::Outcome;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdleVerdict {
    Pass,
    Fail,
    /// The control connection failed too: the path or the server broke, not an idle timer.
    Inconclusive,
}

impl IdleVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            IdleVerdict::Pass => "pass",
            IdleVerdict::Fail => "fail",
            IdleVerdict::Inconclusive => "inconclusive",
        }
    }
}

/// Which way a test connection was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The relay pushed down the idle connection (the direction a reset request travels).
    ServerPush,
    /// The client sent on the idle connection and waited for the answer.
    ClientSend,
}

/// One check of one test connection.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeRecord {
    pub idle_s: f64,
    pub direction: Direction,
    /// `survived`, `reset`, `silent_drop`, `closed` or `tls_close_notify`.
    pub outcome: Outcome,
    /// Seconds from the start of idle to when the outcome was known.
    pub detected_after_s: Option<f64>,
    /// A RST or FIN arrived by itself while the connection was idle.
    pub unprompted: bool,
    /// 1 for the ladder, 2 for the `--refine` round.
    pub round: u8,
}

/// The control connection: active all along, so its death means the path or server failed.
#[derive(Debug, Clone, Serialize)]
pub struct ControlReport {
    pub interval_s: f64,
    pub outcome: Outcome,
    /// Seconds from the start of the ladder to the control's failure.
    pub failed_after_s: Option<f64>,
}

/// A connection held for `--idle-max` with some activity that may keep it alive.
#[derive(Debug, Clone, Serialize)]
pub struct VariantReport {
    /// `tcp_keepalive` or `heartbeat`.
    pub variant: &'static str,
    pub interval_s: f64,
    pub idle_s: f64,
    pub outcome: Outcome,
    pub detected_after_s: Option<f64>,
    /// Why the connection could not be set up, when it could not.
    pub error: Option<String>,
}

/// The target's `idle` object.
#[derive(Debug, Clone, Serialize)]
pub struct IdleReport {
    pub required_s: f64,
    /// Longest idle period that survived in every direction.
    pub survived_s: Option<f64>,
    /// Shortest idle period that failed, or null.
    pub failed_s: Option<f64>,
    /// How that one failed.
    pub failure: Option<Outcome>,
    pub verdict: IdleVerdict,
    pub step_s: f64,
    pub probes: Vec<ProbeRecord>,
    pub control: ControlReport,
    pub variants: Vec<VariantReport>,
    /// Where idle connections die, in one line (device candidates and the setting to change).
    pub advice: String,
}
