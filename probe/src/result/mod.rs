//! The result document, `probe.result/v1`: the one model that every report format writes and
//! `probe report` reads back (JSON Schema: `probe/schema/result-v1.json`, checked against these
//! types by a test).

mod cert;
mod check;
mod diagnosis;
#[cfg(test)]
pub(crate) mod fixture;
mod idle;
mod phases;
mod registry;
pub mod sanitize;
#[cfg(test)]
pub(crate) mod tests;

pub use cert::CertInfo;
pub use check::*;
pub use diagnosis::{diagnose, Diagnosis};
pub use idle::*;
pub use phases::{Percentiles, Phase, Phases, Timings};
pub(crate) use registry::each_check;

use crate::cloud::Cloud;
use crate::outcome::{Status, Verdict};
use crate::target::TargetKindName;
use serde::{Deserialize, Serialize};

/// Identifies the JSON document; bump on any incompatible change.
pub const SCHEMA: &str = "probe.result/v1";

/// The JSON Schema that every document validates against.
pub const SCHEMA_JSON: &str = include_str!("../../schema/result-v1.json");

/// The whole result of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    pub schema: String,
    /// The version and build identity ([`crate::version::LONG`]); older documents: the version.
    pub probe_version: String,
    pub started_at: String,
    pub finished_at: String,
    pub segment: Option<String>,
    pub scenario: String,
    pub cloud: Cloud,
    pub verdict: Verdict,
    /// The proxy in use (credentials shown as `****`), or null.
    pub proxy: Option<String>,
    pub notes: Vec<String>,
    pub targets: Vec<TargetResult>,
    /// The common cause when every failed target stopped at the same check with the same
    /// outcome ([`diagnose`]); absent otherwise, and in documents of older probes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Diagnosis>,
}

impl RunResult {
    /// 0 when every required target passed, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self.verdict {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
        }
    }

    /// Fail when a required target failed.
    pub fn verdict_of(targets: &[TargetResult]) -> Verdict {
        if targets
            .iter()
            .any(|t| t.required && t.verdict == Verdict::Fail)
        {
            Verdict::Fail
        } else {
            Verdict::Pass
        }
    }
}

/// One target's checks and findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetResult {
    pub name: String,
    pub url: String,
    pub kind: TargetKindName,
    pub required: bool,
    /// Checked directly although a proxy is configured (`--compare-direct`).
    pub direct: bool,
    pub verdict: Verdict,
    pub checks: Vec<CheckResult>,
    /// Phase durations of the first pass.
    pub phases_ms: Phases,
    /// Percentiles over every pass, when `--count` > 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timings_ms: Option<Timings>,
    /// The idle ladder's findings, when the idle check ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle: Option<IdleReport>,
}

impl TargetResult {
    /// The first failed check other than idle (the one to fix first).
    pub fn first_failure(&self) -> Option<&CheckResult> {
        self.checks
            .iter()
            .find(|c| c.status == Status::Fail && c.check != CheckName::Idle)
    }
}

/// Fail when any check failed.
pub fn verdict_of_checks(checks: &[CheckResult]) -> Verdict {
    if checks.iter().any(|c| c.status == Status::Fail) {
        Verdict::Fail
    } else {
        Verdict::Pass
    }
}
