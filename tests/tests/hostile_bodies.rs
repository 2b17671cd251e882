//! Bodies without end: every body the probe reads is drained with a byte limit, so a server
//! that answers with an endless chunked body costs the probe a bounded amount of memory and
//! time, whether it answers the http check, the idle ladder's keep-alive requests or a
//! revocation fetch. Peak memory is the kernel's count for the probe process.

use e2e::certs::{CertificateParams, TestCa, Validity};
use e2e::hostile::Hostile;
use e2e::measure::run_measured;
use std::time::Duration;

/// Well above the probe's own footprint (16 to 18 MiB in a debug build), far below what
/// buffering an endless body for one phase deadline costs (hundreds of MiB).
const RSS_LIMIT_MIB: f64 = 40.0;
const LIMIT: Duration = Duration::from_secs(90);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_body_on_the_idle_ladders_keepalive_requests_is_cut_off() {
    let ca = TestCa::new("endless root");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(dir.path(), "ca.pem").display().to_string();
    let server = Hostile::endless_https(ca.leaf(&["localhost"], Validity::Current)).await;
    let url = format!("https://localhost:{}/", server.port);
    let args = [
        "run",
        "--target",
        &url,
        "--ca-file",
        &ca_file,
        "--format",
        "json",
        "--timeout",
        "5",
        "--idle",
        "2",
        "--idle-min",
        "1",
        "--idle-max",
        "2",
        "--idle-step",
        "1",
    ];
    let m = run_measured(&args, &[], LIMIT).await;
    let run = &m.run;
    eprintln!(
        "idle ladder vs endless body: peak RSS {:.1} MiB, {:.1} s, {} request(s) answered",
        m.peak_rss_mib(),
        run.elapsed.as_secs_f64(),
        server.seen.requests()
    );
    assert!(
        m.peak_rss_mib() < RSS_LIMIT_MIB,
        "peak RSS {:.1} MiB\n{}",
        m.peak_rss_mib(),
        run.stderr
    );
    // The http check reads its limit and passes; the ladder's connections cannot be kept
    // alive with an answer that never ends, so the ladder cannot judge the path.
    let http = run.check("http");
    assert_eq!(http["status"], "pass", "{http:#}");
    assert!(
        http["body_bytes"].as_u64().unwrap() <= 1024 * 1024 + 64 * 1024,
        "{http:#}"
    );
    let idle = run.check("idle");
    assert_ne!(idle["outcome"], "survived", "{idle:#}");
    assert!(
        idle["message"].as_str().unwrap().contains("1 MiB"),
        "the message names the limit: {idle:#}"
    );
    assert!(
        server.seen.requests() >= 2,
        "the ladder asked at least once"
    );
    assert!(
        run.elapsed < Duration::from_secs(20),
        "took {:?}",
        run.elapsed
    );
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_revocation_urls_are_drained_within_a_limit() {
    let endless = Hostile::endless_http().await;
    let ca = TestCa::new("endless revocation root");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(dir.path(), "ca.pem").display().to_string();
    let port = endless.port;
    let leaf = ca.leaf_with(
        &["localhost"],
        Validity::Current,
        move |p: &mut CertificateParams| {
            p.crl_distribution_points = vec![rcgen::CrlDistributionPoint {
                uris: (0..7)
                    .map(|i| format!("http://127.0.0.1:{port}/crl{i}.crl"))
                    .collect(),
            }];
            p.custom_extensions = vec![rcgen::CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 5, 5, 7, 1, 1],
                aia_ocsp(&format!("http://127.0.0.1:{port}/ocsp")),
            )];
        },
    );
    let server = e2e::https_server::TestServer::https(leaf, Default::default()).await;
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
        "5",
    ];
    let m = run_measured(&args, &[], LIMIT).await;
    let run = &m.run;
    eprintln!(
        "8 endless revocation URLs: peak RSS {:.1} MiB, {:.1} s, {} fetch(es)",
        m.peak_rss_mib(),
        run.elapsed.as_secs_f64(),
        endless.seen.requests()
    );
    let check = run.check("revocation");
    assert_eq!(check["urls"].as_array().unwrap().len(), 8, "{check:#}");
    assert_eq!(endless.seen.requests(), 8, "{check:#}");
    assert!(
        m.peak_rss_mib() < RSS_LIMIT_MIB,
        "peak RSS {:.1} MiB\n{}",
        m.peak_rss_mib(),
        run.stderr
    );
    // The answers' heads prove the URLs reachable: the check passes.
    assert_eq!(check["status"], "pass", "{check:#}");
    assert!(
        run.elapsed < Duration::from_secs(20),
        "took {:?}",
        run.elapsed
    );
}
