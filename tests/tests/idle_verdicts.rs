//! Idle verdicts a network team can act on, against real servers: an HTTPS endpoint's own limits
//! (`Connection: close`, `Keep-Alive: timeout=N`) give a warning that names them instead of
//! failing the path, and survival between the required and the recommended idle time passes with
//! a warning that names the gap.

use e2e::probe_cli::{assert_matches_schema, run, ProbeRun};
use e2e::relay::Relay;
use e2e::report_tools::{IdleClosingServer, Runs};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

async fn idle_run(url: &str, ca: &str, ladder: &[&str]) -> ProbeRun {
    let mut args = vec![
        "run",
        "--target",
        url,
        "--ca-file",
        ca,
        "--format",
        "json",
        "--timeout",
        "5",
    ];
    args.extend_from_slice(ladder);
    let run = run(&args, LIMIT).await;
    assert_matches_schema(&run.json());
    run
}

#[tokio::test]
async fn a_connection_close_server_is_a_warning_not_a_failed_run() {
    let runs = Runs::new();
    // Answers every request with `Connection: close`.
    let server = runs.https_server().await;
    let url = format!("https://localhost:{}/", server.port);
    let ladder = [
        "--idle",
        "3",
        "--idle-min",
        "1",
        "--idle-max",
        "4",
        "--idle-step",
        "1",
    ];
    let run = idle_run(&url, &runs.ca_file(), &ladder).await;
    let idle = run.check("idle");
    assert_eq!(
        (idle["status"].as_str(), idle["outcome"].as_str()),
        (Some("warn"), Some("inconclusive")),
        "{idle:#}"
    );
    let message = idle["message"].as_str().unwrap();
    assert!(message.contains("Connection: close"), "{message}");
    assert!(message.contains("--hybrid-connection"), "{message}");
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.elapsed < Duration::from_secs(3),
        "no ladder should run: {:?}",
        run.elapsed
    );
}

#[tokio::test]
async fn an_announced_keep_alive_timeout_caps_the_ladder_and_says_so() {
    let runs = Runs::new();
    let server = IdleClosingServer::announcing(&runs.ca, Duration::from_secs(4)).await;
    let url = format!("https://localhost:{}/", server.port);
    let ladder = [
        "--idle",
        "6",
        "--idle-min",
        "1",
        "--idle-max",
        "8",
        "--idle-step",
        "1",
    ];
    let run = idle_run(&url, &runs.ca_file(), &ladder).await;
    let json = run.json();
    let report = &json["targets"][0]["idle"];
    let longest = report["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["idle_s"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert_eq!(longest, 3.0, "capped below the announced 4 s: {report:#}");
    assert_eq!(report["verdict"], "inconclusive", "{report:#}");
    assert_eq!(report["survived_s"], 3.0, "{report:#}");
    let idle = run.check("idle");
    assert_eq!(
        (idle["status"].as_str(), idle["outcome"].as_str()),
        (Some("warn"), Some("inconclusive")),
        "{idle:#}"
    );
    let message = idle["message"].as_str().unwrap();
    assert!(
        message.contains("closes idle connections after 4 s"),
        "{message}"
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[tokio::test]
async fn a_cut_between_required_and_recommended_passes_with_a_warning() {
    // The relay resets connections idle for 6 s: past the 4 s required, short of the 8 s
    // recommended.
    let relay = Relay::serve(&["--fault", "idle-reset:6.5"]).await;
    let url = format!("relay://127.0.0.1:{}", relay.tls().port());
    let ladder = [
        "--idle",
        "4",
        "--idle-recommended",
        "8",
        "--idle-min",
        "1",
        "--idle-max",
        "9",
        "--idle-step",
        "1",
    ];
    let run = idle_run(&url, &relay.ca_file(), &ladder).await;
    let json = run.json();
    let report = &json["targets"][0]["idle"];
    assert_eq!(report["verdict"], "pass", "{report:#}");
    assert_eq!(report["recommended_s"], 8.0, "{report:#}");
    assert_eq!(
        (report["survived_s"].as_f64(), report["failed_s"].as_f64()),
        (Some(6.0), Some(7.0)),
        "{report:#}"
    );
    let idle = run.check("idle");
    assert_eq!(
        (idle["status"].as_str(), idle["outcome"].as_str()),
        (Some("warn"), Some("survived")),
        "{idle:#}"
    );
    let message = idle["message"].as_str().unwrap();
    assert!(message.contains("8 s recommended"), "{message}");
    assert_eq!(
        run.code, 0,
        "a warning does not fail the run: {}",
        run.stdout
    );
}

#[tokio::test]
async fn the_writeback_scenario_recommends_six_minutes_with_its_source() {
    let scenarios = run(&["scenarios"], LIMIT).await;
    assert_eq!(scenarios.code, 0, "{}", scenarios.stderr);
    assert!(
        scenarios.stdout.contains("180 s (360 s recommended)"),
        "{}",
        scenarios.stdout
    );
}
