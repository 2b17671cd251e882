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
mod judgement;
pub mod ladder;
mod measure;
mod message;
mod probe;
pub mod relay_limit;
mod report;
mod scope;
pub mod settings;
mod setup;

pub use settings::{IdleSettings, Thresholds};

use super::{Check, Ctx, Session};
use crate::outcome::{Outcome, Status};
use crate::result::{CheckName, CheckResult};
use crate::target::Target;
use judgement::Judgement;
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

/// Runs the ladder (and the `--refine` round) against `target`, after every other check passed:
/// what the ladder may test (`scope`), measured (`measure`), judged (`judgement`) and reported
/// (`report`).
pub async fn run(ctx: &Ctx<'_>, target: &Target, session: &mut Session) -> CheckResult {
    let Some(settings) = ctx.idle else {
        return CheckResult::skipped(CheckName::Idle, "the run skips idle checks");
    };
    if session.failed.is_some() {
        return CheckResult::skipped(CheckName::Idle, "the connection itself failed");
    }
    let started = Instant::now();
    let scope = match scope::scope(ctx.net, target, settings, session.relay_idle_limit).await {
        Ok(scope) => scope,
        Err(scope::Untestable(why)) => return untestable(target, &why, started),
    };
    let run = measure::measure(ctx.net, ctx.progress, target, settings, &scope).await;
    let wildcards = ctx.cloud.writeback_wildcards();
    let judgement = Judgement::of(target, settings, &scope, &run, wildcards);
    let via_proxy = ctx.net.first_hop(target).proxy.is_some();
    let message = report::message(target, settings, &scope, &run, &judgement, via_proxy);
    let (status, outcome) = judgement.status(settings);
    session.idle = Some(report::idle_report(settings, run, judgement));
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
