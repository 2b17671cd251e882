//! One run: every target concurrently, each check under its deadline, then verdicts.

use crate::check::{self, Ctx};
use crate::plan::Plan;
use crate::result::{verdict_of_checks, RunResult, TargetResult, SCHEMA};
use crate::target::Target;
use crate::timing::PhaseSamples;

pub async fn run(plan: Plan) -> RunResult {
    let started_at = now_rfc3339();
    let ctx = Ctx {
        net: &plan.net,
        cloud: plan.cloud,
        idle: plan.idle.as_ref(),
        progress: &plan.progress,
    };
    let count = plan.count.max(1);
    let targets =
        futures_util::future::join_all(plan.targets.iter().map(|t| run_target(&ctx, t, count)))
            .await;
    RunResult {
        schema: SCHEMA.into(),
        probe_version: env!("CARGO_PKG_VERSION").into(),
        started_at,
        finished_at: now_rfc3339(),
        segment: plan.segment.clone(),
        scenario: plan.scenario.clone(),
        cloud: plan.cloud,
        verdict: RunResult::verdict_of(&targets),
        proxy: plan.proxy_shown(),
        notes: plan.notes.clone(),
        targets,
    }
}

async fn run_target(ctx: &Ctx<'_>, target: &Target, count: u32) -> TargetResult {
    tracing::info!(target = %target.url, "checking");
    let first = check::run_all(ctx, target).await;
    let timings_ms = if count > 1 {
        let mut samples = PhaseSamples::default();
        samples.record(&first.phases, first.reached());
        // Later passes only feed the timings, without the idle ladder; they run one after
        // another so they do not compete with each other for the path.
        let quick = Ctx { idle: None, ..*ctx };
        for _ in 1..count {
            let again = check::run_all(&quick, target).await;
            samples.record(&again.phases, again.reached());
        }
        Some(samples.summary())
    } else {
        None
    };
    let verdict = verdict_of_checks(&first.checks);
    tracing::info!(target = %target.url, verdict = verdict.as_str(), "checked");
    TargetResult {
        name: target.name.clone(),
        url: target.url.clone(),
        kind: target.kind,
        required: target.required,
        direct: target.direct,
        verdict,
        checks: first.checks,
        phases_ms: first.phases,
        timings_ms,
        idle: first.idle,
    }
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
