//! One run: every target concurrently, each check under its deadline, then verdicts.

use crate::check::idle::{self, IdleReport, IdleSettings};
use crate::check::{self, CheckResult, Phases};
use crate::net::NetContext;
use crate::outcome::{Status, Verdict};
use crate::progress::Progress;
use crate::scenario::Cloud;
use crate::target::{Target, TargetKind};
use crate::timing::{PhaseSamples, Timings};
use serde::Serialize;

/// Identifies the JSON document; bump on any incompatible change.
pub const SCHEMA: &str = "probe.result/v1";

/// What one run is asked to do.
pub struct RunPlan {
    pub scenario: String,
    pub cloud: Cloud,
    pub segment: Option<String>,
    pub targets: Vec<Target>,
    /// Timing samples per target (`--count`).
    pub count: u32,
    /// The idle-connection check, unless skipped (`--quick`, or no requirement).
    pub idle: Option<IdleSettings>,
    pub progress: Progress,
    /// The proxy in use, redacted.
    pub proxy: Option<String>,
    /// Things the user should know about how the run was set up.
    pub notes: Vec<String>,
}

/// The whole result of a run, as written by every report format.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    pub schema: &'static str,
    pub probe_version: &'static str,
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
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetResult {
    pub name: String,
    pub url: String,
    pub kind: TargetKind,
    pub required: bool,
    /// Checked directly although a proxy is configured (`--compare-direct`).
    pub direct: bool,
    pub verdict: Verdict,
    pub checks: Vec<CheckResult>,
    /// Phase durations of the first pass.
    pub phases_ms: Phases,
    /// Percentiles over every pass, when `--count` > 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timings_ms: Option<Timings>,
    /// The idle ladder's findings, when the idle check ran.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idle: Option<IdleReport>,
}

impl RunResult {
    pub fn exit_code(&self) -> u8 {
        match self.verdict {
            Verdict::Pass => 0,
            Verdict::Fail => 1,
        }
    }
}

pub async fn run(ctx: &NetContext, plan: RunPlan) -> RunResult {
    let started_at = now_rfc3339();
    let count = plan.count.max(1);
    let results = futures_util::future::join_all(
        plan.targets
            .iter()
            .map(|t| run_target(ctx, t, count, plan.idle.as_ref(), &plan.progress)),
    )
    .await;
    let verdict = if results
        .iter()
        .any(|t| t.required && t.verdict == Verdict::Fail)
    {
        Verdict::Fail
    } else {
        Verdict::Pass
    };
    RunResult {
        schema: SCHEMA,
        probe_version: env!("CARGO_PKG_VERSION"),
        started_at,
        finished_at: now_rfc3339(),
        segment: plan.segment,
        scenario: plan.scenario,
        cloud: plan.cloud,
        verdict,
        proxy: plan.proxy,
        notes: plan.notes,
        targets: results,
    }
}

async fn run_target(
    ctx: &NetContext,
    target: &Target,
    count: u32,
    idle: Option<&IdleSettings>,
    progress: &Progress,
) -> TargetResult {
    tracing::info!(target = %target.url, "checking");
    let (mut checks, phases) = check::run_all(ctx, target).await;
    let timings_ms = if count > 1 {
        let mut samples = PhaseSamples::default();
        samples.record(&phases, passed(&checks));
        // Later passes only feed the timings; they run one after another so they do not
        // compete with each other for the path.
        for _ in 1..count {
            let (again, phases) = check::run_all(ctx, target).await;
            samples.record(&phases, passed(&again));
        }
        Some(samples.summary())
    } else {
        None
    };
    let idle = match idle {
        Some(settings) if target.idle => {
            if passed(&checks) {
                let bar = progress.idle(&target.name, settings.max_s, settings.rungs().len());
                let (result, report) = idle::run(ctx, target, settings, &bar).await;
                checks.push(result);
                Some(report)
            } else {
                checks.push(CheckResult::skipped(
                    check::CheckName::Idle,
                    "the connection itself failed",
                ));
                None
            }
        }
        _ => None,
    };
    let verdict = if passed(&checks) {
        Verdict::Pass
    } else {
        Verdict::Fail
    };
    tracing::info!(target = %target.url, verdict = verdict.as_str(), "checked");
    TargetResult {
        name: target.name.clone(),
        url: target.url.clone(),
        kind: target.kind,
        required: target.required,
        direct: target.direct,
        verdict,
        checks,
        phases_ms: phases,
        timings_ms,
        idle,
    }
}

fn passed(checks: &[CheckResult]) -> bool {
    checks.iter().all(|c| c.status != Status::Fail)
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
