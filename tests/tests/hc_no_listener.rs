//! `no_listener` through the probe's own Hybrid Connections client: the real mock-relay forgets
//! a listener idle past `--service-idle-limit` without a word to it (as the service's load
//! balancers do), so the watch's next sender is refused 404. The watch reports those pushes as
//! `no_listener`, opens an incident with that cause, and exits 1; the key never shows.

use e2e::probe_cli::run;
use e2e::relay::Relay;
use e2e::watch_events::{self, of};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
const KEY: &str = "noListenerKeyForHybridConnections0123456789=";

#[tokio::test]
async fn a_listener_the_relay_forgot_gives_the_watchs_sender_no_listener() {
    let relay = Relay::serve(&[
        "--sas-key-name",
        "probe",
        "--sas-key",
        KEY,
        "--service-idle-limit",
        "1.5",
    ])
    .await;
    let cs = relay.connection_string().expose().expose().to_string();
    let ca = relay.ca_file();
    let events = relay.path("events.jsonl");
    let events_arg = events.display().to_string();
    // A push every 3 s: the listener is idle twice the relay's limit before each sender.
    let watch = run(
        &[
            "watch",
            "--hybrid-connection",
            &cs,
            "--hc-entity",
            "hc1",
            "--ca-file",
            &ca,
            "--timeout",
            "5",
            "--push-every",
            "3s",
            "--for",
            "8s",
            "--events",
            &events_arg,
        ],
        LIMIT,
    )
    .await;
    let all = watch_events::read(&events);
    let pushes = of(&all, "push", None);
    let refused: Vec<_> = pushes
        .iter()
        .filter(|p| p["outcome"] == "no_listener")
        .collect();
    assert!(
        !refused.is_empty(),
        "no push found the listener forgotten:\n{}\n{}",
        std::fs::read_to_string(&events).unwrap_or_default(),
        watch.stderr
    );
    let incidents = of(&all, "incident", None);
    assert!(
        incidents.iter().any(|i| i["cause"] == "no_listener"),
        "no incident caused by no_listener: {incidents:?}"
    );
    assert_eq!(watch.code, 1, "an incident: exit 1\n{}", watch.stderr);
    relay
        .wait_for_log(&["listener forgotten after 1.5 s idle"], LIMIT)
        .await;
    let written = std::fs::read_to_string(&events).unwrap_or_default();
    for (what, text) in [
        ("stdout", &watch.stdout),
        ("stderr", &watch.stderr),
        ("events", &written),
    ] {
        assert!(!text.contains(KEY), "the key in {what}:\n{text}");
    }
}
