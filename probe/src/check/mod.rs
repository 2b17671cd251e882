//! The checks, one file each. A check declares itself in its file (`pub const CHECK: Check`:
//! its name, phase deadlines, skip phrase and `run`) and has one line in the registry
//! (`result/registry.rs`, which also gives the document its `CheckName` and says which
//! `Details` its facts are); [`plan`] below says which kinds of target get it, in which order.
//! Adding a check: its file, its registry line, the plan table (and the README's table).
//!
//! A target's checks run in order over one connection that each phase hands to the next, so the
//! timings of resolve, connect, tls, processing and transfer add up to one real request. A check
//! after a failed one reports itself skipped, naming what failed.

mod facts;
mod session;

pub use session::Session;

use crate::cloud::Cloud;
use crate::net::NetContext;
use crate::outcome::{Outcome, Status};
use crate::progress::Progress;
use crate::result::{CheckName, CheckResult, IdleReport, Phases};
use crate::target::{Target, TargetKind};
use idle::IdleSettings;
use std::future::Future;
use std::pin::Pin;

/// The checks' modules, and each one's `CHECK` by name: from the registry's list
/// (`result/registry.rs`), so that a check is its own file plus one line there.
macro_rules! register {
    ($( $(#[$doc:meta])* $module:ident $name:ident $(=> $details:ident)? ,)*) => {
        $( pub mod $module; )*

        /// The declaration of the check named `name`.
        pub fn check(name: CheckName) -> &'static Check {
            match name {
                $( CheckName::$name => &$module::CHECK, )*
            }
        }
    };
}
crate::result::each_check!(register);

/// What a check declares of itself, once, in its own file (`pub const CHECK: Check`).
pub struct Check {
    /// Its name in every output.
    pub name: CheckName,
    /// How many phase deadlines (`--timeout`) it may take at worst, one after another.
    pub phase_deadlines: u32,
    /// The skip reason later checks give when it failed...
    pub failed: &'static str,
    /// ...unless it failed with one of these outcomes, which have their own.
    pub failed_with: &'static [(Outcome, &'static str)],
    /// Runs it: `async fn run(ctx: &Ctx, target: &Target, session: &mut Session) -> CheckResult`
    /// takes from `session` what an earlier check left (the connection, the TLS stream, the
    /// resolution...) and reports itself skipped, naming `session.failed`, when it is not there.
    pub run: Run,
}

/// A check's `run`, boxed so that every check has one type.
pub type Run = for<'a> fn(
    &'a Ctx<'a>,
    &'a Target,
    &'a mut Session,
) -> Pin<Box<dyn Future<Output = CheckResult> + 'a>>;

/// What every check may use: how to reach the far end, and the run's settings.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub net: &'a NetContext,
    /// The cloud the run checks, whose endpoints advice names.
    pub cloud: Cloud,
    /// The idle ladder, unless the run skips it (`--quick`, no requirement).
    pub idle: Option<&'a IdleSettings>,
    pub progress: &'a Progress,
}

/// The checks that apply to a target, in the order they run.
pub fn plan(ctx: &Ctx<'_>, target: &Target) -> Vec<CheckName> {
    use CheckName::*;
    let kind = &target.kind;
    let mut plan = match kind {
        TargetKind::Https { .. } => vec![Dns, Tcp, Tls, Http],
        TargetKind::Wss => vec![Dns, Tcp, Tls, Websocket],
        TargetKind::Tcp => vec![Dns, Tcp],
        TargetKind::Relay => vec![Dns, Tcp, Tls, Http, Websocket],
        TargetKind::Hc(_) => vec![Dns, Tcp, Tls, Listener, Rendezvous],
        TargetKind::AdDomain => return vec![Pdc],
    };
    if ctx.net.proxy_for(target).is_some() {
        plan.insert(2, Proxy);
    }
    if kind.uses_tls() {
        plan.push(Revocation);
    }
    if target.relay_namespace().is_some() {
        plan.extend([Gateways, LegacyPorts]);
    }
    if target.idle && ctx.idle.is_some() {
        plan.push(Idle);
    }
    plan
}

/// Runs one check.
pub async fn run(
    name: CheckName,
    ctx: &Ctx<'_>,
    target: &Target,
    session: &mut Session,
) -> CheckResult {
    (check(name).run)(ctx, target, session).await
}

/// What one pass over a target's checks produced.
pub struct Pass {
    pub checks: Vec<CheckResult>,
    pub phases: Phases,
    pub idle: Option<IdleReport>,
}

impl Pass {
    /// Whether every check that reaches the far end passed, the idle ladder aside: what a
    /// timing sample (`--count`) counts as failed.
    pub fn reached(&self) -> bool {
        self.checks
            .iter()
            .all(|c| c.status != Status::Fail || c.check == CheckName::Idle)
    }
}

/// Runs every check of `target` once, over one connection, until `deadline`: `false` when the
/// deadline stopped the pass (`why` then says so in the check it interrupted, which fails with
/// outcome `timeout`, and in the skipped ones after it).
pub async fn run_all(
    ctx: &Ctx<'_>,
    target: &Target,
    deadline: tokio::time::Instant,
    why: &str,
) -> (Pass, bool) {
    let planned = plan(ctx, target);
    let mut session = Session::default();
    let mut checks = Vec::new();
    let mut current_started = std::time::Instant::now();
    let all = async {
        for name in &planned {
            current_started = std::time::Instant::now();
            let result = run(*name, ctx, target, &mut session).await;
            if result.status == Status::Fail && session.failed.is_none() {
                session.failed = Some(failed_phase(*name, result.outcome));
            }
            checks.push(result);
        }
    };
    let finished = tokio::time::timeout_at(deadline, all).await.is_ok();
    if !finished {
        // The checks not yet run: the first was in progress, the others never started.
        let mut rest = planned.iter().skip(checks.len());
        if let Some(current) = rest.next() {
            checks.push(CheckResult::new(
                *current,
                Status::Fail,
                Outcome::Timeout,
                format!("stopped: {why}"),
                current_started.elapsed(),
            ));
        }
        checks.extend(rest.map(|name| CheckResult::skipped(*name, why)));
    }
    let pass = Pass {
        checks,
        phases: session.phases,
        idle: session.idle,
    };
    (pass, finished)
}

/// How many phase deadlines (`--timeout`) a check may take at worst, one after another.
pub fn phase_deadlines(name: CheckName) -> u32 {
    check(name).phase_deadlines
}

/// The longest `count` passes over `target` can take with every phase running to its deadline
/// (and the idle ladder once): what the run's deadline is derived from.
pub fn worst_case(ctx: &Ctx<'_>, target: &Target, count: u32) -> std::time::Duration {
    let planned = plan(ctx, target);
    let phases: u32 = planned.iter().map(|c| phase_deadlines(*c)).sum();
    let mut total = ctx
        .net
        .timeout
        .saturating_mul(phases.saturating_mul(count.max(1)));
    if let (true, Some(idle)) = (planned.contains(&CheckName::Idle), ctx.idle) {
        total = total.saturating_add(idle.worst_case(ctx.net.timeout));
    }
    total
}

/// The skip reason later checks give when `name` failed with `outcome`.
fn failed_phase(name: CheckName, outcome: Outcome) -> &'static str {
    let check = check(name);
    check
        .failed_with
        .iter()
        .find(|(o, _)| *o == outcome)
        .map_or(check.failed, |(_, phrase)| phrase)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each registry line finds the check that declares itself under that name.
    #[test]
    fn every_name_finds_its_own_declaration() {
        for name in CheckName::ALL {
            assert_eq!(check(*name).name, *name);
            assert!(!check(*name).failed.is_empty(), "{name}");
        }
        assert_eq!(phase_deadlines(CheckName::Gateways), 40);
        assert_eq!(
            failed_phase(CheckName::Tls, Outcome::Intercepted),
            "the TLS connection is intercepted"
        );
        assert_eq!(
            failed_phase(CheckName::Tls, Outcome::Untrusted),
            "the TLS handshake failed"
        );
    }
}
