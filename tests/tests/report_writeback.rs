//! A one-shot run translates its idle bracket into what writeback's listener would see (the
//! model in `probe/src/writeback.rs` and the README): a JSON key in the target's `idle`, and a
//! line of the human report.

use e2e::probe_cli::assert_matches_schema;
use e2e::report_tools::Runs;

#[tokio::test]
async fn the_idle_bracket_is_translated_into_failing_password_resets() {
    let runs = Runs::new();
    // A server that closes connections idle for 2.5 s with a FIN: survived 2 s, closed at 3 s.
    let run = runs.idle_run("lab", "json").await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let json = run.json();
    assert_matches_schema(&json);
    let idle = &json["targets"][0]["idle"];
    assert_eq!(idle["failure"], "closed", "{idle:#}");
    let writeback = &idle["writeback"];
    // The FIN arrives at the cut: the listener reopens at once, and only resets pushed while
    // it reopens (1 s of every cut-and-reopen cycle of 3-4 s) fail.
    assert_eq!(writeback["detection"], "at_once", "{writeback:#}");
    assert_eq!(writeback["failing_pct_low"], 25.0, "{writeback:#}");
    assert_eq!(writeback["failing_pct_high"], 33.3, "{writeback:#}");
    let summary = writeback["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("with idle connections cut at 2-3 s by a close (FIN) sent at the cut, about 25-33 % of password resets would fail"),
        "{summary}"
    );

    let human = runs.idle_run("lab", "human").await;
    assert!(
        human.stdout.lines().any(|l| l
            .trim_start()
            .starts_with("writeback: with idle connections cut at 2-3 s")),
        "{}",
        human.stdout
    );
}
