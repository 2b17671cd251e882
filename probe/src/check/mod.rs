//! The checks, one file each, all with one signature:
//! `async fn run(ctx: &Ctx, target: &Target, session: &mut Session) -> CheckResult`.
//!
//! A target's checks run in order over one connection that each phase hands to the next, so the
//! timings of resolve, connect, tls, processing and transfer add up to one real request. A check
//! after a failed one reports itself skipped, naming what failed.

pub mod dns;
pub mod gateways;
pub mod http;
pub mod idle;
pub mod legacy_ports;
pub mod listener;
pub mod pdc;
pub mod proxy;
pub mod rendezvous;
pub mod revocation;
mod session;
pub mod strangers;
pub mod tcp;
pub mod tls;
pub mod websocket;

pub use session::Session;

use crate::cloud::Cloud;
use crate::net::NetContext;
use crate::outcome::{Outcome, Status};
use crate::progress::Progress;
use crate::result::{CheckName, CheckResult, IdleReport, Phases};
use crate::target::{Target, TargetKind};
use idle::IdleSettings;

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
    match name {
        CheckName::Dns => dns::run(ctx, target, session).await,
        CheckName::Tcp => tcp::run(ctx, target, session).await,
        CheckName::Proxy => proxy::run(ctx, target, session).await,
        CheckName::Tls => tls::run(ctx, target, session).await,
        CheckName::Http => http::run(ctx, target, session).await,
        CheckName::Websocket => websocket::run(ctx, target, session).await,
        CheckName::Revocation => revocation::run(ctx, target, session).await,
        CheckName::Gateways => gateways::run(ctx, target, session).await,
        CheckName::LegacyPorts => legacy_ports::run(ctx, target, session).await,
        CheckName::Pdc => pdc::run(ctx, target, session).await,
        CheckName::Listener => listener::run(ctx, target, session).await,
        CheckName::Rendezvous => rendezvous::run(ctx, target, session).await,
        CheckName::Idle => idle::run(ctx, target, session).await,
    }
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
    match name {
        CheckName::Dns | CheckName::Tcp | CheckName::Proxy | CheckName::Tls => 1,
        CheckName::LegacyPorts => 1,
        // The answer's head, then its body.
        CheckName::Http => 2,
        // A relay's second connection (resolve, connect, proxy, TLS), the upgrade, the echo.
        CheckName::Websocket => 6,
        // Every URL at once: resolve, connect, the exchange.
        CheckName::Revocation => 3,
        // SRV lookups, the controllers' names, connect, TLS.
        CheckName::Pdc => 4,
        // 128 names looked up 16 at a time, then up to 256 addresses (TCP and TLS) 16 at a time.
        CheckName::Gateways => {
            let waves = gateways::GATEWAYS.div_ceil(gateways::CONCURRENCY) as u32;
            waves + 2 * 256u32.div_ceil(gateways::CONCURRENCY as u32)
        }
        // The control channel's handshake.
        CheckName::Listener => 1,
        // A sender (one deadline for the accept), the listener's rendezvous, a message each way.
        CheckName::Rendezvous => 3,
        // Its own, plus the idle periods: see `IdleSettings::worst_case`.
        CheckName::Idle => 0,
    }
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
    match name {
        CheckName::Tls if outcome == Outcome::Intercepted => "the TLS connection is intercepted",
        CheckName::Tls if outcome == Outcome::ProxyBlockPage => {
            "the proxy answered with a block page"
        }
        CheckName::Dns => "name resolution failed",
        CheckName::Tcp => "TCP connect failed",
        CheckName::Proxy => "the proxy refused the tunnel",
        CheckName::Tls => "the TLS handshake failed",
        CheckName::Http => "the HTTP request failed",
        CheckName::Websocket => "the WebSocket upgrade failed",
        CheckName::Revocation => "a revocation URL failed",
        CheckName::Gateways => "a relay gateway failed",
        CheckName::LegacyPorts => "a legacy relay port failed",
        CheckName::Pdc => "the domain controllers failed",
        CheckName::Listener => "the listener's control channel did not open",
        CheckName::Rendezvous => "no sender reached the listener",
        CheckName::Idle => "the idle check failed",
    }
}
