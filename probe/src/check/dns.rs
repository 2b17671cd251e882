//! dns: resolve the target's host (A and AAAA, CNAME chain), timed with no cache.

use super::{Check, Ctx, Session};
use crate::net::resolve::{AnswerSource, ResolveFailure};
use crate::outcome::{Outcome, Status};
use crate::result::{millis, CheckName, CheckResult, Details, DnsDetails};
use crate::target::Target;
use std::time::Instant;

/// This check, as the registry (`result/registry.rs`) finds it.
pub const CHECK: Check = Check {
    name: CheckName::Dns,
    phase_deadlines: 1,
    failed: "name resolution failed",
    failed_with: &[],
    run: |ctx, target, session| Box::pin(run(ctx, target, session)),
};

pub async fn run(ctx: &Ctx<'_>, target: &Target, session: &mut Session) -> CheckResult {
    let net = ctx.net;
    let started = Instant::now();
    let hop = net.first_hop(target);
    let answer = tokio::time::timeout(net.timeout, net.resolver.resolve(hop.host, hop.port))
        .await
        .unwrap_or(Err(ResolveFailure::Timeout));
    let elapsed = started.elapsed();
    // Through a proxy the client resolves only the proxy; the proxy resolves the target.
    let host = &match hop.proxy {
        Some(p) => format!("the proxy {} ({})", p.host, p.source),
        None => target.host.clone(),
    };
    let server = &net.resolver.servers;
    match answer {
        Ok(resolution) => {
            session.phases.resolve = Some(millis(elapsed));
            let v4 = resolution.addresses.iter().filter(|a| a.is_ipv4()).count();
            let v6 = resolution.addresses.len() - v4;
            let message = match resolution.source {
                AnswerSource::Literal => format!("{host} is an address: nothing to resolve"),
                AnswerSource::Override => format!(
                    "{host} answered by --resolve with {} address(es); DNS was not asked",
                    resolution.addresses.len()
                ),
                AnswerSource::Dns if resolution.cname_chain.is_empty() => {
                    format!("{host} resolved to {v4} IPv4 and {v6} IPv6 address(es) via {server}")
                }
                AnswerSource::Dns => format!(
                    "{host} resolved through {} CNAME(s) to {v4} IPv4 and {v6} IPv6 address(es) via {server}",
                    resolution.cname_chain.len()
                ),
            };
            let details = DnsDetails {
                source: resolution.source.into(),
                server: server.clone(),
                cname_chain: resolution.cname_chain.clone(),
                addresses: resolution.addresses.iter().map(|a| a.to_string()).collect(),
            };
            session.resolution = Some(resolution);
            CheckResult::new(
                CheckName::Dns,
                Status::Pass,
                Outcome::Resolved,
                message,
                elapsed,
            )
            .with(Details::Dns(details))
        }
        Err(failure) => {
            let (outcome, message) = match failure {
                ResolveFailure::Nxdomain => (
                    Outcome::Nxdomain,
                    format!("{host} does not exist according to {server} (NXDOMAIN): check the name, or the DNS server's forwarding to public DNS"),
                ),
                ResolveFailure::NoRecords => (
                    Outcome::NoRecords,
                    format!("{host} exists but {server} returned no A or AAAA record: a split-horizon zone may be hiding it"),
                ),
                ResolveFailure::Servfail(code) => (
                    Outcome::Servfail,
                    format!("{server} failed to answer for {host} ({code}): its upstream or forwarder is broken"),
                ),
                ResolveFailure::Timeout => (
                    Outcome::Timeout,
                    format!("no DNS answer for {host} from {server} within {} s: UDP/TCP 53 may be blocked or the server is down", net.timeout.as_secs_f64()),
                ),
                ResolveFailure::Other(e) => (
                    Outcome::Servfail,
                    format!("resolving {host} via {server} failed: {e}"),
                ),
            };
            CheckResult::new(CheckName::Dns, Status::Fail, outcome, message, elapsed)
        }
    }
}
