//! The human report of a failing segment reads like a diagnosis: the common cause right under
//! the header and again above the verdict with its next step, the checks skipped for one reason
//! on one line (one each with `-v`), nothing wrapped off a terminal; the JSON carries the same
//! diagnosis; a run that holds idle connections says how long at its start. Only loopback is
//! ever contacted: the DNS server asked is a closed local port.

use e2e::probe_cli::{assert_matches_schema, run};
use e2e::report_tools::closed_port;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// `probe run` against two names, asking a DNS server that is not there.
async fn no_dns(extra: &[&str]) -> e2e::probe_cli::ProbeRun {
    let dns = format!("127.0.0.1:{}", closed_port());
    let mut args = vec![
        "run",
        "--dns-server",
        &dns,
        "--target",
        "https://sspr-a.lab.test/",
        "--target",
        "https://sspr-b.lab.test/",
        "--quick",
        "--timeout",
        "2",
    ];
    args.extend_from_slice(extra);
    let run = run(&args, LIMIT).await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    run
}

#[tokio::test]
async fn no_dns_opens_and_closes_the_human_report_and_skips_fold() {
    let run = no_dns(&["--format", "human"]).await;
    let lines: Vec<&str> = run.stdout.lines().collect();
    let diagnosis = lines[1];
    assert!(
        diagnosis.starts_with("diagnosis: this machine resolves no public names; dns "),
        "{}",
        run.stdout
    );
    assert!(
        diagnosis.ends_with("on all 2 failed targets (sspr-a.lab.test, sspr-b.lab.test)"),
        "{diagnosis}"
    );
    let end = &lines[lines.len() - 3..];
    assert_eq!(end[0], diagnosis);
    assert!(
        end[1].starts_with("next step: check that the DNS servers"),
        "{}",
        run.stdout
    );
    assert_eq!(
        end[2],
        "verdict: FAIL (failed: sspr-a.lab.test, sspr-b.lab.test)"
    );
    // One line per reason, not one per check.
    let folded: Vec<&&str> = lines
        .iter()
        .filter(|l| l.ends_with(": not run, name resolution failed"))
        .collect();
    assert_eq!(folded.len(), 2, "{}", run.stdout);
    assert!(folded[0].starts_with("  tcp tls http"), "{}", run.stdout);
    assert!(!run.stdout.contains("skip skipped"), "{}", run.stdout);
    // Not a terminal: no line is wrapped (every line under a table row is a row of its own).
    assert!(
        !lines.iter().any(|l| l.starts_with("     ")),
        "{}",
        run.stdout
    );
}

#[tokio::test]
async fn verbose_lists_every_skipped_check() {
    let run = no_dns(&["--format", "human", "-v"]).await;
    assert!(
        run.stdout.matches("skip skipped").count() >= 6,
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains(": not run, "), "{}", run.stdout);
}

#[tokio::test]
async fn the_json_carries_the_diagnosis() {
    let run = no_dns(&["--format", "json"]).await;
    let json = run.json();
    assert_matches_schema(&json);
    let d = &json["diagnosis"];
    assert_eq!(d["phase"], "dns", "{json:#}");
    assert_eq!(
        d["targets"],
        serde_json::json!(["sspr-a.lab.test", "sspr-b.lab.test"])
    );
    assert_eq!(d["cause"], "this machine resolves no public names");
    assert!(
        d["next_step"].as_str().unwrap().contains("--proxy"),
        "{d:#}"
    );
}

#[tokio::test]
async fn refused_everywhere_is_one_cause_and_different_failures_none() {
    let a = format!("tcp://127.0.0.1:{}", closed_port());
    let b = format!("tcp://127.0.0.1:{}", closed_port());
    let run = run(
        &["run", "--target", &a, "--target", &b, "--format", "json"],
        LIMIT,
    )
    .await;
    let json = run.json();
    assert_eq!(json["diagnosis"]["phase"], "tcp", "{json:#}");
    assert_eq!(json["diagnosis"]["outcome"], "refused", "{json:#}");
    assert!(
        json["diagnosis"]["cause"]
            .as_str()
            .unwrap()
            .contains("are refused at once"),
        "{json:#}"
    );
    // A passing run has no diagnosis at all.
    let relay = mock_relay_free_target().await;
    let fine = e2e::probe_cli::run(&["run", "--target", &relay.0, "--format", "json"], LIMIT).await;
    assert_eq!(fine.code, 0, "{}", fine.stderr);
    assert!(fine.json().get("diagnosis").is_none(), "{}", fine.stdout);
}

/// A `tcp://` target that accepts: a listener on loopback (kept alive by the returned handle).
async fn mock_relay_free_target() -> (String, tokio::net::TcpListener) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    (format!("tcp://{}", l.local_addr().unwrap()), l)
}

/// A run that holds idle connections says so at its start (on a terminal; in the log at `-v`
/// anywhere), with the way to skip it; a `--quick` run says nothing of the kind.
#[tokio::test]
async fn a_run_with_the_idle_check_says_how_long_it_holds_connections() {
    let relay = e2e::relay::Relay::serve(&[]).await;
    let url = format!("relay://127.0.0.1:{}", relay.tls().port());
    let ca = relay.ca_file();
    let common = [
        "run",
        "--target",
        &url,
        "--ca-file",
        &ca,
        "--format",
        "json",
    ];
    let ladder = [
        "--idle",
        "1",
        "--idle-min",
        "1",
        "--idle-max",
        "2",
        "--idle-step",
        "1",
    ];
    let with = |extra: &[&'static str]| -> Vec<String> {
        common
            .iter()
            .map(|s| s.to_string())
            .chain(extra.iter().map(|s| s.to_string()))
            .collect()
    };
    let run_with = |args: Vec<String>| async move {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        run(&args, LIMIT).await
    };
    let long = run_with(with(&[&ladder[..], &["-v"]].concat())).await;
    assert_eq!(long.code, 0, "{}", long.stderr);
    assert!(
        long.stderr.contains(
            "this run holds idle connections open for up to 2s, so it takes a little over that"
        ),
        "{}",
        long.stderr
    );
    assert!(
        long.stderr.contains("--quick skips the idle check"),
        "{}",
        long.stderr
    );
    let quick = run_with(with(&["--quick", "-v"])).await;
    assert_eq!(quick.code, 0, "{}", quick.stderr);
    assert!(
        !quick.stderr.contains("holds idle connections"),
        "{}",
        quick.stderr
    );
    // Without -v and off a terminal, stderr carries no notice.
    let quiet = run_with(with(&ladder)).await;
    assert_eq!(quiet.code, 0, "{}", quiet.stderr);
    assert!(
        !quiet.stderr.contains("holds idle connections"),
        "{}",
        quiet.stderr
    );
}
