//! `probe serve`: /metrics answers while a run is in progress and after it, /results has the
//! JSON document, and SIGTERM stops it cleanly.

use e2e::https_server::TestServer;
use e2e::probe_cli::assert_matches_schema;
use e2e::report_tools::{assert_promtool_accepts, http_get, require_tool, Runs};
use e2e::served::Served;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

const ANSWER: Duration = Duration::from_secs(5);

#[e2e::lab::needs(promtool)]
#[tokio::test]
async fn serve_answers_during_and_after_runs_and_stops_on_sigterm() {
    let promtool = require_tool("promtool", "prometheus");
    if promtool.is_none() {
        return;
    }
    let runs = Runs::new();
    // A server that accepts TCP and never answers the TLS handshake: every run lasts the
    // 2 s phase deadline, long enough to ask /metrics meanwhile.
    let silent = TestServer::silent().await;
    let url = format!("https://localhost:{}/", silent.port);
    let ca = runs.ca_file();
    let Served {
        mut child,
        addr,
        mut stderr,
        ..
    } = Served::start(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--interval",
        "1s",
        "--target",
        &url,
        "--ca-file",
        &ca,
        "--quick",
        "--timeout",
        "2",
        "--segment",
        "lab",
    ])
    .await;

    // During the first run: an answer without results.
    let first = http_get(&addr, "/metrics", ANSWER).await;
    assert_eq!(first.status, 200);
    assert!(
        first.content_type.starts_with("text/plain"),
        "{}",
        first.content_type
    );
    assert!(
        first
            .body
            .contains("# probe serve: the first run is in progress"),
        "{}",
        first.body
    );
    assert!(!first.body.contains("probe_success"), "{}", first.body);
    let results = http_get(&addr, "/results", ANSWER).await;
    assert_eq!(results.status, 503, "{}", results.body);

    // After the first run: its results, kept while the next run is in progress.
    let started = Instant::now();
    let after = loop {
        let r = http_get(&addr, "/metrics", ANSWER).await;
        if r.body.contains("probe_success") {
            break r;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no result after 30 s:\n{}",
            r.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        after
            .body
            .contains("probe_success{target=\"localhost\",segment=\"lab\"} 0"),
        "{}",
        after.body
    );
    assert_promtool_accepts(promtool.as_deref().unwrap(), &after.body);
    let started = Instant::now();
    let during = loop {
        let r = http_get(&addr, "/metrics", ANSWER).await;
        if r.body.contains("in progress") {
            break r;
        }
        assert!(started.elapsed() < Duration::from_secs(30), "{}", r.body);
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        during.body.contains("probe_success{target=\"localhost\""),
        "the previous result is served while a run is in progress:\n{}",
        during.body
    );
    let results = http_get(&addr, "/results", ANSWER).await;
    assert_eq!(results.status, 200);
    assert_eq!(results.content_type, "application/json");
    let json: serde_json::Value = serde_json::from_str(&results.body).expect("JSON");
    assert_matches_schema(&json);
    assert_eq!(json["segment"], "lab");
    assert_eq!(http_get(&addr, "/nope", ANSWER).await.status, 404);

    // SIGTERM: a clean exit, within a bounded time, even in the middle of a run.
    let pid = child.id().expect("pid") as i32;
    // SAFETY: kill(2) on our own child's pid with a valid signal number.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("probe serve exits within 10 s of SIGTERM")
        .unwrap();
    let mut rest = String::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stderr.read_to_string(&mut rest)).await;
    assert_eq!(status.code(), Some(0), "{rest}");
    assert!(rest.contains("SIGTERM: shutting down"), "{rest}");
    assert!(rest.contains("probe serve: stopped"), "{rest}");
    assert!(
        tokio::net::TcpStream::connect(&addr).await.is_err(),
        "the port is closed after shutdown"
    );
}

#[tokio::test]
async fn bad_serve_flags_are_usage_errors() {
    for args in [
        &["serve", "--listen", "127.0.0.1:0", "--interval", "soon"][..],
        &["serve", "--listen", "nowhere", "--interval", "5m"],
        &["serve", "--interval", "5m"],
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--interval",
            "5m",
            "--format",
            "json",
        ],
    ] {
        let r = e2e::probe_cli::run(args, Duration::from_secs(30)).await;
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
    }
}
