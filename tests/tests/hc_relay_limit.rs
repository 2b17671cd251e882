//! The relay's own limits, against the real mock-relay and the real probe: a relay that forgets
//! idle listeners (`--service-idle-limit`, announced on the address line and to listeners) caps
//! the probe's ladder, which then ends in `warn` naming the relay's limit, never `fail` on the
//! rungs beyond it; the probe's listeners never send a WebSocket Ping; a listener held longer
//! than its token's life renews it and survives; a burst of senders the probe did not start is
//! turned away with a bound and reported as a busy entity.

use e2e::hc::Refused;
use e2e::probe_cli::{assert_matches_schema, run, ProbeRun};
use e2e::relay::Relay;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
const KEY: &str = "limitKeyForHybridConnections0123456789abcd=";
/// What mock-relay logs when a listener sends a WebSocket Ping on its control channel.
const PING_LOGGED: &str = "sent a WebSocket Ping on its control channel";

async fn relay(extra: &[&str]) -> Relay {
    let mut args = vec!["--sas-key-name", "probe", "--sas-key", KEY];
    args.extend_from_slice(extra);
    Relay::serve(&args).await
}

async fn probe_hc(relay: &Relay, extra: &[&str]) -> ProbeRun {
    let cs = relay.connection_string().expose().expose().to_string();
    let ca = relay.ca_file();
    let mut args = vec![
        "run",
        "--hybrid-connection",
        &cs,
        "--ca-file",
        &ca,
        "--format",
        "json",
        "--timeout",
        "3",
    ];
    args.extend_from_slice(extra);
    let run = run(&args, LIMIT).await;
    assert_matches_schema(&run.json());
    assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY));
    run
}

fn entities(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("e{i}")).collect()
}

fn with_entities<'a>(names: &'a [String], rest: &[&'a str]) -> Vec<&'a str> {
    let mut args = Vec::new();
    for e in names {
        args.extend(["--hc-entity", e.as_str()]);
    }
    args.extend_from_slice(rest);
    args
}

#[tokio::test]
async fn the_relay_forgets_an_idle_listener_silently_and_announces_its_limit() {
    let relay = relay(&["--service-idle-limit", "1.5"]).await;
    assert_eq!(
        relay.addrs.service_idle_limit,
        Some(Duration::from_millis(1500)),
        "the address line announces the limit"
    );
    let hc = relay.hc();
    let _listener = hc.listen("hc1", "idle").await.expect("listener");
    tokio::time::sleep(Duration::from_millis(2200)).await;
    // Forgotten: a sender finds no listener; the forgotten channel itself heard nothing.
    match hc.send("hc1", "late").await {
        Err(Refused::Status(404, _)) => {}
        other => panic!("a sender after the limit should find no listener: {other:?}"),
    }
    relay
        .wait_for_log(
            &["listener forgotten after 1.5 s idle"],
            Duration::from_secs(5),
        )
        .await;
}

#[tokio::test]
async fn a_ladder_beyond_the_relays_limit_warns_naming_it_and_never_fails_there() {
    // The relay forgets listeners idle 4.5 s; the ladder asks for 1..8 s with 3 s required.
    let relay = relay(&["--service-idle-limit", "4.5"]).await;
    let names = entities(9);
    let args = with_entities(
        &names,
        &[
            "--idle",
            "3",
            "--idle-min",
            "1",
            "--idle-max",
            "8",
            "--idle-step",
            "1",
        ],
    );
    let run = probe_hc(&relay, &args).await;
    let check = run.check("idle");
    let idle = &run.json()["targets"][0]["idle"];
    assert_eq!(
        check["status"], "warn",
        "{check:#}\n{idle:#}\n{}",
        run.stderr
    );
    assert_eq!(check["outcome"], "survived", "{check:#}");
    let message = check["message"].as_str().unwrap();
    assert!(
        message.contains("forgets listeners idle for 4.5 s")
            && message.contains("--service-idle-limit"),
        "the message names the relay's limit: {message}"
    );
    assert!(
        message.contains("210 s"),
        "what the result proves: {message}"
    );
    assert_eq!(idle["verdict"], "pass", "{idle:#}");
    assert!(idle["failed_s"].is_null(), "no rung failed: {idle:#}");
    let probes = idle["probes"].as_array().unwrap();
    assert!(!probes.is_empty(), "no rung ran below the limit: {idle:#}");
    for p in probes {
        assert!(
            p["idle_s"].as_f64().unwrap() < 4.5,
            "a rung past the limit: {p}"
        );
        assert_eq!(p["outcome"], "survived", "{p}");
    }
    assert_eq!(idle["control"]["outcome"], "survived", "{idle:#}");
    assert_eq!(run.code, 0, "a warning exits 0: {}", run.stdout);
    assert!(
        !relay.logs().contains(PING_LOGGED),
        "a probe listener sent a WebSocket Ping:\n{}",
        relay.logs()
    );
}

#[tokio::test]
async fn a_cut_below_the_relays_limit_is_still_the_paths_and_fails() {
    // The relay resets connections idle 2.5 s (a rehearsed firewall) and forgets listeners
    // idle 5 s itself: the cut below the limit is bracketed and fails.
    let relay = relay(&["--service-idle-limit", "5", "--fault", "idle-reset:2.5"]).await;
    let names = entities(7);
    let args = with_entities(
        &names,
        &[
            "--idle",
            "3",
            "--idle-min",
            "1",
            "--idle-max",
            "8",
            "--idle-step",
            "1",
        ],
    );
    let run = probe_hc(&relay, &args).await;
    let idle = &run.json()["targets"][0]["idle"];
    assert_eq!(idle["verdict"], "fail", "{idle:#}\n{}", run.stderr);
    assert_eq!(run.check("idle")["status"], "fail");
    assert_eq!(
        (idle["survived_s"].as_f64(), idle["failed_s"].as_f64()),
        (Some(2.0), Some(3.0)),
        "{idle:#}"
    );
    assert_eq!(run.code, 1);
}

#[tokio::test]
async fn a_listener_held_past_its_tokens_life_renews_it_and_survives() {
    // Tokens live 3 s; the one listener idles 6 s, the control listener longer.
    let relay = relay(&[]).await;
    let run = probe_hc(
        &relay,
        &[
            "--hc-entity",
            "only",
            "--hc-token-lifetime",
            "3",
            "--idle",
            "6",
            "--idle-min",
            "1",
            "--idle-max",
            "6",
            "--idle-step",
            "1",
        ],
    )
    .await;
    let idle = &run.json()["targets"][0]["idle"];
    assert_eq!(idle["verdict"], "pass", "{idle:#}\n{}", relay.logs());
    assert_eq!(idle["control"]["outcome"], "survived", "{idle:#}");
    let logs = relay.logs();
    assert!(logs.contains("listener token renewed"), "{logs}");
    assert!(!logs.contains("listener token expired"), "{logs}");
    assert!(!logs.contains(PING_LOGGED), "{logs}");
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[tokio::test]
async fn a_burst_of_foreign_senders_is_turned_away_with_a_bound_and_reported_busy() {
    let relay = relay(&[]).await;
    let hc = relay.hc();
    let stop = Arc::new(AtomicBool::new(false));
    let turned = Arc::new(AtomicU32::new(0));
    let attempts = Arc::new(AtomicU32::new(0));
    // Forty senders at a time on the probe's one entity, each replaced as soon as it is
    // answered, for as long as the probe runs: the idle listener (3 s) and the control
    // listener are handed far more senders than they started.
    let flood: Vec<_> = (0..40)
        .map(|i| {
            let (hc, stop, turned, attempts) =
                (hc.clone(), stop.clone(), turned.clone(), attempts.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    attempts.fetch_add(1, Ordering::Relaxed);
                    match hc.send("hc1", &format!("foreign-{i}-{n}")).await {
                        // Turned away by a probe listener (409) or its control (503).
                        Err(Refused::Status(409 | 503, _)) => {
                            turned.fetch_add(1, Ordering::Relaxed);
                        }
                        // No listener yet, or the service's own timeout.
                        _ => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
            })
        })
        .collect();
    let run = probe_hc(
        &relay,
        &[
            "--hc-entity",
            "hc1",
            "--idle",
            "3",
            "--idle-min",
            "1",
            "--idle-max",
            "3",
            "--idle-step",
            "1",
        ],
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    for f in flood {
        f.abort();
    }
    // The rendezvous check's listener may meet the flood first (then the idle check is
    // skipped), or the idle listeners do.
    let rendezvous = run.check("rendezvous");
    let busy = if rendezvous["outcome"] == "entity_busy" {
        rendezvous
    } else {
        run.check("idle")
    };
    let message = busy["message"].as_str().unwrap();
    assert!(
        message.contains("busy with other senders"),
        "{busy:#}\n{}",
        run.stderr
    );
    assert_eq!(busy["status"], "fail", "{busy:#}");
    // Each of the probe's listeners turns away at most 16: the rendezvous check's, the idle
    // rung's and the control's.
    let turned = turned.load(Ordering::Relaxed);
    assert!(
        (16..=48).contains(&turned),
        "the probe turned away {turned} senders (of {} tries)",
        attempts.load(Ordering::Relaxed)
    );
    assert_eq!(run.code, 1);
}

#[tokio::test]
async fn one_entity_below_a_requirement_beyond_the_limit_tests_up_to_the_limit_and_warns() {
    // One entity, 5 s required, the relay forgets listeners idle 3.5 s: the one listener idles
    // as long as the relay allows (2 s of the 1 s ladder) and the result is a warning.
    let relay = relay(&["--service-idle-limit", "3.5"]).await;
    let run = probe_hc(
        &relay,
        &[
            "--hc-entity",
            "only",
            "--idle",
            "5",
            "--idle-min",
            "1",
            "--idle-max",
            "6",
            "--idle-step",
            "1",
        ],
    )
    .await;
    let check = run.check("idle");
    let idle = &run.json()["targets"][0]["idle"];
    assert_eq!(check["status"], "warn", "{check:#}\n{idle:#}");
    assert_eq!(check["outcome"], "inconclusive", "{check:#}");
    assert_eq!(idle["verdict"], "inconclusive", "{idle:#}");
    let probes = idle["probes"].as_array().unwrap();
    assert!(
        probes
            .iter()
            .all(|p| p["idle_s"] == 2.0 && p["outcome"] == "survived"),
        "{idle:#}"
    );
    let message = check["message"].as_str().unwrap();
    assert!(
        message.contains("forgets listeners idle for 3.5 s"),
        "{message}"
    );
    assert!(message.contains("short of the 5 s required"), "{message}");
}
