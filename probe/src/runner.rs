//! One run: every target concurrently, each check under its deadline, the whole run under the
//! run deadline (`--max-time`, or derived from the plan), then verdicts.

use crate::check::{self, Ctx};
use crate::plan::Plan;
use crate::result::{
    diagnose, verdict_of_checks, CheckName, Details, RunResult, TargetResult, SCHEMA,
};
use crate::target::Target;
use crate::timing::PhaseSamples;
use std::time::Duration;

/// Added to the derived run deadline: the run's own work between phases (reports, progress).
pub const RUN_SLACK: Duration = Duration::from_secs(30);

/// The run deadline derived from a plan: the slowest target with every phase running to its
/// deadline (`--timeout`) on every pass (`--count`), its idle ladder, and [`RUN_SLACK`].
pub fn derived_deadline(ctx: &Ctx<'_>, targets: &[Target], count: u32) -> Duration {
    targets
        .iter()
        .map(|t| check::worst_case(ctx, t, count))
        .max()
        .unwrap_or_default()
        .saturating_add(RUN_SLACK)
}

pub async fn run(plan: Plan) -> RunResult {
    let started_at = now_rfc3339();
    let ctx = Ctx {
        net: &plan.net,
        cloud: plan.cloud,
        idle: plan.idle.as_ref(),
        progress: &plan.progress,
    };
    let count = plan.count.max(1);
    let (limit, origin) = match plan.max_time {
        Some(limit) => (limit, "--max-time"),
        None => (
            derived_deadline(&ctx, &plan.targets, count),
            "derived from the plan",
        ),
    };
    let why = format!(
        "the run deadline of {} s ({origin}) passed",
        crate::seconds::fmt_s(limit.into())
    );
    if let Some(hold) = idle_hold(&ctx, &plan.targets) {
        announce(&plan, hold, limit);
    }
    let deadline = tokio::time::Instant::now()
        .checked_add(limit)
        .unwrap_or_else(far_future);
    let runs = plan
        .targets
        .iter()
        .map(|t| run_target(&ctx, t, count, deadline, &why));
    let (targets, finished): (Vec<TargetResult>, Vec<bool>) = futures_util::future::join_all(runs)
        .await
        .into_iter()
        .unzip();
    let mut notes = plan.notes.clone();
    let stopped: Vec<&str> = targets
        .iter()
        .zip(&finished)
        .filter(|(_, done)| !**done)
        .map(|(t, _)| t.name.as_str())
        .collect();
    if !stopped.is_empty() {
        let note = format!("{why}: stopped unfinished: {}", stopped.join(", "));
        tracing::warn!("{note}");
        notes.push(note);
    }
    notes.extend(relay_pair_note(&plan.targets, &targets));
    notes.extend(rehearsal_note(&targets));
    let mut result = RunResult {
        schema: SCHEMA.into(),
        probe_version: crate::version::LONG.into(),
        started_at,
        finished_at: now_rfc3339(),
        segment: plan.segment.clone(),
        scenario: plan.scenario.clone(),
        cloud: plan.cloud,
        verdict: RunResult::verdict_of(&targets),
        proxy: plan.proxy_shown(),
        notes,
        targets,
        diagnosis: None,
    }
    .sanitized();
    result.diagnosis = diagnose(&result);
    result
}

/// How long the run holds idle connections: the idle ladder's longest period (twice with
/// `--refine`), when a target gets the idle check.
pub fn idle_hold(ctx: &Ctx<'_>, targets: &[Target]) -> Option<Duration> {
    let idle = ctx.idle?;
    let rounds = if idle.refine { 2 } else { 1 };
    targets
        .iter()
        .any(|t| check::plan(ctx, t).contains(&CheckName::Idle))
        .then(|| idle.max_s.duration().saturating_mul(rounds))
}

/// Says, before a run that holds idle connections, how long it will take and how to skip the
/// wait; the progress bars then count down to that end.
fn announce(plan: &Plan, hold: Duration, limit: Duration) {
    let human =
        |d: Duration| humantime::format_duration(Duration::from_secs(d.as_secs())).to_string();
    // The other checks run before the ladder, and take milliseconds on a path that works.
    let expected = hold.saturating_add(Duration::from_secs(2)).min(limit);
    let skip = plan
        .skip_idle_with
        .map(|flag| format!("; {flag} skips the idle check"))
        .unwrap_or_default();
    let notice = format!(
        "this run holds idle connections open for up to {}, so it takes a little over that ({} at most){skip}",
        human(hold),
        human(limit)
    );
    tracing::info!("{notice}");
    plan.progress.long_run(&notice, expected);
}

/// A deadline no run reaches (for a `--max-time` beyond what the clock can add).
fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(86_400 * 365)
}

/// The target's result, and whether every pass finished before the run deadline.
async fn run_target(
    ctx: &Ctx<'_>,
    target: &Target,
    count: u32,
    deadline: tokio::time::Instant,
    why: &str,
) -> (TargetResult, bool) {
    tracing::info!(target = %target.url, "checking");
    let (first, mut finished) = check::run_all(ctx, target, deadline, why).await;
    let timings_ms = if count > 1 {
        let mut samples = PhaseSamples::default();
        samples.record(&first.phases, first.reached());
        // Later passes only feed the timings, without the idle ladder; they run one after
        // another so they do not compete with each other for the path.
        let quick = Ctx { idle: None, ..*ctx };
        for _ in 1..count {
            if !finished {
                break;
            }
            let (again, done) = check::run_all(&quick, target, deadline, why).await;
            finished = done;
            if done {
                samples.record(&again.phases, again.reached());
            }
        }
        Some(samples.summary())
    } else {
        None
    };
    let verdict = verdict_of_checks(&first.checks);
    tracing::info!(target = %target.url, verdict = verdict.as_str(), "checked");
    let result = TargetResult {
        name: target.name.clone(),
        url: target.url.clone(),
        kind: target.kind.name(),
        required: target.required,
        direct: target.direct,
        verdict,
        checks: first.checks,
        phases_ms: first.phases,
        timings_ms,
        idle: first.idle,
    };
    (result, finished)
}

/// Writeback listens on its relays all at once and reports an error when any one is down: when
/// some relay namespaces of the run failed and others did not, say which.
fn relay_pair_note(targets: &[Target], results: &[TargetResult]) -> Option<String> {
    let relays: Vec<&TargetResult> = targets
        .iter()
        .zip(results)
        .filter(|(t, _)| t.relay_namespace().is_some())
        .map(|(_, r)| r)
        .collect();
    let (failed, passed): (Vec<&TargetResult>, Vec<&TargetResult>) = relays
        .iter()
        .partition(|r| r.verdict == crate::outcome::Verdict::Fail);
    if relays.len() < 2 || failed.is_empty() {
        return None;
    }
    let names = |list: &[&TargetResult]| {
        list.iter()
            .map(|r| match r.first_failure() {
                Some(c) => format!("{} ({} {})", r.name, c.check, c.outcome),
                None => r.name.clone(),
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let state = if passed.is_empty() {
        "every one failed".to_string()
    } else {
        format!("{} passed", names(&passed))
    };
    Some(format!(
        "writeback listens on its relays all at once and reports an error when any one is down: {} failed; {state}",
        names(&failed)
    ))
}

/// Targets whose trusted chain came from a mock-relay's CA: what the run then shows.
fn rehearsal_note(results: &[TargetResult]) -> Option<String> {
    let rehearsed: Vec<&str> = results
        .iter()
        .filter(|r| {
            r.checks.iter().any(|c| {
                c.outcome == crate::outcome::Outcome::Ok
                    && matches!(&c.details, Some(Details::Tls(t)) if t.rehearsal)
            })
        })
        .map(|r| r.name.as_str())
        .collect();
    if rehearsed.is_empty() {
        return None;
    }
    Some(format!(
        "rehearsal: {} answered with a mock-relay's test certificate, not the service's: every check ran, and the results describe this path to that mock-relay (its firewall and proxy rules by the real names), not Azure itself",
        rehearsed.join(", ")
    ))
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::{Outcome, Status, Verdict};
    use crate::result::{CheckName, CheckResult, Phases};

    fn result(name: &str, verdict: Verdict) -> TargetResult {
        let status = match verdict {
            Verdict::Pass => Status::Pass,
            Verdict::Fail => Status::Fail,
        };
        TargetResult {
            name: name.into(),
            url: format!("https://{name}/"),
            kind: crate::target::TargetKindName::Https,
            required: true,
            direct: false,
            verdict,
            checks: vec![CheckResult::new(
                CheckName::Tcp,
                status,
                Outcome::Refused,
                "m",
                std::time::Duration::ZERO,
            )],
            phases_ms: Phases::default(),
            timings_ms: None,
            idle: None,
        }
    }

    fn relay(name: &str) -> Target {
        let mut t = Target::parse(&format!("https://{name}/")).unwrap();
        t.make_relay_namespace(crate::target::RelayNamespace::default());
        t
    }

    #[test]
    fn says_which_relay_of_the_pair_failed() {
        let targets = [relay("a.example"), relay("b.example")];
        let note = relay_pair_note(
            &targets,
            &[
                result("a.example", Verdict::Fail),
                result("b.example", Verdict::Pass),
            ],
        )
        .unwrap();
        assert!(note.contains("a.example (tcp refused) failed"), "{note}");
        assert!(note.contains("b.example passed"), "{note}");
        let fine = [
            result("a.example", Verdict::Pass),
            result("b.example", Verdict::Pass),
        ];
        assert_eq!(relay_pair_note(&targets, &fine), None);
    }
}
