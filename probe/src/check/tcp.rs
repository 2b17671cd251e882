//! tcp: connect to every resolved address (IPv4 and IPv6 reported apart) and keep the first
//! connection that worked for the next phases.

use super::{Check, Ctx, Session};
use crate::net::connect::{self, ConnectFailure};
use crate::net::io::Io;
use crate::outcome::{Outcome, Status};
use crate::result::{millis, AddressResult, CheckName, CheckResult, Details, Family, TcpDetails};
use crate::target::Target;
use std::net::SocketAddr;
use std::time::Duration;
use std::time::Instant;

/// This check, as the registry (`result/registry.rs`) finds it.
pub const CHECK: Check = Check {
    name: CheckName::Tcp,
    phase_deadlines: 1,
    failed: "TCP connect failed",
    failed_with: &[],
    run: |ctx, target, session| Box::pin(run(ctx, target, session)),
};

pub async fn run(ctx: &Ctx<'_>, target: &Target, session: &mut Session) -> CheckResult {
    let net = ctx.net;
    let Some(resolution) = &session.resolution else {
        return CheckResult::skipped(CheckName::Tcp, session.failed.unwrap_or("no address"));
    };
    let hop = net.first_hop(target);
    let port = hop.port;
    let started = Instant::now();
    // Every address at once: a run's wall time stays one deadline however many there are.
    let attempts = resolution.addresses.iter().map(|ip| {
        let addr = SocketAddr::new(*ip, port);
        async move {
            let t = Instant::now();
            let result = connect::connect(addr, net.timeout, &net.socket).await;
            (addr, result, t.elapsed())
        }
    });
    let results = futures_util::future::join_all(attempts).await;
    let elapsed = started.elapsed();

    let mut details = TcpDetails {
        addresses: Vec::new(),
        used: None,
    };
    let mut first_ok = None;
    let mut failures = Vec::new();
    for (addr, result, took) in results {
        let outcome = match &result {
            Ok(_) => Outcome::Connected,
            Err(f) => f.outcome(),
        };
        details.addresses.push(AddressResult {
            address: addr.to_string(),
            family: Family::of(&addr),
            outcome,
            duration_ms: millis(took),
        });
        match result {
            Ok(stream) if first_ok.is_none() => first_ok = Some((addr, stream, took)),
            Ok(_) => {}
            Err(f) => failures.push((addr, f)),
        }
    }

    let Some((addr, stream, took)) = first_ok else {
        let Some((addr, failure)) = failures.first() else {
            return CheckResult::skipped(CheckName::Tcp, "the name resolved to no address");
        };
        let outcome = failure.outcome();
        let proxy_note = hop
            .proxy
            .map(|p| format!(" (this is the proxy {}, from {})", p.redacted(), p.source))
            .unwrap_or_default();
        let message = format!(
            "{}{proxy_note}{}",
            failure_message(*addr, failure, net.timeout),
            others(&failures)
        );
        return CheckResult::new(CheckName::Tcp, Status::Fail, outcome, message, elapsed)
            .with(Details::Tcp(details));
    };
    session.phases.connect = Some(millis(took));
    details.used = Some(addr.to_string());
    let io: Io = Box::new(stream);
    session.tcp = Some((addr, io));
    let total = details.addresses.len();
    let (status, message) = if failures.is_empty() {
        (
            Status::Pass,
            format!("connected to {addr} ({total} address(es) tried, all reachable)"),
        )
    } else {
        let failed: Vec<String> = failures
            .iter()
            .map(|(a, f)| format!("{a} {}", f.outcome()))
            .collect();
        (
            Status::Warn,
            format!(
                "connected to {addr}, but {} of {total} address(es) failed: {}; clients that pick those (or prefer IPv6) will fail intermittently",
                failures.len(),
                failed.join(", ")
            ),
        )
    };
    CheckResult::new(CheckName::Tcp, status, Outcome::Connected, message, took)
        .with(Details::Tcp(details))
}

fn others(failures: &[(SocketAddr, ConnectFailure)]) -> String {
    if failures.len() > 1 {
        format!(" ({} more address(es) failed too)", failures.len() - 1)
    } else {
        String::new()
    }
}

pub fn failure_message(addr: SocketAddr, f: &ConnectFailure, timeout: Duration) -> String {
    let port = addr.port();
    let timeout_s = timeout.as_secs_f64();
    match f {
        ConnectFailure::Refused => format!(
            "{addr} refused the connection (TCP RST): nothing listens there, or a firewall rejects outbound TCP {port}; allow it"
        ),
        ConnectFailure::Timeout => format!(
            "no answer from {addr} within {timeout_s} s: a firewall is silently dropping outbound TCP {port}; allow it to this destination"
        ),
        ConnectFailure::Unreachable => format!(
            "{addr} is unreachable (no route, or ICMP unreachable from a router): check routing and the egress firewall for TCP {port}"
        ),
        ConnectFailure::Reset => format!("{addr} reset the connection during setup"),
        ConnectFailure::Other(e) => format!("connecting to {addr} failed: {e}"),
    }
}
