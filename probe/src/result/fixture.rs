//! Test fixtures: runs whose targets fail the way real ones do (a failed check, the later ones
//! skipped for its reason), for the diagnosis and the report formats.

use super::*;
use crate::outcome::Outcome;
use std::time::Duration;

/// The checks of a password writeback target after DNS, in the order they run.
pub const AFTER_DNS: [CheckName; 7] = [
    CheckName::Tcp,
    CheckName::Tls,
    CheckName::Http,
    CheckName::Revocation,
    CheckName::Gateways,
    CheckName::LegacyPorts,
    CheckName::Idle,
];

fn pass(check: CheckName) -> CheckResult {
    CheckResult::new(
        check,
        Status::Pass,
        Outcome::Ok,
        format!("{check} passed"),
        Duration::from_millis(2),
    )
}

/// A target whose checks pass up to `failed`, which fails with `outcome` and `message`; the
/// checks after it are skipped because of it (`because`).
pub fn target_failing(name: &str, failed: CheckResult, because: &str) -> TargetResult {
    let order = [CheckName::Dns].into_iter().chain(AFTER_DNS);
    let mut checks = Vec::new();
    let mut seen = false;
    for c in order {
        if c == failed.check {
            checks.push(failed.clone());
            seen = true;
        } else if seen {
            checks.push(CheckResult::skipped(c, because));
        } else {
            checks.push(pass(c));
        }
    }
    TargetResult {
        name: name.into(),
        url: format!("https://{name}.example/"),
        kind: crate::target::TargetKindName::Https,
        required: true,
        direct: false,
        verdict: verdict_of_checks(&checks),
        checks,
        phases_ms: Phases::default(),
        timings_ms: None,
        idle: None,
    }
}

/// A passing target.
pub fn target_passing(name: &str) -> TargetResult {
    let checks: Vec<CheckResult> = [CheckName::Dns]
        .into_iter()
        .chain(AFTER_DNS)
        .map(pass)
        .collect();
    TargetResult {
        name: name.into(),
        url: format!("https://{name}.example/"),
        kind: crate::target::TargetKindName::Https,
        required: true,
        direct: false,
        verdict: Verdict::Pass,
        checks,
        phases_ms: Phases::default(),
        timings_ms: None,
        idle: None,
    }
}

/// DNS with no answer from the resolver.
pub fn dns_timeout(name: &str) -> TargetResult {
    target_failing(
        name,
        CheckResult::new(
            CheckName::Dns,
            Status::Fail,
            Outcome::Timeout,
            format!("no answer for {name}.example from 127.0.0.1:1 within 10 s: the DNS server is unreachable or does not forward public names"),
            Duration::from_secs(10),
        ),
        "name resolution failed",
    )
}

/// A TCP connect that times out (a firewall dropping the SYN).
pub fn tcp_timeout(name: &str) -> TargetResult {
    target_failing(
        name,
        CheckResult::new(
            CheckName::Tcp,
            Status::Fail,
            Outcome::Timeout,
            format!("no answer from {name}.example:443 within 10 s"),
            Duration::from_secs(10),
        )
        .with(Details::Tcp(TcpDetails {
            addresses: vec![AddressResult {
                address: "198.18.0.7:443".into(),
                family: Family::Ipv4,
                outcome: Outcome::Timeout,
                duration_ms: 10_000.0,
            }],
            used: None,
        })),
        "TCP connect failed",
    )
}

/// TLS re-signed by an inspecting proxy's CA.
pub fn tls_intercepted(name: &str, issuer: &str) -> TargetResult {
    let cert = CertInfo {
        subject: format!("CN={name}.example"),
        issuer: issuer.into(),
        sans: vec![format!("{name}.example")],
        not_before: "2026-01-01T00:00:00Z".into(),
        not_after: "2027-01-01T00:00:00Z".into(),
        sha256: "00".repeat(32),
        crl_urls: Vec::new(),
        ocsp_urls: Vec::new(),
        ca_issuer_urls: Vec::new(),
    };
    target_failing(
        name,
        CheckResult::new(
            CheckName::Tls,
            Status::Fail,
            Outcome::Intercepted,
            format!("the certificate for {name}.example was issued by `{issuer}`: a TLS-inspecting proxy re-signs this connection"),
            Duration::from_millis(30),
        )
        .with(Details::Tls(TlsDetails {
            tls_version: Some("TLSv1.3".into()),
            cipher: None,
            alpn: None,
            chain: vec![cert],
            block_page_title: None,
            rehearsal: false,
        })),
        "the TLS connection is intercepted",
    )
}

/// A run of `targets`, its verdict and diagnosis worked out as the runner does.
pub fn run_of(targets: Vec<TargetResult>) -> RunResult {
    let mut run = RunResult {
        schema: SCHEMA.into(),
        probe_version: "0.1.0".into(),
        started_at: "2026-12-05T21:00:00Z".into(),
        finished_at: "2026-12-05T21:00:30Z".into(),
        segment: Some("dmz".into()),
        scenario: "password-writeback".into(),
        cloud: crate::cloud::Cloud::Public,
        verdict: RunResult::verdict_of(&targets),
        proxy: None,
        notes: Vec::new(),
        targets,
        diagnosis: None,
    };
    run.diagnosis = diagnose(&run);
    run
}
