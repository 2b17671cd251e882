//! The probe's Hybrid Connections mode against the real mock-relay speaking the protocol: a
//! listener opens, a sender reaches it and a message crosses each way; the service's refusals
//! (401, 404) and a listener's rejection come back as their outcome words; the idle listeners,
//! one per entity, are bracketed by a rehearsed cut; the key never shows in any output.

use e2e::hc::{next_accept, Refused};
use e2e::probe_cli::{assert_matches_schema, run, run_command, ProbeRun};
use e2e::relay::Relay;
use relay_protocol::hc::reject_url;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
/// The relay's key: it must never appear in anything the probe writes.
const KEY: &str = "pr0beKeyThatMustNeverBeShown0123456789abcd=";

async fn relay(extra: &[&str]) -> Relay {
    let mut args = vec!["--sas-key-name", "probe", "--sas-key", KEY];
    args.extend_from_slice(extra);
    Relay::serve(&args).await
}

/// The relay's connection string, whole (key included).
fn connection_string(relay: &Relay) -> String {
    relay.connection_string().expose().expose().to_string()
}

async fn probe_hc(relay: &Relay, cs: &str, extra: &[&str]) -> ProbeRun {
    let ca = relay.ca_file();
    let mut args = vec![
        "run",
        "--hybrid-connection",
        cs,
        "--ca-file",
        &ca,
        "--format",
        "json",
        "--timeout",
        "5",
    ];
    args.extend_from_slice(extra);
    let run = run(&args, LIMIT).await;
    assert_matches_schema(&run.json());
    run
}

fn assert_no_key(run: &ProbeRun, secret: &str) {
    assert!(
        !run.stdout.contains(secret),
        "key in stdout:\n{}",
        run.stdout
    );
    assert!(
        !run.stderr.contains(secret),
        "key in stderr:\n{}",
        run.stderr
    );
}

#[tokio::test]
async fn a_listener_opens_and_a_sender_reaches_it_both_ways() {
    let relay = relay(&[]).await;
    let cs = connection_string(&relay);
    let run = probe_hc(&relay, &cs, &["--hc-entity", "hc1", "--quick"]).await;
    let json = run.json();
    let target = &json["targets"][0];
    assert_eq!(target["kind"], "hc", "{target:#}");
    assert_eq!(
        target["url"],
        format!("hc://127.0.0.1:{}/hc1", relay.tls().port())
    );
    let listener = run.check("listener");
    assert_eq!(listener["outcome"], "listening", "{listener:#}");
    assert_eq!(listener["status_code"], 101);
    let rendezvous = run.check("rendezvous");
    assert_eq!(rendezvous["outcome"], "accepted", "{rendezvous:#}");
    assert_eq!(rendezvous["status"], "pass");
    assert!(
        rendezvous["round_trip_ms"].as_f64().is_some(),
        "a message crossed each way: {rendezvous:#}"
    );
    assert_eq!(rendezvous["rendezvous_host"], "127.0.0.1");
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_no_key(&run, KEY);
}

#[tokio::test]
async fn a_wrong_key_is_unauthorized_and_neither_key_is_ever_shown() {
    let relay = relay(&[]).await;
    let wrong_key = "Wr0ngKeyWr0ngKeyWr0ngKeyWr0ngKeyWr0ngKey123=";
    let cs = connection_string(&relay).replace(KEY, wrong_key);
    let ca = relay.ca_file();
    for format in ["json", "human", "junit", "prometheus"] {
        let run = run(
            &[
                "run",
                "--hybrid-connection",
                &cs,
                "--hc-entity",
                "hc1",
                "--ca-file",
                &ca,
                "--format",
                format,
                "--quick",
                "-vv",
            ],
            LIMIT,
        )
        .await;
        assert_eq!(run.code, 1, "{format}: {}", run.stdout);
        assert_no_key(&run, wrong_key);
        assert_no_key(&run, KEY);
        if format == "json" {
            let listener = run.check("listener");
            assert_eq!(listener["outcome"], "unauthorized", "{listener:#}");
            assert_eq!(listener["status_code"], 401);
            assert_eq!(run.check("rendezvous")["status"], "skip");
        }
    }
    // The debug logs of every library, as JSON lines, and the key read from the environment.
    let run = run_command(
        {
            let mut cmd = tokio::process::Command::new(e2e::bins::probe());
            cmd.env("PROBE_LOG", "trace")
                .env("PROBE_HYBRID_CONNECTION", &cs);
            cmd
        },
        &[
            "--log-format",
            "json",
            "run",
            "--hc-entity",
            "hc1",
            "--ca-file",
            &ca,
            "--quick",
        ],
        LIMIT,
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(!run.stderr.is_empty(), "trace logs were written");
    assert_no_key(&run, wrong_key);
}

#[tokio::test]
async fn an_unknown_entity_is_no_such_entity() {
    let relay = relay(&["--entity", "hc1"]).await;
    // The connection string names hc1; ask for another.
    let cs = connection_string(&relay).replace("EntityPath=hc1", "EntityPath=nope");
    let run = probe_hc(&relay, &cs, &["--quick"]).await;
    let listener = run.check("listener");
    assert_eq!(listener["outcome"], "no_such_entity", "{listener:#}");
    assert_eq!(listener["status_code"], 404);
    assert_eq!(run.code, 1);
    assert_no_key(&run, KEY);
}

#[tokio::test]
async fn another_listener_that_rejects_the_sender_gives_rejected_with_its_status() {
    let relay = relay(&[]).await;
    let hc = relay.hc();
    // The oldest listener on hc1 (the relay hands senders round robin, oldest first) turns
    // every sender away.
    let mut rejecter = hc
        .listen("hc1", "rejecter")
        .await
        .expect("rejecting listener");
    let rejecting = {
        let hc = hc.clone();
        tokio::spawn(async move {
            while let Some(accept) = next_accept(&mut rejecter, Duration::from_secs(30)).await {
                let url = reject_url(&accept.address, 418, "not today");
                match hc.open(&url, None).await {
                    Err(Refused::Status(410, _)) => {}
                    other => panic!("the reject was not completed: {other:?}"),
                }
            }
        })
    };
    let cs = connection_string(&relay);
    let run = probe_hc(&relay, &cs, &["--hc-entity", "hc1", "--quick"]).await;
    rejecting.abort();
    assert_eq!(run.check("listener")["outcome"], "listening");
    let rendezvous = run.check("rendezvous");
    assert_eq!(rendezvous["outcome"], "rejected", "{rendezvous:#}");
    assert_eq!(rendezvous["status_code"], 418, "{rendezvous:#}");
    assert_eq!(rendezvous["description"], "not today", "{rendezvous:#}");
    assert!(
        rendezvous["message"]
            .as_str()
            .unwrap()
            .contains("another listener"),
        "{rendezvous:#}"
    );
    assert_eq!(run.code, 1);
}

#[tokio::test]
async fn a_malformed_connection_string_exits_2_naming_the_key_not_showing_it() {
    let secret = "S3cretS3cretS3cretS3cret=";
    for cs in [
        format!("Endpoint=sb://relay.lab/;SharedAccessKeyName=probe;SharedAccesKey={secret}"),
        format!("Endpoint=sb://relay.lab/;SharedAccessKeyName=probe;{secret}"),
        format!("SharedAccessKeyName=probe;SharedAccessKey={secret};EntityPath=hc1"),
    ] {
        let run = run(&["run", "--hybrid-connection", &cs, "--quick"], LIMIT).await;
        assert_eq!(run.code, 2, "{cs}: {}", run.stderr);
        assert_no_key(&run, secret);
        assert!(
            run.stderr.contains("--hybrid-connection"),
            "the error names the flag: {}",
            run.stderr
        );
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
    }
    let run = run(
        &[
            "run",
            "--hybrid-connection",
            &format!("Endpoint=sb://relay.lab/;SharedAccessKeyName=probe;SharedAccessKey={secret}"),
            "--quick",
        ],
        LIMIT,
    )
    .await;
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("EntityPath"), "{}", run.stderr);
    assert_no_key(&run, secret);
}

/// `--idle 4` over 1..6 s, with the relay resetting connections idle for 3.5 s.
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

#[tokio::test]
async fn idle_listeners_one_per_entity_bracket_the_cut() {
    let relay = relay(&["--fault", "idle-reset:3.5"]).await;
    let cs = connection_string(&relay);
    let mut args: Vec<&str> = Vec::new();
    let entities = ["e1", "e2", "e3", "e4", "e5", "e6", "e7"];
    for e in &entities {
        args.extend(["--hc-entity", e]);
    }
    args.extend_from_slice(LADDER);
    let run = probe_hc(&relay, &cs, &args).await;
    let json = run.json();
    let idle = &json["targets"][0]["idle"];
    assert_eq!(idle["verdict"], "fail", "{idle:#}\n{}", run.stderr);
    assert_eq!(idle["failure"], "reset", "{idle:#}");
    assert_eq!(
        (idle["survived_s"].as_f64(), idle["failed_s"].as_f64()),
        (Some(3.0), Some(4.0)),
        "{idle:#}"
    );
    assert_eq!(idle["control"]["outcome"], "survived", "{idle:#}");
    let ladder = &idle["hc_ladder"];
    assert_eq!(ladder["entities"], 7, "{ladder:#}");
    assert_eq!(ladder["rungs"], 6, "{ladder:#}");
    assert_eq!(ladder["control_entity"], "e7", "{ladder:#}");
    for p in idle["probes"].as_array().unwrap() {
        assert!(p["entity"].is_string(), "{p}");
        if p["direction"] == "server_push" && p["outcome"] == "survived" {
            assert_eq!(p["sender"]["outcome"], "accepted", "{p}");
        }
    }
    assert_eq!(run.code, 1);
    assert_no_key(&run, KEY);
}

#[tokio::test]
async fn one_entity_gives_one_definitive_rung_at_the_required_time() {
    let relay = relay(&["--fault", "idle-reset:3.5"]).await;
    let cs = connection_string(&relay);
    let mut args = vec!["--hc-entity", "only"];
    // Required 3 s: the one listener, idle 3 s, survives the 3.5 s cut.
    args.extend_from_slice(&[
        "--idle",
        "3",
        "--idle-min",
        "1",
        "--idle-max",
        "6",
        "--idle-step",
        "1",
    ]);
    let run = probe_hc(&relay, &cs, &args).await;
    let json = run.json();
    let idle = &json["targets"][0]["idle"];
    let probes = idle["probes"].as_array().unwrap();
    assert!(
        probes.iter().all(|p| p["idle_s"] == 3.0),
        "one rung, at the required time: {idle:#}"
    );
    assert_eq!(idle["verdict"], "pass", "{idle:#}\n{}", run.stderr);
    assert_eq!(idle["hc_ladder"]["control_entity"], "only");
    let message = run.check("idle")["message"].as_str().unwrap().to_string();
    assert!(message.contains("One entity"), "{message}");
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// The service names a gateway host, not the namespace, in its accept addresses. A path that
/// lets through only the namespace (here the gateway leads to an address where nothing listens,
/// as a firewall that rejects it) fails at the rendezvous, and the probe names the gateway and
/// the domain to allow.
#[tokio::test]
async fn a_gateway_the_path_does_not_let_through_fails_the_rendezvous_naming_it_and_the_domain() {
    let relay = relay(&[
        "--hostname",
        "hc.lab.test",
        "--gateway",
        "g1-sb.lab.test",
        "--entity",
        "hc1",
    ])
    .await;
    let port = relay.tls().port();
    let cs = connection_string(&relay);
    let namespace = format!("hc.lab.test:{port}:127.0.0.1");
    let gateway = format!("g1-sb.lab.test:{port}:127.0.0.2");
    let run = probe_hc(
        &relay,
        &cs,
        &["--resolve", &namespace, "--resolve", &gateway, "--quick"],
    )
    .await;
    assert_eq!(run.check("listener")["outcome"], "listening");
    let rendezvous = run.check("rendezvous");
    assert_eq!(rendezvous["status"], "fail", "{rendezvous:#}");
    assert_eq!(
        rendezvous["rendezvous_host"], "g1-sb.lab.test",
        "{rendezvous:#}"
    );
    let message = rendezvous["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("rendezvous address g1-sb.lab.test could not be reached")
            && message.contains("allow TCP 443 to *.lab.test"),
        "{message}"
    );
    assert_eq!(run.code, 1, "{}", run.stdout);
}
