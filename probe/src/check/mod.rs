//! The checks, one file each, all with one signature:
//! `async fn run(ctx: &NetContext, target: &Target, session: &mut Session) -> CheckResult`.
//!
//! A target's checks run in order over one connection that each phase hands to the next, so the
//! timings of resolve, connect, tls, processing and transfer add up to one real request.

pub mod dns;
pub mod gateways;
pub mod http;
pub mod idle;
pub mod legacy_ports;
pub mod pdc;
pub mod proxy;
mod result;
pub mod revocation;
mod session;
pub mod tcp;
pub mod tls;
pub mod websocket;

pub use result::{CheckName, CheckResult, Details};
pub use session::{Phases, Session};

use crate::net::NetContext;
use crate::target::{Target, TargetKind};

/// The checks that apply to a target, in the order they run.
pub fn plan(target: &Target, proxied: bool) -> Vec<CheckName> {
    use CheckName::*;
    let kind = target.kind;
    let mut plan = match kind {
        TargetKind::Https => vec![Dns, Tcp, Tls, Http],
        TargetKind::Wss => vec![Dns, Tcp, Tls, Websocket],
        TargetKind::Tcp => vec![Dns, Tcp],
        TargetKind::Relay => vec![Dns, Tcp, Tls, Http, Websocket],
        TargetKind::AdDomain => return vec![Pdc],
    };
    if proxied {
        plan.insert(2, Proxy);
    }
    if kind.uses_tls() {
        plan.push(Revocation);
    }
    if target.relay_namespace {
        plan.extend([Gateways, LegacyPorts]);
    }
    plan
}

/// Runs one check.
pub async fn run(
    name: CheckName,
    ctx: &NetContext,
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
        // The idle check needs the ladder's settings; the runner calls `idle::run` itself.
        CheckName::Idle => CheckResult::skipped(name, "the idle check runs after the others"),
    }
}

/// Runs every check of `target` once, over one connection.
pub async fn run_all(ctx: &NetContext, target: &Target) -> (Vec<CheckResult>, Phases) {
    let mut session = Session::default();
    let mut results = Vec::new();
    for name in plan(target, ctx.proxy_for(target).is_some()) {
        results.push(run(name, ctx, target, &mut session).await);
    }
    (results, session.phases)
}
