//! revocation: the CRL distribution points and the AIA OCSP and CA-issuer URLs named by the
//! presented chain, each fetched over plain HTTP (through the proxy when one is set). .NET checks
//! them on the sync server; a firewall that blocks port 80 to them makes TLS fail or stall.

use super::{Check, Ctx, Session};
use crate::net::plain_http;
use crate::outcome::{Failure, Outcome, Status};
use crate::result::{
    millis, CheckName, CheckResult, Details, RevocationDetails, UrlKind, UrlResult,
};
use crate::target::Target;
use std::time::Instant;

/// The most URLs one chain gets fetched: a real chain names four or five (a CRL and an OCSP
/// responder per certificate, the issuers' certificates); a server naming more gets no more.
pub const MAX_URLS: usize = 8;

/// This check, as the registry (`result/registry.rs`) finds it.
pub const CHECK: Check = Check {
    name: CheckName::Revocation,
    // Every URL at once: resolve, connect, the exchange.
    phase_deadlines: 3,
    failed: "a revocation URL failed",
    failed_with: &[],
    run: |ctx, target, session| Box::pin(run(ctx, target, session)),
};

pub async fn run(ctx: &Ctx<'_>, _target: &Target, session: &mut Session) -> CheckResult {
    let net = ctx.net;
    let mut urls: Vec<(UrlKind, String)> = Vec::new();
    for cert in &session.chain {
        let named = [
            (UrlKind::Crl, &cert.crl_urls),
            (UrlKind::Ocsp, &cert.ocsp_urls),
            (UrlKind::CaIssuers, &cert.ca_issuer_urls),
        ];
        for (kind, list) in named {
            for url in list {
                if !urls.iter().any(|(_, u)| u == url) {
                    urls.push((kind, url.clone()));
                }
            }
        }
    }
    if urls.is_empty() {
        // `session.chain` holds a chain only once it was verified.
        let why = if session.chain.is_empty() {
            match session.failed {
                Some(failed) => {
                    format!("{failed} (the URLs of an unverified chain are never fetched)")
                }
                None => "no verified certificate chain".to_string(),
            }
        } else {
            "the presented chain names no CRL or OCSP URL".to_string()
        };
        return CheckResult::skipped(CheckName::Revocation, &why);
    }
    let named = urls.len();
    urls.truncate(MAX_URLS);
    let capped = if named > MAX_URLS {
        format!(" (the chain names {named}; only the first {MAX_URLS} are fetched)")
    } else {
        String::new()
    };
    let started = Instant::now();
    let fetches = urls.iter().map(|(kind, url)| async move {
        let result = plain_http::get(net, url).await;
        (*kind, url.clone(), result)
    });
    let results = futures_util::future::join_all(fetches).await;
    let elapsed = started.elapsed();
    let mut details = RevocationDetails { urls: Vec::new() };
    let mut unreachable = Vec::new();
    for (kind, url, result) in results {
        let entry = match result {
            Ok(f) => UrlResult {
                url,
                kind,
                outcome: Outcome::Response,
                status_code: Some(f.status),
                duration_ms: Some(millis(f.elapsed)),
                error: None,
            },
            Err(Failure {
                outcome: Outcome::Skipped,
                detail: why,
            }) => UrlResult {
                url,
                kind,
                outcome: Outcome::Skipped,
                status_code: None,
                duration_ms: None,
                error: Some(why),
            },
            Err(Failure {
                outcome,
                detail: why,
            }) => {
                unreachable.push(format!("{url} ({outcome})"));
                UrlResult {
                    url,
                    kind,
                    outcome,
                    status_code: None,
                    duration_ms: None,
                    error: Some(why),
                }
            }
        };
        details.urls.push(entry);
    }
    let fetched = details.urls.len();
    if unreachable.is_empty() {
        CheckResult::new(
            CheckName::Revocation,
            Status::Pass,
            Outcome::Response,
            format!("all {fetched} revocation URL(s) of the chain answered over HTTP{capped}"),
            elapsed,
        )
        .with(Details::Revocation(details))
    } else {
        let first = details
            .urls
            .iter()
            .find(|u| !matches!(u.outcome, Outcome::Response | Outcome::Skipped))
            .map(|u| u.outcome)
            .unwrap_or(Outcome::Unreachable);
        CheckResult::new(
            CheckName::Revocation,
            Status::Warn,
            first,
            format!(
                "{} of {fetched} revocation URL(s) unreachable{capped}: {}. Windows checks these over plain HTTP (TCP 80); when they are blocked, TLS on the sync server fails or stalls: allow them",
                unreachable.len(),
                unreachable.join(", ")
            ),
            elapsed,
        )
        .with(Details::Revocation(details))
    }
}
