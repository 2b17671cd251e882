//! legacy_ports: TCP 9350-9354 (older relay bindings; event 32011 still names them) and 5671
//! (AMQP over TLS) to a relay namespace. Today's writeback uses 443 only, so these are
//! information (`warn` at most) unless the scenario makes them required.

use super::result::{millis, AddressResult, Details, TcpDetails};
use super::{CheckName, CheckResult, Session};
use crate::net::connect;
use crate::net::NetContext;
use crate::outcome::{Outcome, Status};
use crate::target::Target;
use std::net::SocketAddr;
use std::time::Instant;

pub const PORTS: [u16; 6] = [9350, 9351, 9352, 9353, 9354, 5671];

pub async fn run(ctx: &NetContext, target: &Target, session: &mut Session) -> CheckResult {
    if ctx.proxy_for(target).is_some() {
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
            let r = connect::connect(addr, ctx.timeout, &ctx.socket).await;
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
            Err(f) => super::tcp::failure_outcome(f),
        };
        if outcome != Outcome::Connected {
            closed.push(format!("{} {outcome}", addr.port()));
        }
        details.addresses.push(AddressResult {
            address: addr.to_string(),
            family: if addr.is_ipv4() { "ipv4" } else { "ipv6" },
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
    let status = if target.legacy_ports_required {
        Status::Fail
    } else {
        Status::Warn
    };
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
