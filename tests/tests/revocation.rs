//! The revocation check: CRL and OCSP URLs from a real presented chain, fetched over plain HTTP
//! from real local listeners; a reachable one passes, an unreachable one warns by name.

use e2e::certs::{CertificateParams, TestCa, Validity};
use e2e::https_server::{ServerOptions, TestServer};
use e2e::probe_cli::{assert_matches_schema, run};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A plain-HTTP server that answers every request with a tiny CRL-shaped body.
async fn crl_server() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: 3\r\nConnection: close\r\n\r\ncrl")
                    .await;
            });
        }
    });
    (port, task)
}

fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// DER of an Authority Information Access extension value with one OCSP URI.
fn aia_ocsp(uri: &str) -> Vec<u8> {
    let ocsp_oid = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01];
    let mut location = vec![0x86, uri.len() as u8];
    location.extend_from_slice(uri.as_bytes());
    let mut desc = vec![0x30, (ocsp_oid.len() + location.len()) as u8];
    desc.extend_from_slice(&ocsp_oid);
    desc.extend_from_slice(&location);
    let mut seq = vec![0x30, desc.len() as u8];
    seq.extend_from_slice(&desc);
    seq
}

fn with_urls(crl: String, ocsp: String) -> impl FnOnce(&mut CertificateParams) {
    move |p| {
        p.crl_distribution_points = vec![rcgen::CrlDistributionPoint { uris: vec![crl] }];
        p.custom_extensions = vec![rcgen::CustomExtension::from_oid_content(
            &[1, 3, 6, 1, 5, 5, 7, 1, 1],
            aia_ocsp(&ocsp),
        )];
    }
}

async fn probe(ca: &TestCa, server: &TestServer) -> e2e::probe_cli::ProbeRun {
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(dir.path(), "ca.pem").display().to_string();
    let url = format!("https://localhost:{}/", server.port);
    let args = [
        "run",
        "--target",
        &url,
        "--ca-file",
        &ca_file,
        "--format",
        "json",
        "--quick",
        "--timeout",
        "3",
    ];
    let run = run(&args, Duration::from_secs(60)).await;
    assert_matches_schema(&run.json());
    run
}

#[tokio::test]
async fn reachable_revocation_urls_pass() {
    let (port, _crl) = crl_server().await;
    let ca = TestCa::new("revocation root");
    let leaf = ca.leaf_with(
        &["localhost"],
        Validity::Current,
        with_urls(
            format!("http://127.0.0.1:{port}/root.crl"),
            format!("http://127.0.0.1:{port}/ocsp"),
        ),
    );
    let server = TestServer::https(leaf, ServerOptions::default()).await;
    let run = probe(&ca, &server).await;
    let check = run.check("revocation");
    assert_eq!(
        (check["status"].as_str(), check["outcome"].as_str()),
        (Some("pass"), Some("response")),
        "{check:#}"
    );
    let urls = check["urls"].as_array().unwrap();
    assert_eq!(urls.len(), 2);
    assert!(urls
        .iter()
        .any(|u| u["kind"] == "crl" && u["status_code"] == 200));
    assert!(urls
        .iter()
        .any(|u| u["kind"] == "ocsp" && u["outcome"] == "response"));
    let chain = &run.check("tls")["chain"][0];
    assert_eq!(
        chain["crl_urls"][0],
        format!("http://127.0.0.1:{port}/root.crl")
    );
    assert_eq!(run.code, 0);
}

#[tokio::test]
async fn an_unreachable_revocation_url_warns_naming_it() {
    let (port, _crl) = crl_server().await;
    let dead = closed_port();
    let ocsp = format!("http://127.0.0.1:{dead}/ocsp");
    let ca = TestCa::new("revocation root");
    let leaf = ca.leaf_with(
        &["localhost"],
        Validity::Current,
        with_urls(format!("http://127.0.0.1:{port}/root.crl"), ocsp.clone()),
    );
    let server = TestServer::https(leaf, ServerOptions::default()).await;
    let run = probe(&ca, &server).await;
    let check = run.check("revocation");
    assert_eq!(
        (check["status"].as_str(), check["outcome"].as_str()),
        (Some("warn"), Some("refused")),
        "{check:#}"
    );
    assert!(
        check["message"].as_str().unwrap().contains(&ocsp),
        "{check:#}"
    );
    // A warning does not fail the run.
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[tokio::test]
async fn a_chain_without_revocation_urls_skips_the_check() {
    let ca = TestCa::new("plain root");
    let server = TestServer::https(
        ca.leaf(&["localhost"], Validity::Current),
        ServerOptions::default(),
    )
    .await;
    let run = probe(&ca, &server).await;
    // A failed TLS check skips revocation too: the chain must have been verified first.
    let tls = run.check("tls");
    assert_eq!(tls["status"], "pass", "{tls:#}");
    let check = run.check("revocation");
    assert_eq!(check["status"], "skip", "{check:#}");
    assert_eq!(
        check["message"], "not run: the presented chain names no CRL or OCSP URL",
        "{check:#}"
    );
}

/// A leaf for localhost naming `count` CRL URLs on `port` (distinct paths).
fn leaf_with_crls(ca: &TestCa, port: u16, count: usize) -> e2e::certs::Leaf {
    ca.leaf_with(&["localhost"], Validity::Current, move |p| {
        p.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
            uris: (0..count)
                .map(|i| format!("http://127.0.0.1:{port}/crl{i}.crl"))
                .collect(),
        }];
    })
}

#[tokio::test]
async fn an_untrusted_chain_sends_nothing_to_its_revocation_urls() {
    let crl = e2e::hostile::Hostile::small_http().await;
    let trusted = TestCa::new("the CA the probe trusts");
    let stranger = TestCa::new("a CA nobody trusts");
    let server = TestServer::https(
        leaf_with_crls(&stranger, crl.port, 2),
        ServerOptions::default(),
    )
    .await;
    // The probe trusts another CA: the presented chain fails verification.
    let run = probe(&trusted, &server).await;
    assert_eq!(run.check("tls")["outcome"], "untrusted");
    let check = run.check("revocation");
    assert_eq!(check["status"], "skip", "{check:#}");
    assert_eq!(
        crl.seen.connections(),
        0,
        "the probe connected to a URL named by a chain it does not trust: {check:#}"
    );
}

#[tokio::test]
async fn a_chain_naming_many_urls_gets_only_the_first_few_fetched_and_says_so() {
    let crl = e2e::hostile::Hostile::small_http().await;
    let ca = TestCa::new("revocation root");
    let server =
        TestServer::https(leaf_with_crls(&ca, crl.port, 20), ServerOptions::default()).await;
    let run = probe(&ca, &server).await;
    let check = run.check("revocation");
    let fetched = check["urls"].as_array().unwrap().len();
    assert_eq!(fetched, 8, "{check:#}");
    assert_eq!(crl.seen.requests(), 8, "{check:#}");
    let message = check["message"].as_str().unwrap();
    assert!(
        message.contains("20") && message.contains("first 8"),
        "the message states the cap: {message}"
    );
    assert_eq!(check["status"], "pass", "{check:#}");
}
