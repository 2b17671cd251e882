//! Writeback's own pattern through the lab: a hybrid connection's idle listeners, one per entity,
//! reached through the router's kernel firewall (forgetting idle connections silently, or
//! resetting them) and through a real Squid (`read_timeout`), each cut bracketed and attributed.

use e2e::lab::{self, firewall, probe, MockRelay, Squid, SquidConfig, Topology};
use e2e::probe_cli::{assert_matches_schema, run, ProbeRun};
use e2e::relay::Relay;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(90);
const KEY: &str = "labKeyForHybridConnections0123456789abcdef=";
/// Seven entities: six idle listeners (1..6 s) and the control listener.
const ENTITIES: [&str; 7] = ["e1", "e2", "e3", "e4", "e5", "e6", "e7"];

fn ladder_args() -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    for e in ENTITIES {
        args.extend(["--hc-entity".to_string(), e.to_string()]);
    }
    for a in [
        "--idle",
        "5",
        "--idle-min",
        "1",
        "--idle-max",
        "6",
        "--idle-step",
        "1",
        "--timeout",
        "3",
        "--format",
        "json",
    ] {
        args.push(a.to_string());
    }
    args
}

fn idle(run: &ProbeRun) -> serde_json::Value {
    run.json()["targets"][0]["idle"].clone()
}

fn assert_bracket_contains(idle: &serde_json::Value, t: f64) {
    let survived = idle["survived_s"].as_f64().unwrap_or(0.0);
    let failed = idle["failed_s"]
        .as_f64()
        .unwrap_or_else(|| panic!("no failure seen: {idle:#}"));
    assert!(
        survived <= t && t <= failed && survived < failed,
        "bracket [{survived}, {failed}] should contain {t}: {idle:#}"
    );
}

async fn through_firewall(rule: lab::Rule) -> (ProbeRun, serde_json::Value) {
    through_firewall_to(rule, &[]).await
}

/// [`through_firewall`] to a mock-relay started with `relay_args` too.
async fn through_firewall_to(
    rule: lab::Rule,
    relay_args: &[&str],
) -> (ProbeRun, serde_json::Value) {
    let topo = Topology::new();
    topo.apply(&[rule]);
    let mut args = vec![
        "--hostname",
        "relay.lab.test",
        "--sas-key-name",
        "probe",
        "--sas-key",
        KEY,
    ];
    args.extend_from_slice(relay_args);
    let _relay = MockRelay::start(
        &topo.server_site(),
        SocketAddr::from((topo.server_ip, 443)),
        &args,
    );
    let ca = _relay.ca_path.display().to_string();
    let cs =
        format!("Endpoint=sb://relay.lab.test/;SharedAccessKeyName=probe;SharedAccessKey={KEY}");
    let resolve = format!("relay.lab.test:443:{}", topo.server_ip);
    let mut args: Vec<String> = vec![
        "run".into(),
        "--hybrid-connection".into(),
        cs,
        "--resolve".into(),
        resolve,
        "--ca-file".into(),
        ca,
    ];
    args.extend(ladder_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = probe::run(&topo.client_site(), &args, LIMIT).await;
    assert_matches_schema(&run.json());
    assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY));
    let idle = idle(&run);
    (run, idle)
}

#[e2e::lab::needs(lab, nft)]
#[tokio::test]
async fn a_firewall_forgetting_idle_listeners_gives_silent_drop_bracketing_t() {
    if !lab::require(&["nft"]) {
        return;
    }
    let (run, idle) = through_firewall(firewall::blackhole_after(Duration::from_secs(3))).await;
    assert_eq!(idle["verdict"], "fail", "{idle:#}\n{}", run.stderr);
    assert_eq!(idle["failure"], "silent_drop", "{idle:#}");
    assert_eq!(idle["control"]["outcome"], "survived", "{idle:#}");
    assert_bracket_contains(&idle, 3.0);
    // The sender of a rung past the cut never met its listener.
    let past = idle["probes"]
        .as_array()
        .expect("the idle check lists its probes")
        .iter()
        .find(|p| p["idle_s"] == 6.0 && p["direction"] == "server_push")
        .unwrap_or_else(|| panic!("no server_push probe idle 6 s: {idle:#}"));
    let sender = past["sender"]["outcome"]
        .as_str()
        .unwrap_or_else(|| panic!("the 6 s rung has no sender outcome: {past:#}"));
    assert_ne!(sender, "accepted", "{past:#}");
    assert_eq!(run.code, 1);
}

#[e2e::lab::needs(lab, nft)]
#[tokio::test]
async fn a_firewall_cut_below_the_relays_own_limit_is_still_bracketed_and_fails() {
    if !lab::require(&["nft"]) {
        return;
    }
    // The relay forgets listeners idle 5.5 s itself; the kernel firewall forgets flows idle 3 s.
    let (run, idle) = through_firewall_to(
        firewall::blackhole_after(Duration::from_secs(3)),
        &["--service-idle-limit", "5.5"],
    )
    .await;
    assert_eq!(idle["verdict"], "fail", "{idle:#}\n{}", run.stderr);
    assert_eq!(run.check("idle")["status"], "fail");
    assert_eq!(idle["failure"], "silent_drop", "{idle:#}");
    assert_eq!(idle["control"]["outcome"], "survived", "{idle:#}");
    assert_bracket_contains(&idle, 3.0);
    for p in idle["probes"].as_array().unwrap() {
        assert!(
            p["idle_s"].as_f64().unwrap() < 5.5,
            "a rung past the relay's limit: {p}"
        );
    }
    assert_eq!(run.code, 1);
}

#[e2e::lab::needs(lab, nft)]
#[tokio::test]
async fn a_firewall_resetting_idle_listeners_gives_reset_bracketing_t() {
    if !lab::require(&["nft"]) {
        return;
    }
    let (run, idle) = through_firewall(firewall::reset_after(Duration::from_secs(3))).await;
    assert_eq!(idle["verdict"], "fail", "{idle:#}\n{}", run.stderr);
    assert_eq!(idle["failure"], "reset", "{idle:#}");
    assert_eq!(idle["control"]["outcome"], "survived", "{idle:#}");
    assert_bracket_contains(&idle, 3.0);
    assert_eq!(run.code, 1);
}

#[e2e::lab::needs(lab, squid)]
#[tokio::test]
async fn squids_read_timeout_closes_idle_listeners() {
    if !lab::require(&["squid"]) {
        return;
    }
    let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let squid = Squid::start(
        &lab::Site::Host,
        localhost,
        0,
        &SquidConfig::default()
            .read_timeout(Duration::from_secs(3))
            .dns_server(localhost),
    );
    let relay = Relay::serve(&["--sas-key-name", "probe", "--sas-key", KEY]).await;
    let cs = relay.connection_string().expose().expose().to_string();
    let ca = relay.ca_file();
    let mut args: Vec<String> = vec![
        "run".into(),
        "--hybrid-connection".into(),
        cs,
        "--ca-file".into(),
        ca,
        "--proxy".into(),
        squid.url(),
    ];
    args.extend(ladder_args());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let run = run(&args, LIMIT).await;
    assert_matches_schema(&run.json());
    let idle = idle(&run);
    assert_eq!(run.check("proxy")["outcome"], "connected", "{}", run.stdout);
    assert_eq!(idle["verdict"], "fail", "{idle:#}\n{}", squid.logs());
    assert_eq!(idle["failure"], "closed", "{idle:#}");
    // Squid checks its timeouts about once a second: the tunnel closes between 3 and 4.5 s.
    let survived = idle["survived_s"]
        .as_f64()
        .unwrap_or_else(|| panic!("no survived_s: {idle:#}"));
    let failed = idle["failed_s"]
        .as_f64()
        .unwrap_or_else(|| panic!("no failed_s: {idle:#}"));
    assert!((2.0..=4.0).contains(&survived), "{idle:#}");
    assert!(
        (3.0..=5.0).contains(&failed) && survived < failed,
        "{idle:#}"
    );
    assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY));
}
