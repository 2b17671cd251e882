//! The direct-path checks (dns, tcp, tls, http) of the real probe binary against real local
//! TLS servers with certificates made for each case.

use e2e::certs::{TestCa, Validity};
use e2e::https_server::{ServerOptions, TestServer};
use e2e::probe_cli::{assert_matches_schema, run, ProbeRun};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

struct Lab {
    ca: TestCa,
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        Lab {
            ca: TestCa::new("probe e2e root"),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn ca_file(&self) -> String {
        self.ca
            .write(self.dir.path(), "ca.pem")
            .display()
            .to_string()
    }

    async fn probe(&self, url: &str, extra: &[&str]) -> ProbeRun {
        let ca = self.ca_file();
        let mut args = vec![
            "run",
            "--target",
            url,
            "--ca-file",
            &ca,
            "--format",
            "json",
            "--quick",
            "--timeout",
            "5",
        ];
        args.extend_from_slice(extra);
        run(&args, LIMIT).await
    }
}

fn assert_check(run: &ProbeRun, check: &str, status: &str, outcome: &str) -> serde_json::Value {
    let c = run.check(check);
    assert_eq!(
        (c["status"].as_str(), c["outcome"].as_str()),
        (Some(status), Some(outcome)),
        "{check}: {c:#}\nstderr: {}",
        run.stderr
    );
    c
}

#[tokio::test]
async fn a_valid_server_passes_every_phase_and_the_report_matches_the_schema() {
    let lab = Lab::new();
    let server = TestServer::https(
        lab.ca.leaf(&["localhost"], Validity::Current),
        ServerOptions::default(),
    )
    .await;
    let url = format!("https://localhost:{}/", server.port);
    let run = lab.probe(&url, &["--segment", "lab-a"]).await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_matches_schema(&json);
    assert_eq!(json["verdict"], "pass");
    assert_eq!(json["segment"], "lab-a");
    assert_check(&run, "dns", "pass", "resolved");
    assert_check(&run, "tcp", "pass", "connected");
    let tls = assert_check(&run, "tls", "pass", "ok");
    assert_eq!(tls["tls_version"], "TLSv1.3");
    assert_eq!(tls["alpn"], "http/1.1");
    assert!(tls["chain"][0]["issuer"]
        .as_str()
        .unwrap()
        .contains("probe e2e root"));
    let http = assert_check(&run, "http", "pass", "response");
    assert_eq!(http["status_code"], 200);
    assert_eq!(http["server"], "e2e-https");
    let phases = &json["targets"][0]["phases_ms"];
    for phase in ["resolve", "connect", "tls", "processing", "transfer"] {
        assert!(
            phases[phase].as_f64().is_some(),
            "{phase} missing: {phases}"
        );
    }
}

#[tokio::test]
async fn a_tls12_only_server_reports_tls12() {
    let lab = Lab::new();
    let server = TestServer::https(
        lab.ca.leaf(&["localhost"], Validity::Current),
        ServerOptions {
            tls12_only: true,
            ..ServerOptions::default()
        },
    )
    .await;
    let run = lab
        .probe(&format!("https://localhost:{}/", server.port), &[])
        .await;
    let tls = assert_check(&run, "tls", "pass", "ok");
    assert_eq!(tls["tls_version"], "TLSv1.2");
    assert!(
        tls["cipher"].as_str().unwrap().starts_with("TLS_ECDHE"),
        "{tls}"
    );
    assert_eq!(run.code, 0);
}

/// A certificate the probe must refuse, one test per row, each its own test by name: who issued
/// it (`None`: the CA the probe trusts), the names it is for, its validity, the outcome, and
/// what else the row's TLS check must record.
macro_rules! refused_certificate_tests {
    ($($name:ident: $issuer:expr, $names:expr, $validity:expr => $outcome:literal, $also:expr;)*) => {$(
        #[tokio::test]
        async fn $name() {
            let lab = Lab::new();
            let issuer: Option<TestCa> = $issuer;
            let leaf = issuer.as_ref().unwrap_or(&lab.ca).leaf($names, $validity);
            let server = TestServer::https(leaf, ServerOptions::default()).await;
            let run = lab
                .probe(&format!("https://localhost:{}/", server.port), &[])
                .await;
            assert_eq!(run.code, 1);
            let tls = assert_check(&run, "tls", "fail", $outcome);
            let also: fn(&serde_json::Value) = $also;
            also(&tls);
            assert_check(&run, "http", "skip", "skipped");
            assert_matches_schema(&run.json());
        }
    )*};
}

refused_certificate_tests! {
    an_expired_certificate_is_expired:
        None, &["localhost"], Validity::Expired => "expired",
        |tls| assert_eq!(tls["chain"].as_array().unwrap().len(), 1);
    a_certificate_for_another_name_is_a_name_mismatch:
        None, &["elsewhere.example"], Validity::Current => "name_mismatch",
        |tls| assert_eq!(tls["chain"][0]["sans"][0], "elsewhere.example");
    a_chain_from_an_unknown_ca_is_untrusted_and_still_recorded:
        Some(TestCa::new("Inspecting Firewall CA")), &["localhost"], Validity::Current
        => "untrusted",
        |tls| {
            let issuer = tls["chain"][0]["issuer"].as_str().unwrap();
            assert!(issuer.contains("Inspecting Firewall CA"), "{issuer}");
            let message = tls["message"].as_str().unwrap();
            assert!(message.contains("Inspecting Firewall CA"), "{message}");
            assert_eq!(tls["chain"][0]["sha256"].as_str().unwrap().len(), 64);
        };
}

#[tokio::test]
async fn a_server_without_tls12_is_protocol_too_old() {
    let lab = Lab::new();
    let server = TestServer::protocol_version_alert().await;
    let run = lab
        .probe(&format!("https://localhost:{}/", server.port), &[])
        .await;
    assert_check(&run, "tls", "fail", "protocol_too_old");
    assert_eq!(run.code, 1);
}

#[tokio::test]
async fn a_closed_port_is_refused() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let run = run(
        &[
            "run",
            "--target",
            &format!("tcp://127.0.0.1:{port}"),
            "--format",
            "json",
        ],
        LIMIT,
    )
    .await;
    assert_eq!(run.code, 1);
    let tcp = assert_check(&run, "tcp", "fail", "refused");
    assert_eq!(tcp["addresses"][0]["family"], "ipv4");
    assert_matches_schema(&run.json());
}

#[tokio::test]
async fn a_silent_server_times_out_within_the_phase_deadline() {
    let lab = Lab::new();
    let server = TestServer::silent().await;
    let url = format!("https://127.0.0.1:{}/", server.port);
    let ca = lab.ca_file();
    let run = run(
        &[
            "run",
            "--target",
            &url,
            "--ca-file",
            &ca,
            "--format",
            "json",
            "--timeout",
            "1",
        ],
        LIMIT,
    )
    .await;
    assert_check(&run, "tcp", "pass", "connected");
    let tls = assert_check(&run, "tls", "fail", "timeout");
    let took = tls["duration_ms"].as_f64().unwrap();
    assert!((1000.0..1500.0).contains(&took), "tls took {took} ms");
    // The whole run is bounded by its deadlines: one phase hit its 1 s limit.
    assert!(run.elapsed < Duration::from_secs(10), "{:?}", run.elapsed);
}

#[tokio::test]
async fn clock_skew_beyond_five_minutes_fails() {
    let lab = Lab::new();
    let server = TestServer::https(
        lab.ca.leaf(&["localhost"], Validity::Current),
        ServerOptions {
            date_offset_s: 400,
            ..ServerOptions::default()
        },
    )
    .await;
    let run = lab
        .probe(&format!("https://localhost:{}/", server.port), &[])
        .await;
    let http = assert_check(&run, "http", "fail", "clock_skew");
    let skew = http["clock_skew_s"].as_i64().unwrap();
    assert!((-402..=-398).contains(&skew), "skew {skew}");
    assert_eq!(run.code, 1);
}

#[tokio::test]
async fn resolve_overrides_answer_for_a_real_looking_name() {
    let lab = Lab::new();
    let name = "ssprdedicatedsbprodscu.servicebus.windows.net";
    let server = TestServer::https(
        lab.ca.leaf(&[name], Validity::Current),
        ServerOptions::default(),
    )
    .await;
    let url = format!("https://{name}:{}/", server.port);
    let resolve = format!("{name}:{}:127.0.0.1", server.port);
    let run = lab.probe(&url, &["--resolve", &resolve]).await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let dns = assert_check(&run, "dns", "pass", "resolved");
    assert_eq!(dns["source"], "override");
    assert_eq!(dns["addresses"][0], "127.0.0.1");
}

#[tokio::test]
async fn count_reports_percentiles_per_phase() {
    let lab = Lab::new();
    let server = TestServer::https(
        lab.ca.leaf(&["localhost"], Validity::Current),
        ServerOptions::default(),
    )
    .await;
    let run = lab
        .probe(
            &format!("https://localhost:{}/", server.port),
            &["--count", "5"],
        )
        .await;
    assert_eq!(run.code, 0);
    let json = run.json();
    assert_matches_schema(&json);
    let timings = &json["targets"][0]["timings_ms"];
    assert_eq!(timings["samples"], 5);
    assert_eq!(timings["failed_samples"], 0);
    for phase in ["connect", "tls", "processing"] {
        let p = &timings[phase];
        let (p50, max) = (p["p50"].as_f64().unwrap(), p["max"].as_f64().unwrap());
        assert!(p50 > 0.0 && p50 <= max, "{phase}: {p}");
    }
}

#[tokio::test]
async fn a_reset_during_the_handshake_is_reset() {
    let lab = Lab::new();
    let server = TestServer::reset_on_hello().await;
    let run = lab
        .probe(&format!("https://127.0.0.1:{}/", server.port), &[])
        .await;
    let tls = assert_check(&run, "tls", "fail", "reset");
    assert!(tls["message"].as_str().unwrap().contains("SNI"), "{tls}");
    assert_eq!(run.code, 1);
}

#[tokio::test]
async fn websocket_upgrades_are_accepted_or_refused_by_the_server() {
    let relay = e2e::relay::Relay::serve(&[]).await;
    let ca = relay.ca_file();
    let port = relay.tls().port();
    for (path, status, outcome) in [
        ("/$hc/e2e-listener", "pass", "upgraded"),
        ("/healthz", "fail", "upgrade_refused"),
    ] {
        let url = format!("wss://127.0.0.1:{port}{path}");
        let args = [
            "run",
            "--target",
            &url,
            "--ca-file",
            &ca,
            "--format",
            "json",
            "--quick",
        ];
        let run = run(&args, LIMIT).await;
        assert_matches_schema(&run.json());
        let ws = assert_check(&run, "websocket", status, outcome);
        assert_eq!(ws["path"], path);
        if outcome == "upgrade_refused" {
            // /healthz ignores the Upgrade headers and answers 200, as a server behind a proxy
            // that strips them would: anything but 101 is a refusal.
            assert_eq!(ws["status_code"], 200, "{ws}");
        }
    }
}
