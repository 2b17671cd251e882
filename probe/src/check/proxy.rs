//! proxy: the HTTP CONNECT through the forward proxy, timed as its own phase, and the proxy's
//! refusal named the way a network team reads it.

use super::{Ctx, Session};
use crate::net::proxy::{connect_tunnel, ConnectRefusal};
use crate::outcome::{Outcome, Status};
use crate::result::{millis, CheckName, CheckResult, Details, ProxyDetails};
use crate::target::Target;
use std::time::Instant;

pub async fn run(ctx: &Ctx<'_>, target: &Target, session: &mut Session) -> CheckResult {
    let net = ctx.net;
    let Some(proxy) = net.proxy_for(target) else {
        return CheckResult::skipped(CheckName::Proxy, "no proxy for this target");
    };
    let Some((addr, io)) = session.tcp.take() else {
        return CheckResult::skipped(CheckName::Proxy, session.failed.unwrap_or("no connection"));
    };
    let authority = target.authority();
    let shown = proxy.redacted();
    let started = Instant::now();
    let result = connect_tunnel(io, proxy, &authority, net.timeout).await;
    let elapsed = started.elapsed();
    let mut details = ProxyDetails {
        proxy: shown.clone(),
        proxy_source: proxy.source.clone(),
        status_code: None,
        via: None,
        auth_schemes: Vec::new(),
    };
    match result {
        Ok(tunnel) => {
            session.phases.proxy_connect = Some(millis(elapsed));
            details.status_code = Some(200);
            details.via = tunnel.via;
            session.tcp = Some((addr, tunnel.io));
            CheckResult::new(
                CheckName::Proxy,
                Status::Pass,
                Outcome::Connected,
                format!("{shown} opened a tunnel to {authority}"),
                elapsed,
            )
            .with(Details::Proxy(details))
        }
        Err(refusal) => {
            let (outcome, message) =
                classify(&refusal, &shown, &authority, proxy.has_credentials());
            if let ConnectRefusal::Status {
                code,
                auth_schemes,
                via,
            } = refusal
            {
                details.status_code = Some(code);
                details.auth_schemes = auth_schemes;
                details.via = via;
            }
            CheckResult::new(CheckName::Proxy, Status::Fail, outcome, message, elapsed)
                .with(Details::Proxy(details))
        }
    }
}

fn classify(
    refusal: &ConnectRefusal,
    proxy: &str,
    authority: &str,
    sent_credentials: bool,
) -> (Outcome, String) {
    match refusal {
        ConnectRefusal::Status {
            code: 407,
            auth_schemes,
            ..
        } => {
            let schemes = auth_schemes.join(", ");
            let unsupported: Vec<&str> = auth_schemes
                .iter()
                .map(String::as_str)
                .filter(|s| s.eq_ignore_ascii_case("NTLM") || s.eq_ignore_ascii_case("Negotiate"))
                .collect();
            let basic = auth_schemes.iter().any(|s| s.eq_ignore_ascii_case("Basic"));
            let what = if sent_credentials {
                "rejected the credentials given"
            } else {
                "wants credentials and none were sent"
            };
            let mut message = format!("{proxy} {what} (407; it offers: {schemes})");
            if !unsupported.is_empty() && !basic {
                message.push_str(&format!(
                    ". {} authentication is not supported by this probe; the sync service authenticates as its own account (machine.config useDefaultCredentials): exempt the writeback endpoints from proxy authentication",
                    unsupported.join("/")
                ));
            } else {
                message.push_str(
                    ". Give working credentials with --proxy http://USER:PASS@HOST:PORT, or exempt the writeback endpoints from proxy authentication",
                );
            }
            (Outcome::ProxyAuthRequired, message)
        }
        ConnectRefusal::Status { code: 403, .. } => (
            Outcome::ProxyDenied,
            format!("{proxy} refused to tunnel to {authority} (403): allow CONNECT to this host on port 443 in the proxy's rules"),
        ),
        ConnectRefusal::Status { code: 502, .. } => (
            Outcome::ProxyBadGateway,
            format!("{proxy} could not reach {authority} (502): the proxy's own outbound path or DNS fails for this host"),
        ),
        ConnectRefusal::Status { code: 503, .. } => (
            Outcome::ProxyUnavailable,
            format!("{proxy} is unavailable for {authority} (503): it may be overloaded, or this host is unresolvable from it"),
        ),
        ConnectRefusal::Status { code: 504, .. } => (
            Outcome::ProxyTimeout,
            format!("{proxy} timed out reaching {authority} (504): a firewall beyond the proxy drops its traffic"),
        ),
        ConnectRefusal::Status { code, .. } => (
            Outcome::ProxyRefused,
            format!("{proxy} answered the CONNECT to {authority} with {code}"),
        ),
        ConnectRefusal::Timeout => (
            Outcome::ProxyUnreachable,
            format!("{proxy} did not answer the CONNECT to {authority} in time"),
        ),
        ConnectRefusal::NoAnswer(e) => (
            Outcome::ProxyUnreachable,
            format!("{proxy} gave no usable answer to the CONNECT to {authority}: {e}"),
        ),
    }
}
