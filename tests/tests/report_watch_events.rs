//! `probe report` over `probe watch` event files from several segments: availability per
//! segment and day, the incident table, and in HTML a timeline per segment with the incidents
//! on it. One file comes from a real watch whose HTTPS target goes away mid-run.

use e2e::report_tools::Runs;
use std::time::Duration;

#[tokio::test]
async fn report_reads_event_files_of_many_segments() {
    // Built before the clock below starts.
    let _ = e2e::bins::probe();
    let runs = Runs::new();
    let server = runs.https_server().await;
    let url = format!("https://localhost:{}/", server.port);
    let ca = runs.ca_file();
    let lab = runs.path("lab.jsonl");
    let lab_s = lab.display().to_string();
    let watch = tokio::spawn(async move {
        e2e::probe_cli::run(
            &[
                "watch",
                "--target",
                &url,
                "--ca-file",
                &ca,
                "--timeout",
                "2",
                "--segment",
                "lab",
                "--push-every",
                "1s",
                "--for",
                "8s",
                "--events",
                &lab_s,
            ],
            Duration::from_secs(60),
        )
        .await
    });
    // Pushes get through, then the target goes away: the rest fail, an incident open at the stop.
    e2e::watch_events::wait_for_async(&lab, Duration::from_secs(30), e2e::watch_events::delivered)
        .await;
    drop(server);
    let run = watch.await.unwrap();
    assert_eq!(run.code, 1, "an incident: exit 1\n{}", run.stderr);

    // A second segment's file, as another watch would have written it, across two days.
    let other = runs.path("branch.jsonl");
    let line = |time: &str, body: &str| {
        format!(
            r#"{{"schema":"probe.watch-event/v1","time":"{time}","target":"relay.lab","url":"relay://relay.lab:8443","segment":"branch-7",{body}}}"#
        )
    };
    let push = |time: &str, outcome: &str| {
        line(
            time,
            &format!(r#""event":"push","seq":1,"outcome":"{outcome}","idle_s":300.0"#),
        )
    };
    std::fs::write(
        &other,
        [
            push("2026-12-05T23:00:00Z", "delivered"),
            push("2026-12-06T02:14:00Z", "silent_drop"),
            line("2026-12-06T02:26:00Z", r#""event":"incident","id":1,"cause":"silent_drop","start_after":"2026-12-05T23:00:00Z","start_before":"2026-12-06T02:14:00Z","end":"2026-12-06T02:26:00Z","duration_s":720.0,"duration_max_s":12360.0,"failed_pushes":1,"reopens":1,"writeback":"password resets pushed in this window fail""#),
            push("2026-12-06T02:26:00Z", "delivered"),
        ]
        .join("\n")
            + "\n",
    )
    .unwrap();

    let files = [lab.display().to_string(), other.display().to_string()];
    let text =
        e2e::probe_cli::run(&["report", &files[0], &files[1]], Duration::from_secs(30)).await;
    assert_eq!(text.code, 0, "{}", text.stderr);
    let out = &text.stdout;
    assert!(
        out.contains("pushes delivered per segment and day"),
        "{out}"
    );
    let lab_row = out
        .lines()
        .find(|l| l.starts_with("lab "))
        .expect("a row for lab");
    assert!(lab_row.contains(" % ("), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("branch-7")
            && l.contains("100 % (1/1)")
            && l.contains("50.0 % (1/2)")),
        "{out}"
    );
    assert!(out.contains("Incidents: 2"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("lab ") && l.contains("(open at the stop)")),
        "{out}"
    );
    assert!(
        out.lines().any(|l| l.starts_with("branch-7")
            && l.contains("silent_drop")
            && l.contains("12-206 min")),
        "{out}"
    );

    let html = e2e::probe_cli::run(
        &["report", "--format", "html", &files[0], &files[1]],
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(html.code, 0, "{}", html.stderr);
    let page = &html.stdout;
    assert_eq!(page.matches("<rect class=\"watched\"").count(), 2, "{page}");
    assert_eq!(
        page.matches("<rect class=\"incident\"").count(),
        2,
        "{page}"
    );
    assert!(
        page.contains("branch-7 relay.lab: incident 1 (silent_drop)"),
        "{page}"
    );
    assert!(page.contains("<title>lab localhost: incident 1"), "{page}");

    // A line that is not an event: one message naming the file and line, exit 2.
    std::fs::write(
        &other,
        format!("{}\nnot json\n", push("2026-12-06T00:00:00Z", "delivered")),
    )
    .unwrap();
    let bad = e2e::probe_cli::run(&["report", &files[1]], Duration::from_secs(30)).await;
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(
        bad.stderr
            .contains("branch.jsonl: line 2: not a probe.watch-event/v1 event"),
        "{}",
        bad.stderr
    );
}
