//! `no_listener` through the probe's own Hybrid Connections client: the real mock-relay forgets
//! a listener idle past `--service-idle-limit` without a word to it (as the service's load
//! balancers do), so the watch's next sender is refused 404. The watch reports those pushes as
//! `no_listener`, opens an incident with that cause, and exits 1; the key never shows.

use e2e::probe_cli;
use e2e::relay::Relay;
use e2e::watch_events::{self, of};
use std::time::{Duration, Instant};

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
    // A push about every second (each gap 0.1-3 s at random). The relay forgets the listener
    // 1.5 s after the last thing that crossed it and drops the silent connection 1.5 s later,
    // so a push 1.5-3 s after the one before finds no listener, and one near the drop fails as
    // `closed`. The watch is stopped once an incident has begun with `no_listener` (about one
    // push in ten: ten seconds as a rule), bounded: 90 s hold about 90 pushes.
    let started = Instant::now();
    let child = probe_cli::spawn_command(
        tokio::process::Command::new(e2e::bins::probe()),
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
            "1s",
            "--for",
            "120s",
            "--events",
            &events_arg,
        ],
    );
    watch_events::wait_for_async(&events, Duration::from_secs(90), opens_with_no_listener).await;
    let pid = child.id().expect("the watch runs") as libc::pid_t;
    // SAFETY: kill has no memory preconditions; pid is our own child, not yet reaped.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let watch = probe_cli::finish(child, started, LIMIT)
        .await
        .expect("the watch ends on SIGTERM");
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
    assert!(
        watch.stdout.contains("probe watch: stopped (SIGTERM)"),
        "the summary:\n{}",
        watch.stdout
    );
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

/// Whether a push found no listener right after a delivered one (or first): the incident it
/// begins has `no_listener` as its cause.
fn opens_with_no_listener(events: &[serde_json::Value]) -> bool {
    let pushes = of(events, "push", None);
    pushes.iter().enumerate().any(|(i, p)| {
        p["outcome"] == "no_listener" && (i == 0 || pushes[i - 1]["outcome"] == "delivered")
    })
}
