//! The idle ladder of the real probe against the real mock-relay: its faults and the userland
//! middlebox's modes each produce their outcome class, the bracket contains the configured
//! timeout and is one step wide, a dead control makes the verdict inconclusive, and the run
//! lasts the longest idle period plus a few seconds.

use e2e::probe_cli::{assert_matches_schema, run, ProbeRun};
use e2e::relay::Relay;
use std::time::Duration;

/// The ladder every test uses: 1..=6 s in 1 s steps, 4 s required.
const LADDER: &[&str] = &[
    "--idle",
    "4",
    "--idle-min",
    "1",
    "--idle-max",
    "6",
    "--idle-step",
    "1",
];
const MAX_IDLE_S: f64 = 6.0;
/// Where the middlebox or fault cuts idle connections: between two rungs.
const CUT: &str = "3.5";
const LIMIT: Duration = Duration::from_secs(60);

async fn probe_idle(url: &str, relay: &Relay, extra: &[&str]) -> ProbeRun {
    let ca = relay.ca_file();
    let mut args = vec!["run", "--target", url, "--ca-file", &ca, "--format", "json"];
    args.extend_from_slice(LADDER);
    args.extend_from_slice(extra);
    let run = run(&args, LIMIT).await;
    assert_matches_schema(&run.json());
    run
}

fn idle(run: &ProbeRun) -> serde_json::Value {
    run.json()["targets"][0]["idle"].clone()
}

/// The verdict, the failure class, and a bracket around 3.5 s exactly one step wide.
fn assert_cut(run: &ProbeRun, failure: &str) -> serde_json::Value {
    let idle = idle(run);
    assert_eq!(idle["verdict"], "fail", "{idle:#}\n{}", run.stderr);
    assert_eq!(idle["failure"], failure, "{idle:#}");
    assert_eq!(idle["survived_s"], 3.0, "{idle:#}");
    assert_eq!(idle["failed_s"], 4.0, "{idle:#}");
    assert_eq!(idle["control"]["outcome"], "survived", "{idle:#}");
    assert_eq!(run.code, 1);
    let check = run.check("idle");
    assert_eq!(check["outcome"], failure);
    assert!(
        check["message"]
            .as_str()
            .unwrap()
            .contains("between 3 and 4 s"),
        "{check:#}"
    );
    assert_wall_time(run);
    idle
}

/// The longest rung plus a few seconds: the push's grace (1 s), the answer's deadline (1.5 s)
/// and, for a connection that stays silent, the wait while the kernel still shows its bytes in
/// flight or just delivered (at most 3 s), so a lossy path is not taken for a dead one.
fn assert_wall_time(run: &ProbeRun) {
    let limit = Duration::from_secs_f64(MAX_IDLE_S + 6.0);
    assert!(run.elapsed <= limit, "the run took {:?}", run.elapsed);
}

/// Every probe of a connection idle past the cut has `outcome` in `direction`, detected within
/// 1 s of the cut when it came unprompted.
fn assert_probes(idle: &serde_json::Value, direction: &str, outcome: &str, unprompted: bool) {
    let probes = idle["probes"].as_array().unwrap();
    let past_cut: Vec<_> = probes
        .iter()
        .filter(|p| p["idle_s"].as_f64().unwrap() >= 4.0 && p["direction"] == direction)
        .collect();
    assert!(
        !past_cut.is_empty(),
        "no {direction} probe past the cut: {idle:#}"
    );
    for p in past_cut {
        assert_eq!(p["outcome"], outcome, "{p}");
        assert_eq!(p["unprompted"], unprompted, "{p}");
        if unprompted {
            let at = p["detected_after_s"].as_f64().unwrap();
            assert!((at - 3.5).abs() <= 1.0, "detected at {at} s: {p}");
        }
    }
    for p in probes
        .iter()
        .filter(|p| p["idle_s"].as_f64().unwrap() <= 3.0)
    {
        assert_eq!(p["outcome"], "survived", "{p}");
    }
}

#[tokio::test]
async fn a_healthy_relay_passes_with_both_directions_checked() {
    let relay = Relay::serve(&[]).await;
    let run = probe_idle(
        &format!("relay://127.0.0.1:{}", relay.tls().port()),
        &relay,
        &[],
    )
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let idle = idle(&run);
    assert_eq!(idle["verdict"], "pass");
    assert_eq!(idle["survived_s"], 6.0);
    assert!(idle["failed_s"].is_null());
    let probes = idle["probes"].as_array().unwrap();
    assert_eq!(probes.len(), 12, "six connections, two directions each");
    assert!(probes.iter().all(|p| p["outcome"] == "survived"));
    for p in probes.iter().filter(|p| p["direction"] == "server_push") {
        let (idle_s, at) = (
            p["idle_s"].as_f64().unwrap(),
            p["detected_after_s"].as_f64().unwrap(),
        );
        assert!(
            (at - idle_s).abs() < 0.5,
            "push at {at} s for {idle_s} s: {p}"
        );
    }
    assert_wall_time(&run);
}

#[tokio::test]
async fn a_middlebox_that_drops_silently_gives_silent_drop() {
    let relay = Relay::serve(&[]).await;
    let mb = Relay::middlebox(relay.tls(), &["--idle-timeout", CUT, "--on-idle", "drop"]).await;
    let url = format!("relay://127.0.0.1:{}", mb.middlebox_addr().port());
    let run = probe_idle(&url, &relay, &["--idle-variants"]).await;
    let idle = assert_cut(&run, "silent_drop");
    assert_probes(&idle, "server_push", "silent_drop", false);
    // A userland forwarder terminates TCP: keepalives do not count, heartbeats do.
    let variants = idle["variants"].as_array().unwrap();
    let outcome =
        |name: &str| variants.iter().find(|v| v["variant"] == name).unwrap()["outcome"].clone();
    assert_eq!(outcome("tcp_keepalive"), "silent_drop", "{variants:?}");
    assert_eq!(outcome("heartbeat"), "survived", "{variants:?}");
    assert!(run.check("idle")["message"]
        .as_str()
        .unwrap()
        .contains("layer 7"));
}

#[tokio::test]
async fn a_middlebox_that_resets_gives_an_unprompted_reset() {
    let relay = Relay::serve(&[]).await;
    let mb = Relay::middlebox(relay.tls(), &["--idle-timeout", CUT, "--on-idle", "reset"]).await;
    let url = format!("relay://127.0.0.1:{}", mb.middlebox_addr().port());
    let run = probe_idle(&url, &relay, &[]).await;
    let idle = assert_cut(&run, "reset");
    assert_probes(&idle, "server_push", "reset", true);
}

#[tokio::test]
async fn a_middlebox_that_sends_fin_gives_closed() {
    let relay = Relay::serve(&[]).await;
    let mb = Relay::middlebox(relay.tls(), &["--idle-timeout", CUT, "--on-idle", "fin"]).await;
    let url = format!("relay://127.0.0.1:{}", mb.middlebox_addr().port());
    let run = probe_idle(&url, &relay, &[]).await;
    let idle = assert_cut(&run, "closed");
    assert_probes(&idle, "server_push", "closed", true);
}

#[tokio::test]
async fn relay_faults_each_give_their_outcome() {
    for (fault, outcome, unprompted) in [
        ("idle-reset", "reset", true),
        ("idle-fin", "closed", true),
        ("idle-close-notify", "tls_close_notify", true),
        ("idle-drop", "silent_drop", false),
    ] {
        let spec = format!("{fault}:{CUT}");
        let relay = Relay::serve(&["--fault", &spec]).await;
        let url = format!("relay://127.0.0.1:{}", relay.tls().port());
        let run = probe_idle(&url, &relay, &[]).await;
        let idle = assert_cut(&run, outcome);
        assert_probes(&idle, "server_push", outcome, unprompted);
    }
}

#[tokio::test]
async fn https_keepalive_connections_are_checked_by_a_request() {
    let relay = Relay::serve(&[]).await;
    let mb = Relay::middlebox(relay.tls(), &["--idle-timeout", CUT, "--on-idle", "fin"]).await;
    let url = format!("https://127.0.0.1:{}/healthz", mb.middlebox_addr().port());
    let run = probe_idle(&url, &relay, &[]).await;
    let idle = assert_cut(&run, "closed");
    assert_probes(&idle, "client_send", "closed", true);
    assert!(idle["probes"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["direction"] == "client_send"));
}

#[tokio::test]
async fn websocket_connections_are_checked_by_a_ping() {
    let relay = Relay::serve(&[]).await;
    let mb = Relay::middlebox(relay.tls(), &["--idle-timeout", CUT, "--on-idle", "drop"]).await;
    let url = format!("wss://127.0.0.1:{}/$hc/e2e", mb.middlebox_addr().port());
    let run = probe_idle(&url, &relay, &[]).await;
    let idle = assert_cut(&run, "silent_drop");
    assert_probes(&idle, "client_send", "silent_drop", false);
}

#[tokio::test]
async fn refine_narrows_the_bracket_inside_the_step() {
    let relay = Relay::serve(&[]).await;
    let mb = Relay::middlebox(
        relay.tls(),
        &["--idle-timeout", "4.5", "--on-idle", "reset"],
    )
    .await;
    let url = format!("relay://127.0.0.1:{}", mb.middlebox_addr().port());
    let ca = relay.ca_file();
    let args = [
        "run",
        "--target",
        &url,
        "--ca-file",
        &ca,
        "--format",
        "json",
        "--idle",
        "3",
        "--idle-min",
        "2",
        "--idle-max",
        "8",
        "--idle-step",
        "3",
        "--refine",
    ];
    let run = run(&args, LIMIT).await;
    let idle = idle(&run);
    // Round 1 (2, 5, 8) brackets 2..5; round 2 (3, 4) narrows it to 4..5.
    assert_eq!(idle["survived_s"], 4.0, "{idle:#}");
    assert_eq!(idle["failed_s"], 5.0, "{idle:#}");
    let rounds: Vec<_> = idle["probes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["round"].as_u64().unwrap())
        .collect();
    assert!(rounds.contains(&2), "{idle:#}");
}

#[tokio::test]
async fn a_dead_control_connection_makes_the_verdict_inconclusive() {
    let relay = Relay::serve(&[]).await;
    let url = format!("relay://127.0.0.1:{}", relay.tls().port());
    let ca = relay.ca_file();
    let mut args = vec![
        "run",
        "--target",
        url.as_str(),
        "--ca-file",
        &ca,
        "--format",
        "json",
    ];
    args.extend_from_slice(LADDER);
    let probe = tokio::spawn({
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            run(&args, LIMIT).await
        }
    });
    // Once the ladder is held (six holds logged), the server goes away: every connection dies,
    // the control among them.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while relay.logs().matches("push_after_s").count() < 6 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the ladder never held:\n{}",
            relay.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    relay.terminate(Duration::from_secs(10)).await;
    let run = probe.await.expect("probe task");
    let idle = idle(&run);
    assert_eq!(idle["verdict"], "inconclusive", "{idle:#}");
    assert_ne!(idle["control"]["outcome"], "survived", "{idle:#}");
    assert_eq!(run.check("idle")["outcome"], "inconclusive");
    assert_eq!(run.code, 1);
}

#[tokio::test]
async fn an_https_endpoint_closing_keepalives_itself_limits_the_test_without_failing_the_path() {
    // The relay closes idle keep-alive connections itself, cleanly, as a server's keep-alive
    // timeout does: by its request timeout, or by a rehearsed close-notify fault.
    let fault = format!("idle-close-notify:{CUT}");
    for args in [["--request-timeout", CUT], ["--fault", fault.as_str()]] {
        let relay = Relay::serve(&args).await;
        let url = format!("https://127.0.0.1:{}/healthz", relay.tls().port());
        let run = probe_idle(&url, &relay, &[]).await;
        let idle = idle(&run);
        assert_eq!(idle["verdict"], "inconclusive", "{args:?}: {idle:#}");
        assert_eq!(idle["failure"], "tls_close_notify", "{args:?}: {idle:#}");
        let check = run.check("idle");
        assert_eq!(
            (check["status"].as_str(), check["outcome"].as_str()),
            (Some("warn"), Some("tls_close_notify"))
        );
        assert!(
            check["message"]
                .as_str()
                .unwrap()
                .contains("not a middlebox"),
            "{check:#}"
        );
        assert_eq!(
            run.code, 0,
            "a server's own keep-alive limit does not fail the path"
        );
    }
}
