//! proxy: the HTTP CONNECT through the forward proxy, timed as its own phase, and the proxy's
//! refusal named the way a network team reads it: every authentication scheme it offers and
//! what the sync service would need for each, or where its redirect points.

use super::{Check, Ctx, Session};
use crate::net::proxy::logon::{Logon, Mechanism, Package};
use crate::net::proxy::LogonRefusal;
use crate::net::proxy::{connect_tunnel, AuthSent, ConnectRefusal, ProxyAuth};
use crate::outcome::{Outcome, Status};
use crate::result::{millis, CheckName, CheckResult, Details, LogonDetails, ProxyDetails};
use crate::target::Target;
use std::time::Instant;

/// This check, as the registry (`result/registry.rs`) finds it.
pub const CHECK: Check = Check {
    name: CheckName::Proxy,
    phase_deadlines: 1,
    failed: "the proxy refused the tunnel",
    failed_with: &[],
    run: |ctx, target, session| Box::pin(run(ctx, target, session)),
};

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
    let result = connect_tunnel(io, proxy, net.proxy.auth, &authority, net.timeout).await;
    let elapsed = started.elapsed();
    let mut details = ProxyDetails {
        proxy: shown.clone(),
        proxy_source: proxy.source.clone(),
        status_code: None,
        via: None,
        auth_schemes: Vec::new(),
        redirect_host: None,
        logon: None,
    };
    match result {
        Ok(tunnel) => {
            session.phases.proxy_connect = Some(millis(elapsed));
            details.status_code = Some(200);
            details.via = tunnel.via;
            session.tcp = Some((addr, tunnel.io));
            session.tunnel_bytes = Some(tunnel.first_bytes);
            let how = match (tunnel.sent, &tunnel.logon) {
                (AuthSent::NtlmAuthenticate, _) => " (NTLM authentication accepted)".into(),
                (AuthSent::Basic, _) => " (Basic credentials accepted)".into(),
                (AuthSent::Logon, Some(logon)) => accepted(logon, logon_scheme(net.proxy.auth)),
                _ => String::new(),
            };
            details.logon = tunnel
                .logon
                .as_ref()
                .map(|l| logon_details(l, logon_scheme(net.proxy.auth), None));
            CheckResult::new(
                CheckName::Proxy,
                Status::Pass,
                Outcome::Connected,
                format!("{shown} opened a tunnel to {authority}{how}"),
                elapsed,
            )
            .with(Details::Proxy(details))
        }
        Err(refusal) => {
            let message = describe(&refusal, &shown, &authority);
            details.redirect_host = refusal.redirect_host();
            if let ConnectRefusal::Logon(logon) = &refusal {
                details.status_code = logon.status_code;
                details.auth_schemes = logon.auth_schemes.clone();
                details.logon = Some(refused_details(logon));
            }
            if let ConnectRefusal::Status {
                code,
                auth_schemes,
                via,
                ..
            } = &refusal
            {
                details.status_code = Some(*code);
                details.auth_schemes = auth_schemes.clone();
                details.via = via.clone();
            }
            CheckResult::new(
                CheckName::Proxy,
                Status::Fail,
                refusal.outcome(),
                message,
                elapsed,
            )
            .with(Details::Proxy(details))
        }
    }
}

fn describe(refusal: &ConnectRefusal, proxy: &str, authority: &str) -> String {
    match refusal {
        ConnectRefusal::Status {
            code: 407,
            auth_schemes,
            sent,
            ..
        } => auth_required(proxy, auth_schemes, *sent),
        ConnectRefusal::Status { code: code @ 300..=399, .. } => format!(
            "{proxy} answered the CONNECT to {authority} with {code}, a redirect to {}: the mark of an authentication portal (a web login). The sync service cannot log in to a portal: exempt the writeback endpoints, or this server, from it",
            refusal.redirect_host().unwrap_or_default()
        ),
        ConnectRefusal::Status { code: 403, .. } => format!(
            "{proxy} refused to tunnel to {authority} (403): allow CONNECT to this host on port 443 in the proxy's rules"
        ),
        ConnectRefusal::Status { code: 502, .. } => format!(
            "{proxy} could not reach {authority} (502): the proxy's own outbound path or DNS fails for this host"
        ),
        ConnectRefusal::Status { code: 503, .. } => format!(
            "{proxy} is unavailable for {authority} (503): it may be overloaded, or this host is unresolvable from it"
        ),
        ConnectRefusal::Status { code: 504, .. } => format!(
            "{proxy} timed out reaching {authority} (504): a firewall beyond the proxy drops its traffic"
        ),
        ConnectRefusal::Status { code, .. } => {
            format!("{proxy} answered the CONNECT to {authority} with {code}")
        }
        ConnectRefusal::Logon(logon) => logon.message(proxy),
        ConnectRefusal::AuthFailed(why) => {
            format!("NTLM authentication with {proxy} could not be completed: {why}")
        }
        ConnectRefusal::Timeout => {
            format!("{proxy} did not answer the CONNECT to {authority} in time")
        }
        ConnectRefusal::NoAnswer(e) => {
            format!("{proxy} gave no usable answer to the CONNECT to {authority}: {e}")
        }
    }
}

/// A 407: what was sent, what the proxy offers, and for each scheme it offers what the sync
/// service (or this probe) would need to pass.
fn auth_required(proxy: &str, schemes: &[String], sent: AuthSent) -> String {
    let offers = |s: &str| schemes.iter().any(|o| o.eq_ignore_ascii_case(s));
    let offered = if schemes.is_empty() {
        "407 without a Proxy-Authenticate challenge".to_string()
    } else {
        format!("407; it offers: {}", schemes.join(", "))
    };
    let what = match sent {
        AuthSent::None => "wants credentials and none were sent",
        AuthSent::Basic if offers("Basic") => "rejected the Basic credentials given",
        AuthSent::Basic => "does not take Basic credentials",
        AuthSent::NtlmNegotiate => "did not answer the NTLM negotiation with a challenge",
        AuthSent::NtlmAuthenticate => "rejected the NTLM credentials given",
        AuthSent::Logon => "rejected the logon's own credentials",
    };
    let mut advice: Vec<String> = Vec::new();
    if matches!(sent, AuthSent::Basic | AuthSent::NtlmAuthenticate) && !schemes.is_empty() {
        advice.push("check the user name, domain and password".into());
    }
    if offers("NTLM") && sent != AuthSent::NtlmAuthenticate {
        advice.push(
            "test NTLM as the sync service would with its account: --proxy http://DOMAIN%5Cuser:PASSWORD@HOST:PORT --proxy-auth ntlm"
                .into(),
        );
    }
    if offers("Basic") && sent == AuthSent::None {
        advice.push("give credentials with --proxy http://USER:PASSWORD@HOST:PORT".into());
    }
    if offers("Negotiate") {
        advice.push(
            "test Negotiate (Kerberos) as the sync service does, with the logon's own credentials: --proxy-auth negotiate, run as the service's account (Windows) or after kinit (Linux); the proxy must let that account through (the service authenticates as itself, machine.config useDefaultCredentials)"
                .into(),
        );
    }
    let unsupported: Vec<&str> = schemes
        .iter()
        .map(String::as_str)
        .filter(|s| {
            !["Basic", "NTLM", "Negotiate"]
                .iter()
                .any(|k| k.eq_ignore_ascii_case(s))
        })
        .collect();
    if !unsupported.is_empty() {
        advice.push(format!(
            "{} is not supported by this probe",
            unsupported.join("/")
        ));
    }
    advice.push("or exempt the writeback endpoints from proxy authentication".into());
    format!(
        "{proxy} {what} ({offered}). {}",
        sentence(&advice.join("; "))
    )
}

/// ` (Negotiate accepted: Kerberos as agent@LAB.TEST for HTTP/proxy.lab.test, ...)`.
fn accepted(logon: &Logon, scheme: &str) -> String {
    let mechanism = logon.mechanism.map_or("", |m| m.as_str());
    let inside = if mechanism.is_empty() || mechanism == scheme {
        String::new()
    } else {
        format!("{mechanism} ")
    };
    let who = logon.identity.as_deref().unwrap_or("this logon");
    let spn = if logon.mechanism == Some(Mechanism::Ntlm) {
        String::new()
    } else {
        format!(" for {}", logon.spn)
    };
    format!(" ({scheme} accepted: {inside}as {who}{spn}, the logon's own credentials)")
}

/// The scheme `--proxy-auth` answers with the logon's own credentials.
fn logon_scheme(auth: ProxyAuth) -> &'static str {
    match auth {
        ProxyAuth::Ntlm => Package::Ntlm.scheme(),
        _ => Package::Negotiate.scheme(),
    }
}

fn logon_details(logon: &Logon, scheme: &str, cause: Option<&str>) -> LogonDetails {
    LogonDetails {
        scheme: scheme.into(),
        identity: logon.identity.clone(),
        spn: logon.spn.clone(),
        mechanism: logon.mechanism.map(|m| m.as_str().to_string()),
        cause: cause.map(str::to_string),
    }
}

fn refused_details(refusal: &LogonRefusal) -> LogonDetails {
    logon_details(
        &refusal.logon,
        refusal.package.scheme(),
        Some(refusal.cause_word()),
    )
}

fn sentence(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemes(s: &[&str]) -> Vec<String> {
        s.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn negotiate_without_a_ticket_says_what_the_service_needs() {
        let m = auth_required(
            "http://p:3128",
            &schemes(&["Negotiate", "NTLM"]),
            AuthSent::None,
        );
        assert!(m.starts_with("http://p:3128 wants credentials and none were sent (407; it offers: Negotiate, NTLM)"), "{m}");
        assert!(m.contains("--proxy-auth ntlm"), "{m}");
        assert!(m.contains("--proxy-auth negotiate"), "{m}");
        assert!(
            m.ends_with("or exempt the writeback endpoints from proxy authentication"),
            "{m}"
        );
    }

    #[test]
    fn rejected_credentials_and_unsupported_schemes_are_named() {
        let m = auth_required("P", &schemes(&["NTLM"]), AuthSent::NtlmAuthenticate);
        assert!(
            m.starts_with(
                "P rejected the NTLM credentials given (407; it offers: NTLM). Check the user name"
            ),
            "{m}"
        );
        assert!(!m.contains("--proxy-auth ntlm"), "{m}");
        let m = auth_required("P", &schemes(&["Digest"]), AuthSent::Basic);
        assert!(m.contains("does not take Basic credentials"), "{m}");
        assert!(m.contains("Digest is not supported"), "{m}");
        let m = auth_required("P", &[], AuthSent::None);
        assert!(
            m.contains("407 without a Proxy-Authenticate challenge"),
            "{m}"
        );
    }
}
