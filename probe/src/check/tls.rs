//! tls: the handshake over the tcp check's connection: version, cipher, ALPN and the presented
//! chain, recorded even when verification fails.

use super::{Check, Ctx, Session};
use crate::net::proxy::block_page::{self, BlockPage};
use crate::net::tls::TlsFailure;
use crate::net::{NetContext, ALPN_HTTP1};
use crate::outcome::{Outcome, Status};
use crate::result::{millis, CertInfo, CheckName, CheckResult, Details, TlsDetails};
use crate::target::Target;
use std::time::Instant;

/// This check, as the registry (`result/registry.rs`) finds it.
pub const CHECK: Check = Check {
    name: CheckName::Tls,
    phase_deadlines: 1,
    failed: "the TLS handshake failed",
    failed_with: &[
        (Outcome::Intercepted, "the TLS connection is intercepted"),
        (Outcome::ProxyBlockPage, "the proxy answered with a block page"),
    ],
    run: |ctx, target, session| Box::pin(run(ctx, target, session)),
};

pub async fn run(ctx: &Ctx<'_>, target: &Target, session: &mut Session) -> CheckResult {
    let net = ctx.net;
    let Some((addr, io)) = session.tcp.take() else {
        return CheckResult::skipped(CheckName::Tls, session.failed.unwrap_or("no connection"));
    };
    let started = Instant::now();
    let handshake = net.tls.handshake_or_stream(io, &target.host, ALPN_HTTP1);
    let outcome = tokio::time::timeout(net.timeout, handshake).await;
    let elapsed = started.elapsed();
    let host = &target.host;
    let (result, chain) = match outcome {
        Ok(pair) => pair,
        Err(_) => {
            return CheckResult::new(
                CheckName::Tls,
                Status::Fail,
                Outcome::Timeout,
                format!(
                    "no TLS handshake with {addr} within {} s: a firewall or proxy may be holding the connection after inspecting the SNI ({host})",
                    net.timeout.as_secs_f64()
                ),
                elapsed,
            );
        }
    };
    let mut details = TlsDetails {
        tls_version: None,
        cipher: None,
        alpn: None,
        chain: chain.into_iter().map(CertInfo::from).collect(),
        block_page_title: None,
        rehearsal: false,
    };
    details.rehearsal = rehearsal(net, target, &details.chain);
    match result {
        Ok(stream) => {
            let (_, conn) = stream.get_ref();
            details.tls_version = conn.protocol_version().map(version_name);
            details.cipher = conn
                .negotiated_cipher_suite()
                .map(|s| suite_name(s.suite()));
            details.alpn = conn
                .alpn_protocol()
                .map(|p| String::from_utf8_lossy(p).into_owned());
            session.phases.tls = Some(millis(elapsed));
            // Only a verified chain's revocation URLs are ever fetched: an untrusted server
            // must not make the probe send requests to URLs of its choosing.
            session.chain = details.chain.clone();
            if let Some(message) =
                interception(target, &details.chain).filter(|_| !details.rehearsal)
            {
                return CheckResult::new(
                    CheckName::Tls,
                    Status::Fail,
                    Outcome::Intercepted,
                    format!("{message} (the chain is trusted here{}, so the device's CA is installed on this machine)", anchored_in(net, &details.chain)),
                    elapsed,
                )
                .with(Details::Tls(details));
            }
            session.tls = Some(stream);
            let message = format!(
                "{}: the certificate for {host}, {}, is trusted{}{}{}",
                details.tls_version.as_deref().unwrap_or("TLS"),
                issuer_of(&details.chain),
                anchored_in(net, &details.chain),
                expiry_note(&details.chain),
                if details.rehearsal { REHEARSAL } else { "" }
            );
            CheckResult::new(CheckName::Tls, Status::Pass, Outcome::Ok, message, elapsed)
                .with(Details::Tls(details))
        }
        Err((failure, mut io)) => {
            if let Some(first) = &session.tunnel_bytes {
                if first.block_page().is_some() {
                    block_page::read_rest(&mut io, first, started + net.timeout).await;
                    let page = first.block_page().unwrap_or(BlockPage {
                        status: None,
                        title: None,
                    });
                    details.block_page_title = page.title.clone();
                    return CheckResult::new(
                        CheckName::Tls,
                        Status::Fail,
                        Outcome::ProxyBlockPage,
                        block_page_message(ctx, target, &page),
                        started.elapsed(),
                    )
                    .with(Details::Tls(details));
                }
            }
            if matches!(failure, TlsFailure::Untrusted(_)) && from_mock_relay(&details.chain) {
                let message = format!(
                    "the certificate presented for {host} comes from a mock-relay's own test CA, which is not trusted here: for a rehearsal by the real names, pass that mock-relay's CA (the file of its --ca-out, mock-relay-ca.pem by default) with --ca-file"
                );
                return CheckResult::new(
                    CheckName::Tls,
                    Status::Fail,
                    Outcome::Untrusted,
                    message,
                    elapsed,
                )
                .with(Details::Tls(details));
            }
            if matches!(failure, TlsFailure::Untrusted(_)) {
                if let Some(message) = interception(target, &details.chain) {
                    return CheckResult::new(
                        CheckName::Tls,
                        Status::Fail,
                        Outcome::Intercepted,
                        message,
                        elapsed,
                    )
                    .with(Details::Tls(details));
                }
            }
            let issuer = issuer_of(&details.chain);
            let (outcome, message) = match failure {
                TlsFailure::Untrusted(e) => (
                    Outcome::Untrusted,
                    format!("the certificate presented for {host} ({issuer}) is not trusted ({e}): a TLS-inspecting proxy or firewall may be re-signing traffic; exclude this host from inspection, or pass its CA with --ca-file if the chain is expected"),
                ),
                TlsFailure::Expired(e) => (
                    Outcome::Expired,
                    format!("the certificate presented for {host} ({issuer}) is outside its validity period ({e}); check the local clock, and whether a middlebox presents a stale certificate"),
                ),
                TlsFailure::NameMismatch(e) => (
                    Outcome::NameMismatch,
                    format!("the certificate presented at {addr} ({issuer}) is not valid for {host} ({e}): the name resolves to the wrong server, or a middlebox answers in its place"),
                ),
                TlsFailure::ProtocolTooOld(e) => (
                    Outcome::ProtocolTooOld,
                    format!("{host} did not agree to TLS 1.2 or later ({e}); writeback requires TLS 1.2: a middlebox may be downgrading the connection"),
                ),
                TlsFailure::Reset => (
                    Outcome::Reset,
                    format!("the connection to {addr} was reset during the TLS handshake: a firewall filtering on the SNI ({host}) is the usual cause; allow this host name"),
                ),
                TlsFailure::HandshakeFailed(e) => (
                    Outcome::HandshakeFailed,
                    format!("TLS handshake with {addr} failed: {e}"),
                ),
            };
            CheckResult::new(CheckName::Tls, Status::Fail, outcome, message, elapsed)
                .with(Details::Tls(details))
        }
    }
}

/// The proxy accepted the CONNECT, then answered in the target's place with a page of its own.
fn block_page_message(ctx: &Ctx<'_>, target: &Target, page: &BlockPage) -> String {
    let proxy = ctx
        .net
        .proxy_for(target)
        .map(|p| p.redacted())
        .unwrap_or_else(|| "the proxy".into());
    let authority = target.authority();
    format!(
        "{proxy} accepted the CONNECT to {authority} (200), then a plain HTTP page came back instead of the TLS handshake of {}: {}. That is the proxy's block page: its content or category filter refuses this host; allow the writeback endpoints (*.servicebus.windows.net, *.passwordreset.microsoftonline.com) in its URL filtering (unless {authority} is itself a plain HTTP server)",
        target.host,
        page.describe(),
    )
}

/// When the target names its genuine issuers and the presented chain has none of them: who
/// re-signed it, and what to do.
fn interception(target: &Target, chain: &[CertInfo]) -> Option<String> {
    if target.expect_issuer.is_empty() || chain.is_empty() {
        return None;
    }
    let genuine = chain.iter().any(|cert| {
        let issuer = cert.issuer.to_ascii_lowercase();
        target
            .expect_issuer
            .iter()
            .any(|e| issuer.contains(&e.to_ascii_lowercase()))
    });
    if genuine {
        return None;
    }
    let presented = chain.first().map(|c| c.issuer.as_str()).unwrap_or_default();
    Some(format!(
        "the certificate for {} was issued by `{presented}`, not by {}: a TLS-inspecting proxy or firewall re-signs this connection. Password writeback does not support TLS inspection: exclude this host (*.servicebus.windows.net, *.passwordreset.microsoftonline.com) from inspection on the device that owns that CA",
        target.host,
        target.expect_issuer.join(" or ")
    ))
}

/// What the tls message adds for a rehearsal.
const REHEARSAL: &str = ": a rehearsal, since a mock-relay's own test CA stands in for the service's issuers, so every check runs as it would against the service";

/// Whether a trusted chain that the target's expected issuers would call an interception is a
/// rehearsal instead: issued by a mock-relay's test CA (by its name: every mock-relay CA has
/// the same) and trusted through a CA the user gave this run (`--ca-file`). The same name
/// trusted through the machine's store is what an inspecting device would look like, so it
/// stays an interception; so does any other issuer given with `--ca-file`.
fn rehearsal(net: &NetContext, target: &Target, chain: &[CertInfo]) -> bool {
    let given = |store: &String| {
        store.as_str() != crate::net::anchors::BUILT_IN
            && *store != crate::net::anchors::system_store_label()
    };
    !target.expect_issuer.is_empty()
        && from_mock_relay(chain)
        && net
            .tls
            .anchor_of(chain.iter().map(|c| c.issuer.as_str()))
            .is_some_and(|anchor| anchor.stores.iter().any(given))
}

/// Whether the chain names a mock-relay's test CA as an issuer.
fn from_mock_relay(chain: &[CertInfo]) -> bool {
    let common_name = format!("CN={}", mock_relay::tls::CA_COMMON_NAME);
    let organization = format!("O={}", mock_relay::tls::CA_ORGANIZATION);
    chain.iter().any(|cert| {
        let parts: Vec<&str> = cert.issuer.split(", ").collect();
        parts.contains(&common_name.as_str()) && parts.contains(&organization.as_str())
    })
}

pub fn version_name(v: rustls::ProtocolVersion) -> String {
    match v {
        rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".into(),
        rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".into(),
        other => other
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("0x{:04x}", u16::from(other))),
    }
}

/// ` by an anchor from STORE` (the issuer itself is the anchor) or ` through the anchor `NAME`
/// from STORE` for a chain that verified: which trust store vouched for it (a corporate CA
/// installed in the Windows store shows up here), or nothing when unknown.
fn anchored_in(ctx: &NetContext, chain: &[CertInfo]) -> String {
    match ctx.tls.anchor_of(chain.iter().map(|c| c.issuer.as_str())) {
        Some(anchor)
            if chain
                .first()
                .is_some_and(|leaf| leaf.issuer == anchor.subject) =>
        {
            format!(" by an anchor from {}", anchor.stores.join(" and "))
        }
        Some(anchor) => format!(" through the anchor {anchor}"),
        None => String::new(),
    }
}

/// The IANA name of a cipher suite (`TLS13_AES_256_GCM_SHA384`), or its number.
fn suite_name(suite: rustls::CipherSuite) -> String {
    suite
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("0x{:04x}", u16::from(suite)))
}

fn issuer_of(chain: &[CertInfo]) -> String {
    chain
        .first()
        .map(|c| format!("issued by {}", c.issuer))
        .unwrap_or_else(|| "no certificate".into())
}

/// Warns in the message when the leaf expires within 14 days.
fn expiry_note(chain: &[CertInfo]) -> String {
    let Some(not_after) = chain.first().and_then(|leaf| leaf.not_after_unix()) else {
        return String::new();
    };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let days = (not_after - now) / 86_400;
    if days < 14 {
        format!("; it expires in {days} day(s)")
    } else {
        String::new()
    }
}
