//! idle: do idle connections through this path survive as long as the service needs?
//!
//! The relay pushes each password reset down an idle listener connection, so every middlebox on
//! the path must keep idle connections alive for minutes. A parallel ladder of connections, each
//! idle for a different period and checked once, brackets the cutoff in one run; a control
//! connection tells a middlebox's idle timer from a broken path; variants with TCP keepalives
//! and application heartbeats tell layer 4 from layer 7.

pub mod attribution;
pub mod channel;
pub mod endpoint_limit;
pub mod evidence;
pub mod hc_ladder;
pub mod ladder;
mod message;
mod probe;
pub mod relay_limit;
pub mod settings;
mod setup;

pub use settings::{IdleSettings, Thresholds};

use super::{Check, Ctx, Session};
use crate::advice::{far_end_limit, fmt_s, idle_advice, Needs};
use crate::outcome::{Outcome, Status};
use crate::progress::IdleProgress;
use crate::result::{CheckName, CheckResult, IdleReport};
use crate::target::{Target, TargetKind};
use attribution::{bracket, judge, FarEnd};
use endpoint_limit::EndpointLimit;
use message::IdleMessage;
use relay_limit::RelayLimit;
use std::time::Instant;

/// This check, as the registry (`result/registry.rs`) finds it.
pub const CHECK: Check = Check {
    name: CheckName::Idle,
    // Its own, plus the idle periods: see `IdleSettings::worst_case`.
    phase_deadlines: 0,
    failed: "the idle check failed",
    failed_with: &[],
    run: |ctx, target, session| Box::pin(run(ctx, target, session)),
};

/// Runs the ladder (and the `--refine` round) against `target`, after every other check passed.
pub async fn run(ctx: &Ctx<'_>, target: &Target, session: &mut Session) -> CheckResult {
    let Some(settings) = ctx.idle else {
        return CheckResult::skipped(CheckName::Idle, "the run skips idle checks");
    };
    if session.failed.is_some() {
        return CheckResult::skipped(CheckName::Idle, "the connection itself failed");
    }
    let started = Instant::now();
    // An HTTPS endpoint may announce its own idle limit: past it, the test measures the server.
    let limit = match target.kind {
        TargetKind::Https => endpoint_limit::discover(ctx.net, target).await,
        _ => None,
    };
    let mut periods = settings.rungs();
    let cap_s = match limit {
        Some(EndpointLimit::ClosesEachConnection) => {
            return untestable(
                target,
                "answers `Connection: close`: it ends every connection after one answer",
                started,
            );
        }
        Some(EndpointLimit::KeepAliveTimeout(n)) => {
            // A request at the very limit races the server's own timer.
            periods.retain(|p| *p <= n - 1.0);
            if periods.is_empty() {
                let why = format!("announces that it closes idle connections after {} s (Keep-Alive: timeout), below the shortest idle period tested", fmt_s(n));
                return untestable(target, &why, started);
            }
            Some(n)
        }
        None => None,
    };
    // A hybrid connection's relay forgets idle listeners itself: past its limit the ladder
    // would measure the service, not the path, so it stops short of it.
    let relay = target
        .hc
        .as_ref()
        .and_then(|_| RelayLimit::of(&target.host, session.relay_idle_limit_s));
    let mut rung_required_s = settings.required_s;
    let cap_s = match relay {
        Some(r) => {
            let longest = r.longest_rung_s();
            let capped = settings.max_s > longest || settings.required_s > longest;
            periods.retain(|p| *p <= longest);
            if periods.is_empty() {
                let why = format!(
                    "forgets listeners idle for {} s itself ({}), below the shortest idle period tested",
                    fmt_s(r.limit_s()),
                    r.source()
                );
                return untestable(target, &why, started);
            }
            rung_required_s = rung_required_s.min(longest);
            if rung_required_s < settings.required_s {
                // The one rung of a single entity goes as far as the relay allows.
                rung_required_s = periods.last().copied().unwrap_or(longest);
            }
            capped.then_some(r.limit_s())
        }
        None => cap_s,
    };
    let (longest_s, connections) = match &target.hc {
        Some(hc) => {
            let layout = hc_ladder::Layout::new(hc, &periods, rung_required_s);
            let longest = layout.rungs.iter().map(|r| r.0).fold(0.0, f64::max);
            (longest, layout.rungs.len())
        }
        None => (
            periods.last().copied().unwrap_or(settings.max_s),
            periods.len(),
        ),
    };
    let progress = ctx.progress.idle(&target.name, longest_s, connections);
    let mut run = round(
        ctx,
        target,
        settings,
        &periods,
        rung_required_s,
        1,
        &progress,
    )
    .await;
    let first = bracket(&run.records);
    // A hybrid connection with one entity has one rung: nothing to refine.
    let refinable = target
        .hc
        .as_ref()
        .is_none_or(|hc| !hc.more_entities.is_empty());
    if settings.refine && refinable && run.control.outcome == Outcome::Survived {
        if let (Some(s), Some(f)) = (first.survived_s, first.failed_s) {
            // Inside the bracket by seconds, and again every period that contradicted it.
            let mut rungs = ladder::refine_rungs(s, f);
            rungs.extend(first.unstable.iter().map(|u| u.0));
            rungs.sort_by(f64::total_cmp);
            rungs.dedup();
            if !rungs.is_empty() {
                let second =
                    round(ctx, target, settings, &rungs, rung_required_s, 2, &progress).await;
                run.absorb(second);
            }
        }
    }
    progress.finish();
    run.records
        .sort_by(|a, b| a.idle_s.total_cmp(&b.idle_s).then(a.round.cmp(&b.round)));

    let bracket = bracket(&run.records);
    // A mock-relay's clean closes are rehearsed faults; a hybrid connection's relay is the
    // service itself, reached the way writeback reaches it.
    let far_end = FarEnd {
        ours: matches!(target.kind, TargetKind::Relay | TargetKind::Hc),
        cap_s,
        relay: relay.is_some(),
    };
    let finding = judge(
        &bracket,
        settings.required_s,
        &run.control,
        !run.records.is_empty(),
        far_end,
    );
    let needs = Needs {
        required_s: settings.required_s,
        recommended_s: settings.recommended_s,
        wildcards: ctx.cloud.writeback_wildcards(),
    };
    let advice = idle_advice(
        &needs,
        bracket.survived_s,
        bracket.failed_s,
        bracket.failure,
    );
    let unprompted: Vec<(Outcome, f64)> = run
        .records
        .iter()
        .filter(|r| r.unprompted)
        .filter_map(|r| r.detected_after_s.map(|t| (r.outcome, t)))
        .collect();
    let message = IdleMessage {
        finding: &finding,
        host: &target.host,
        required_s: settings.required_s,
        recommended: settings
            .recommended_s
            .map(|r| (r, settings.recommended_source.as_deref())),
        survived_s: bracket.survived_s,
        max_s: settings.max_s,
        advice: &advice,
        cut_somewhere: bracket.failed_s.is_some(),
        control: &run.control,
        layer: message::layer(&run.variants, bracket.failed_s),
        setup_failures: &run.setup_failures,
        unprompted: &unprompted,
        hc_ladder: run.hc_ladder.as_ref(),
        failed_sender: bracket.failed_s.and_then(|f| {
            run.records
                .iter()
                .filter(|r| r.idle_s == f)
                .find_map(|r| r.sender.as_ref().map(|s| (f, s)))
                .filter(|(_, s)| s.outcome != Outcome::Accepted)
        }),
        variants_skipped: settings.variants && target.hc.is_some(),
        endpoint_cap_s: cap_s.filter(|_| relay.is_none()),
        relay,
        via_proxy: ctx.net.first_hop(target).proxy.is_some(),
        unstable: &bracket.unstable,
        far_end_limit: bracket
            .failed_s
            .filter(|_| !far_end.ours)
            .and_then(|f| far_end_limit(bracket.survived_s, f)),
    }
    .to_string();
    let (status, outcome) = finding.status(&bracket, settings.recommended_s);
    session.idle = Some(IdleReport {
        required_s: settings.required_s,
        recommended_s: settings.recommended_s,
        survived_s: bracket.survived_s,
        failed_s: bracket.failed_s,
        failure: bracket.failure,
        verdict: finding.verdict(),
        step_s: settings.step_s,
        probes: run.records,
        control: run.control,
        variants: run.variants,
        advice,
        hc_ladder: run.hc_ladder,
        unstable_s: bracket.unstable.iter().map(|u| u.0).collect(),
    });
    CheckResult::new(CheckName::Idle, status, outcome, message, started.elapsed())
}

/// The idle check's answer when the endpoint itself makes idle connections untestable.
fn untestable(target: &Target, why: &str, started: Instant) -> CheckResult {
    CheckResult::new(
        CheckName::Idle,
        Status::Warn,
        Outcome::Inconclusive,
        format!(
            "{} {why}, so idle connections cannot be tested against it. Test the idle path with a hybrid connection (--hybrid-connection) or a mock-relay beyond the firewall",
            target.host
        ),
        started.elapsed(),
    )
}

/// One round over `periods`: a hybrid connection's listeners, one entity each, or the ladder of
/// connections every other target kind gets.
async fn round(
    ctx: &Ctx<'_>,
    target: &Target,
    settings: &IdleSettings,
    periods: &[f64],
    required_s: f64,
    round: u8,
    progress: &IdleProgress,
) -> ladder::LadderRun {
    match &target.hc {
        Some(hc) => {
            let layout = hc_ladder::Layout::new(hc, periods, required_s);
            hc_ladder::run(ctx.net, target, hc, settings, &layout, round, progress).await
        }
        None => ladder::run(ctx.net, target, settings, periods, round, progress).await,
    }
}
