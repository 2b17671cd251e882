//! The benchmark's own tools measure what they claim, on a small scale: the handshake load
//! generator completes handshakes in both modes and sees the server's CPU time; the hold bench
//! gets every push and a per-connection memory figure; the Hybrid Connections bench answers every
//! request through the relay and direct, delivers every rendezvous message, and holds every
//! request in flight until released; the watch run counts its pushes and samples the watch and
//! the relay. (The figures themselves are measured by
//! `tests/bench/run.sh`, never asserted.)

use e2e::bench::handshake::{self, Load, Mode};
use e2e::bench::hold::{run_round, RelayProcess, RoundConfig};
use e2e::bench::relayed::direct::DirectServers;
use e2e::bench::relayed::footprint::{self, FootprintConfig};
use e2e::bench::relayed::throughput;
use e2e::bench::watch::{self, WatchConfig};
use e2e::relay::Relay;
use std::time::Duration;

async fn load_against_the_relay(mode: Mode) -> handshake::Outcome {
    let relay = Relay::serve(&[]).await;
    let load = Load {
        server: relay.tls(),
        server_name: "localhost".into(),
        concurrency: 4,
        sources: 2,
        duration: Duration::from_secs(1),
        server_pids: vec![relay.pid()],
        mode,
    };
    tokio::time::timeout(Duration::from_secs(20), handshake::run(&load))
        .await
        .expect("the load ends after its duration")
        .expect("calibration against mock-relay")
}

#[tokio::test]
async fn flight_mode_makes_the_server_do_its_handshakes() {
    let outcome = load_against_the_relay(Mode::Flight).await;
    assert!(outcome.handshakes >= 20, "{outcome:?}");
    assert_eq!(outcome.errors, 0, "{outcome:?}");
    assert!(outcome.server_cpu_cores > 0.0, "{outcome:?}");
}

#[tokio::test]
async fn full_mode_completes_handshakes() {
    let outcome = load_against_the_relay(Mode::Full).await;
    assert!(outcome.handshakes >= 20, "{outcome:?}");
    assert_eq!(outcome.errors, 0, "{outcome:?}");
}

#[tokio::test]
async fn flight_calibration_refuses_a_server_that_is_not_tls() {
    let relay = Relay::serve(&["--plain-listen", "127.0.0.1:0"]).await;
    let load = Load {
        server: relay.plain(),
        server_name: "localhost".into(),
        concurrency: 1,
        sources: 1,
        duration: Duration::from_secs(1),
        server_pids: vec![],
        mode: Mode::Flight,
    };
    let result = tokio::time::timeout(Duration::from_secs(20), handshake::run(&load))
        .await
        .expect("calibration is bounded");
    assert!(result.is_err(), "{result:?}");
}

#[tokio::test]
async fn hold_round_gets_every_push_and_a_memory_figure() {
    let config = RoundConfig {
        mock_relay: e2e::bins::mock_relay(),
        relay_args: vec![],
        connections: 50,
        push_window: Duration::from_secs(1),
        concurrency: 10,
        sources: 2,
    };
    let report = tokio::time::timeout(Duration::from_secs(60), run_round(&config))
        .await
        .expect("a round is bounded")
        .expect("a round against mock-relay");
    assert_eq!(report.connections, 50, "{}", report.line());
    assert_eq!(report.failed, 0, "{}", report.line());
    assert_eq!(report.pushes_missing, 0, "{}", report.line());
    assert!(
        report.held_rss_mib > report.baseline_rss_mib,
        "{}",
        report.line()
    );
    assert!(report.push_latency.max_ms < 1000.0, "{}", report.line());
}

/// A relay for the Hybrid Connections benches, the direct servers beside it.
async fn relay_and_direct() -> (RelayProcess, DirectServers) {
    let relay = RelayProcess::start(&e2e::bins::mock_relay(), &[])
        .await
        .expect("mock-relay starts");
    let direct = DirectServers::start().await.expect("direct servers");
    (relay, direct)
}

#[tokio::test]
async fn request_mode_answers_every_request_through_the_relay_and_direct() {
    let (relay, direct) = relay_and_direct().await;
    let hc = relay.hc().expect("a connection string");
    let report = tokio::time::timeout(
        Duration::from_secs(60),
        throughput::requests(&hc, relay.pid(), &direct, 2, 3, Duration::from_secs(1)),
    )
    .await
    .expect("the load ends after its duration")
    .expect("request mode runs");
    for outcome in [&report.relay, &report.direct] {
        assert!(outcome.requests > 0, "{report:?}");
        assert_eq!(outcome.errors, 0, "{report:?}");
        assert_eq!(outcome.connections, 3, "{report:?}");
        assert!(outcome.p50_ms <= outcome.p99_ms, "{report:?}");
        assert!(outcome.p99_ms <= outcome.max_ms, "{report:?}");
    }
    assert_eq!(
        report.listener_received, report.relay.requests,
        "{report:?}"
    );
    relay.stop().await;
}

#[tokio::test]
async fn rendezvous_delivers_every_message_through_the_relay_and_direct() {
    let (relay, direct) = relay_and_direct().await;
    let hc = relay.hc().expect("a connection string");
    let report = tokio::time::timeout(
        Duration::from_secs(60),
        throughput::rendezvous(&hc, &direct, Duration::from_secs(1)),
    )
    .await
    .expect("the streams end after their duration")
    .expect("rendezvous runs");
    for outcome in [&report.relay, &report.direct] {
        assert!(outcome.messages > 0, "{report:?}");
        assert_eq!(outcome.messages, outcome.sent, "{report:?}");
        assert!(outcome.mb_per_s > 0.0, "{report:?}");
    }
    relay.stop().await;
}

#[tokio::test]
async fn memory_holds_every_request_until_released() {
    let config = FootprintConfig {
        mock_relay: e2e::bins::mock_relay(),
        listeners: 60,
        in_flight: 10,
        concurrency: 10,
    };
    let report = tokio::time::timeout(Duration::from_secs(120), footprint::run(&config))
        .await
        .expect("the memory run is bounded")
        .expect("the memory run against mock-relay");
    assert_eq!(report.entities, 3, "{report:?}");
    assert_eq!(report.delivered, 10, "{report:?}");
    assert_eq!(report.answered, 10, "{report:?}");
    assert_eq!(report.failed, 0, "{report:?}");
    assert!(
        report.listening_rss_mib > report.baseline_rss_mib,
        "{report:?}"
    );
}

#[tokio::test]
async fn the_watch_run_counts_its_pushes_and_samples_both_processes() {
    let config = WatchConfig {
        probe: e2e::bins::probe(),
        mock_relay: e2e::bins::mock_relay(),
        pairs: 2,
        pushes: 30,
        sample_every: Duration::from_millis(500),
        limit: Duration::from_secs(90),
    };
    let report = tokio::time::timeout(Duration::from_secs(150), watch::run(&config))
        .await
        .expect("the watch run is bounded")
        .expect("the watch run against mock-relay");
    assert!(!report.stopped_by_limit, "{report:?}");
    assert_eq!((report.relay_targets, report.hc_targets), (2, 2));
    assert!(report.pushes >= 30, "{report:?}");
    assert!(report.warm.pushes * 10 >= report.pushes && report.warm.pushes < report.pushes);
    // A loopback path without faults: every push delivered, the listeners never reopened.
    assert_eq!(report.delivered, report.pushes, "{report:?}");
    assert_eq!(report.reopens, 0, "{report:?}");
    assert_eq!(report.exit_code, Some(0), "{report:?}");
    for s in [report.warm, report.end] {
        assert!(s.rss_kib > 0 && s.fds > 0 && s.threads > 0, "{report:?}");
    }
    assert!(
        report.end.cpu_s > 0.0 && report.end.relay_cpu_s > 0.0,
        "{report:?}"
    );
    assert!(report.peak_rss_mib * 1024.0 >= report.end.rss_kib as f64 - 1.0);
}
