//! legacy_ports: TCP 9350-9354 (older relay bindings; event 32011 still names them) and 5671
//! (AMQP over TLS) to a relay namespace. Today's writeback uses 443 only, so these are
//! information (`warn` at most) unless the scenario makes them required.

use super::{Check, Ctx, Session};
use crate::net::connect;
use crate::outcome::{Outcome, Status};
use crate::result::{millis, AddressResult, CheckName, CheckResult, Details, Family, TcpDetails};
use crate::target::Target;
use std::net::SocketAddr;
use std::time::Instant;

pub const PORTS: [u16; 6] = [9350, 9351, 9352, 9353, 9354, 5671];

/// This check, as the registry (`result/registry.rs`) finds it.
pub const CHECK: Check = Check {
    name: CheckName::LegacyPorts,
    phase_deadlines: 1,
    failed: "a legacy relay port failed",
    failed_with: &[],
    run: |ctx, target, session| Box::pin(run(ctx, target, session)),
};

pub async fn run(ctx: &Ctx<'_>, target: &Target, session: &mut Session) -> CheckResult {
    let net = ctx.net;
    if net.proxy_for(target).is_some() {
        return CheckResult::skipped(
            CheckName::LegacyPorts,
            "the target goes through a proxy, which tunnels to 443 only",
        );
    }
    let Some(ip) = session
        .resolution
        .as_ref()
        .and_then(|r| r.addresses.first())
    else {
        return CheckResult::skipped(
            CheckName::LegacyPorts,
            session.failed.unwrap_or("no address"),
        );
    };
    let started = Instant::now();
    let attempts = PORTS.iter().map(|port| {
        let addr = SocketAddr::new(*ip, *port);
        async move {
            let t = Instant::now();
            let r = connect::connect(addr, net.timeout, &net.socket).await;
            (addr, r.map(|_| ()), t.elapsed())
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    let mut details = TcpDetails {
        addresses: Vec::new(),
        used: None,
    };
    let mut closed = Vec::new();
    for (addr, result, took) in results {
        let outcome = match &result {
            Ok(()) => Outcome::Connected,
            Err(f) => f.outcome(),
        };
        if outcome != Outcome::Connected {
            closed.push(format!("{} {outcome}", addr.port()));
        }
        details.addresses.push(AddressResult {
            address: addr.to_string(),
            family: Family::of(&addr),
            outcome,
            duration_ms: millis(took),
        });
    }
    let elapsed = started.elapsed();
    if closed.is_empty() {
        return CheckResult::new(
            CheckName::LegacyPorts,
            Status::Pass,
            Outcome::Connected,
            format!("legacy relay ports 9350-9354 and 5671 are open to {ip}"),
            elapsed,
        )
        .with(Details::Tcp(details));
    }
    let first = details
        .addresses
        .iter()
        .find(|a| a.outcome != Outcome::Connected)
        .map(|a| a.outcome)
        .unwrap_or(Outcome::Timeout);
    let required = target
        .relay_namespace()
        .is_some_and(|n| n.legacy_ports_required);
    let status = if required { Status::Fail } else { Status::Warn };
    CheckResult::new(
        CheckName::LegacyPorts,
        status,
        first,
        format!(
            "legacy relay ports not reachable at {ip}: {}. Current writeback needs only 443; older builds and AMQP clients use these",
            closed.join(", ")
        ),
        elapsed,
    )
    .with(Details::Tcp(details))
}
