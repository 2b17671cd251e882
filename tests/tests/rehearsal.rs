//! Rehearsal by the real names: the built-in scenario, unchanged, against a mock-relay that
//! answers for the service's host names (here through `--resolve`, as a segment's DNS override
//! would). The mock-relay's own test CA is recognised as a rehearsal, not an interception, so
//! every check runs, idle included; without its CA the run says how to trust it; any other
//! issuer is still an interception, and so is a mock-relay's CA trusted through the machine's
//! store rather than given to the run (`windows_probe` checks that one).
//!
//! The scenario's URLs use port 443, so the mock-relay listens on 443 of a loopback address of
//! this test process's own (root, as the lab).

use e2e::lab;
use e2e::probe_cli::{assert_matches_schema, run, ProbeRun};
use e2e::relay::Relay;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(90);
/// The built-in scenario's public-cloud targets and their host names.
const TARGETS: [(&str, &str); 3] = [
    (
        "sspr-relay-scu",
        "ssprdedicatedsbprodscu.servicebus.windows.net",
    ),
    (
        "sspr-relay-ncu",
        "ssprdedicatedsbprodncu.servicebus.windows.net",
    ),
    ("passwordreset", "passwordreset.microsoftonline.com"),
];

/// `127.B.7.1`, B from the process id (two runs of the suite at once bind apart).
fn address() -> String {
    format!("127.{}.7.1", 100 + std::process::id() % 150)
}

/// A mock-relay on `ADDRESS:443` with a certificate for every public-cloud host name.
async fn relay(address: &str) -> Relay {
    let listen = format!("{address}:443");
    let mut args = vec!["--listen", listen.as_str()];
    for (_, host) in TARGETS {
        args.extend(["--hostname", host]);
    }
    Relay::serve(&args).await
}

/// The built-in scenario, public cloud, every name resolved to `address`, plus `extra`.
async fn rehearse(address: &str, extra: &[&str]) -> ProbeRun {
    let resolves: Vec<String> = TARGETS
        .iter()
        .map(|(_, host)| format!("{host}:443:{address}"))
        .collect();
    let mut args = vec![
        "run",
        "--cloud",
        "public",
        "--format",
        "json",
        "--timeout",
        "3",
    ];
    for r in &resolves {
        args.extend(["--resolve", r.as_str()]);
    }
    args.extend_from_slice(extra);
    let run = run(&args, LIMIT).await;
    assert_matches_schema(&run.json());
    run
}

fn target<'a>(json: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    json["targets"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("no target {name}: {json:#}"))
}

fn check<'a>(target: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    target["checks"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["check"] == name))
        .unwrap_or_else(|| panic!("no {name} check: {target:#}"))
}

#[e2e::lab::needs(lab)]
#[tokio::test]
async fn the_builtin_scenario_against_a_mock_relay_by_the_real_names_runs_every_check() {
    if !lab::require(&[]) {
        return;
    }
    let address = address();
    let relay = relay(&address).await;
    let ca = relay.ca_file();
    // A short idle ladder, so the relay targets' idle check runs in seconds.
    let run = rehearse(
        &address,
        &[
            "--ca-file",
            &ca,
            "--idle",
            "2",
            "--idle-recommended",
            "2",
            "--idle-min",
            "1",
            "--idle-max",
            "2",
            "--idle-step",
            "1",
        ],
    )
    .await;
    let json = run.json();
    for (name, _) in TARGETS {
        let t = target(&json, name);
        let tls = check(t, "tls");
        assert_eq!(
            (tls["outcome"].as_str(), tls["rehearsal"].as_bool()),
            (Some("ok"), Some(true)),
            "{tls:#}"
        );
        assert!(
            tls["message"].as_str().unwrap().contains("a rehearsal"),
            "{tls:#}"
        );
        assert_eq!(check(t, "http")["outcome"], "response", "{t:#}");
    }
    for relay_target in ["sspr-relay-scu", "sspr-relay-ncu"] {
        let idle = check(target(&json, relay_target), "idle");
        assert_eq!(
            (idle["status"].as_str(), idle["outcome"].as_str()),
            (Some("pass"), Some("survived")),
            "{idle:#}"
        );
    }
    let notes = json["notes"].to_string();
    assert!(
        notes.contains("rehearsal: sspr-relay-scu, sspr-relay-ncu, passwordreset"),
        "{notes}"
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
    drop(relay);
}

#[e2e::lab::needs(lab)]
#[tokio::test]
async fn without_its_ca_a_mock_relay_is_untrusted_with_how_to_trust_it_not_an_interception() {
    if !lab::require(&[]) {
        return;
    }
    let address = address();
    let _relay = relay(&address).await;
    let run = rehearse(&address, &["--quick"]).await;
    let json = run.json();
    for (name, _) in TARGETS {
        let t = target(&json, name);
        let tls = check(t, "tls");
        assert_eq!(tls["outcome"], "untrusted", "{tls:#}");
        assert!(tls.get("rehearsal").is_none(), "{tls:#}");
        let message = tls["message"].as_str().unwrap();
        assert!(
            message.contains("mock-relay's own test CA") && message.contains("--ca-file"),
            "{message}"
        );
    }
    assert!(!json["notes"].to_string().contains("rehearsal"), "{json:#}");
    assert_eq!(run.code, 1, "{}", run.stdout);
}
