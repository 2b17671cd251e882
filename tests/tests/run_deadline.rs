//! A run is bounded: checks after a failed phase are skipped without opening new connections
//! (the relay's listener channel included), and the whole run has a deadline derived from the
//! plan (`--max-time` sets another); when it fires the run ends with a clear message.

use e2e::hostile::Hostile;
use e2e::probe_cli::run;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

#[tokio::test]
async fn after_a_failed_tls_phase_the_relay_channel_is_skipped_without_a_new_connection() {
    let silent = Hostile::silent().await;
    let url = format!("relay://127.0.0.1:{}", silent.port);
    let args = [
        "run",
        "--target",
        &url,
        "--quick",
        "--format",
        "json",
        "--timeout",
        "2",
    ];
    let run = run(&args, LIMIT).await;
    assert_eq!(run.check("tls")["outcome"], "timeout");
    for check in ["http", "websocket", "revocation"] {
        let c = run.check(check);
        assert_eq!(c["status"], "skip", "{c:#}");
        assert!(
            c["message"]
                .as_str()
                .unwrap()
                .contains("TLS handshake failed"),
            "{c:#}"
        );
    }
    assert_eq!(
        silent.seen.connections(),
        1,
        "a second connection was opened"
    );
    // One 2 s phase deadline; a new connection per skipped check would add 2 s each.
    assert!(
        run.elapsed < e2e::slack::late(Duration::from_secs(6)),
        "took {:?}",
        run.elapsed
    );
    assert_eq!(run.code, 1);
}

#[tokio::test]
async fn after_a_refused_connect_the_relay_channel_is_skipped() {
    let port = e2e::report_tools::closed_port();
    let url = format!("relay://127.0.0.1:{port}");
    let run = run(
        &["run", "--target", &url, "--quick", "--format", "json"],
        LIMIT,
    )
    .await;
    assert_eq!(run.check("tcp")["outcome"], "refused");
    let ws = run.check("websocket");
    assert_eq!(ws["status"], "skip", "{ws:#}");
    assert!(
        ws["message"]
            .as_str()
            .unwrap()
            .contains("TCP connect failed"),
        "{ws:#}"
    );
}

#[tokio::test]
async fn max_time_ends_the_run_with_a_clear_message() {
    let silent = Hostile::silent().await;
    let url = format!("https://127.0.0.1:{}/", silent.port);
    let args = [
        "run",
        "--target",
        &url,
        "--quick",
        "--format",
        "json",
        "--timeout",
        "30",
        "--max-time",
        "2",
    ];
    let run = run(&args, LIMIT).await;
    // The phase deadline is 30 s: well under it is the run deadline at work.
    assert!(
        run.elapsed < e2e::slack::late(Duration::from_secs(10)),
        "the run took {:?} with --max-time 2",
        run.elapsed
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let tls = run.check("tls");
    assert_eq!(tls["status"], "fail", "{tls:#}");
    assert_eq!(tls["outcome"], "timeout", "{tls:#}");
    assert!(
        tls["message"].as_str().unwrap().contains("run deadline"),
        "{tls:#}"
    );
    assert_eq!(run.check("http")["status"], "skip");
    assert!(run.stderr.contains("run deadline"), "{}", run.stderr);
    assert!(
        run.json()["notes"].to_string().contains("run deadline"),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn help_states_the_run_deadline() {
    let help = run(&["run", "--help"], LIMIT).await;
    assert_eq!(help.code, 0);
    let text = help.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(text.contains("--max-time"), "{}", help.stdout);
    assert!(
        text.contains("phases") && text.contains("longest idle period"),
        "the default deadline's derivation is stated:\n{}",
        help.stdout
    );
    let bad = run(&["run", "--max-time", "0"], LIMIT).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
}
