//! What a failure shared by every failed target most likely means, and what to do next, in the
//! words of the person who has to act on it (the network or proxy team).

use crate::advice::{candidates, failure_meaning};
use crate::outcome::{Outcome, Status};
use crate::result::{CheckName, CheckResult, Details, RunResult, TargetResult};
use crate::seconds::fmt_s;

/// The advice given with every "set the proxy" next step.
const SET_THE_PROXY: &str = "if this segment reaches the internet only through a proxy, set it (--proxy, or HTTPS_PROXY; --proxy-from-machine-config on the sync server)";

/// `(cause, next_step)` for the failure every one of `failed` stopped at (all alike).
pub(super) fn explain(
    run: &RunResult,
    failed: &[(&TargetResult, &CheckResult)],
) -> (String, String) {
    let (_, check) = failed[0];
    let endpoints = run.cloud.writeback_wildcards().join(" and ");
    match (check.check, check.outcome) {
        (CheckName::Dns, outcome) => dns(run, outcome),
        (CheckName::Tcp, Outcome::Timeout) => (
            format!(
                "outbound connections to TCP {} time out with no answer: a firewall drops them",
                ports(failed)
            ),
            format!(
                "ask for outbound TCP 443 to {endpoints} to be allowed on the firewall; {SET_THE_PROXY}"
            ),
        ),
        (CheckName::Tcp, Outcome::Refused) => (
            format!(
                "outbound connections to TCP {} are refused at once: a firewall rejects them, or the addresses are wrong",
                ports(failed)
            ),
            format!(
                "check the firewall's rule for outbound TCP 443 to {endpoints} and the addresses DNS returned; {SET_THE_PROXY}"
            ),
        ),
        (CheckName::Tcp, Outcome::Unreachable) => (
            "this machine has no route to the endpoints (network unreachable)".into(),
            format!("check this machine's default route and gateway; {SET_THE_PROXY}"),
        ),
        (CheckName::Tls, Outcome::Intercepted) => {
            let issuer = presented_issuer(failed)
                .map(|i| format!("`{i}`"))
                .unwrap_or_else(|| "an unexpected issuer".into());
            (
                format!("TLS is inspected: the certificates are re-signed by {issuer}"),
                format!(
                    "ask the team that owns {issuer} (a TLS-inspecting proxy or firewall) for an inspection bypass for {endpoints}: password writeback does not support TLS inspection"
                ),
            )
        }
        (CheckName::Proxy, Outcome::ProxyAuthRequired) => (
            "the proxy wants credentials the probe was not given".into(),
            format!(
                "give them in the proxy URL (http://user:pass@host:port, --proxy-auth ntlm for Windows authentication), or ask for {endpoints} to be exempt from proxy authentication, as the sync service cannot authenticate"
            ),
        ),
        (CheckName::Proxy, Outcome::ProxyDenied) => (
            "the proxy refuses tunnels to these hosts".into(),
            format!("ask the proxy team to allow CONNECT to {endpoints} on port 443"),
        ),
        (CheckName::Proxy, Outcome::ProxyUnreachable | Outcome::ProxyTimeout) => (
            "the proxy itself cannot be reached".into(),
            "check the proxy's address and port, and that this machine may reach it".into(),
        ),
        (CheckName::Idle, outcome) => idle(failed, outcome, &endpoints),
        (phase, outcome) => (
            format!("every failed target stops at {phase} with {outcome}"),
            format!("see the {phase} check: {}", check.message),
        ),
    }
}

/// No name resolved: public DNS is missing, or (when some target resolved) these names are.
fn dns(run: &RunResult, outcome: Outcome) -> (String, String) {
    let any_resolved = run.targets.iter().any(|t| {
        t.checks
            .iter()
            .any(|c| c.check == CheckName::Dns && c.status == Status::Pass)
    });
    if any_resolved {
        (
            format!("these names do not resolve from this machine ({outcome}), though others do"),
            "check the DNS records or conditional forwarders for these names on the DNS servers this machine uses".into(),
        )
    } else {
        (
            "this machine resolves no public names".into(),
            format!(
                "check that the DNS servers this machine uses forward public names to the internet; {SET_THE_PROXY}: the proxy then resolves the names"
            ),
        )
    }
}

/// The ports the failed connections went to, e.g. `443` or `443, 5671`.
fn ports(failed: &[(&TargetResult, &CheckResult)]) -> String {
    let mut ports: Vec<&str> = failed
        .iter()
        .filter_map(|(_, c)| match &c.details {
            Some(Details::Tcp(tcp)) => Some(tcp),
            _ => None,
        })
        .flat_map(|tcp| tcp.addresses.iter())
        .filter_map(|a| a.address.rsplit_once(':').map(|(_, port)| port))
        .collect();
    ports.sort_unstable();
    ports.dedup();
    if ports.is_empty() {
        "443".into()
    } else {
        ports.join(", ")
    }
}

/// The issuer of the first presented certificate (the inspecting CA), from the first failed
/// target that recorded its chain.
fn presented_issuer<'a>(failed: &[(&'a TargetResult, &'a CheckResult)]) -> Option<&'a str> {
    failed.iter().find_map(|(_, c)| match &c.details {
        Some(Details::Tls(tls)) => tls.chain.first().map(|cert| cert.issuer.as_str()),
        _ => None,
    })
}

/// Idle connections cut on every failed target: where, what it looks like, what to raise.
fn idle(
    failed: &[(&TargetResult, &CheckResult)],
    outcome: Outcome,
    endpoints: &str,
) -> (String, String) {
    let report = failed.iter().find_map(|(t, _)| t.idle.as_ref());
    let failed_s = report.and_then(|r| r.failed_s);
    let when = match (report.and_then(|r| r.survived_s), failed_s) {
        (Some(s), Some(f)) if s < f => format!(" between {} and {} s", fmt_s(s), fmt_s(f)),
        (_, Some(f)) => format!(" by {} s", fmt_s(f)),
        _ => String::new(),
    };
    let cause = format!(
        "idle connections are cut{when} (seen as {})",
        failure_meaning(outcome)
    );
    let to_s = report
        .map(|r| r.recommended_s.unwrap_or(r.required_s + r.required_s))
        .map(|s| format!(" to {} s or more", fmt_s(s)))
        .unwrap_or_default();
    let likely = failed_s
        .map(|f| candidates(report.and_then(|r| r.survived_s), f, outcome))
        .and_then(|found| {
            found
                .first()
                .map(|k| format!(" (likely {}: {})", k.device, k.setting))
        })
        .unwrap_or_default();
    (
        cause,
        format!("raise the idle timeout for TCP 443 to {endpoints}{to_s} on the device that cuts them{likely}"),
    )
}
