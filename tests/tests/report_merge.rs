//! `probe report FILE...` as a text matrix, and its errors on bad input files.

use e2e::probe_cli::run;
use e2e::report_tools::{closed_port, Runs, LIMIT};

#[tokio::test]
async fn runs_from_two_segments_merge_into_one_matrix() {
    let runs = Runs::new();
    let server = runs.https_server().await;
    let good = format!("https://localhost:{}/", server.port);
    let a = runs
        .probe(&good, &["--segment", "hq", "--format", "json"])
        .await;
    assert_eq!(a.code, 0, "{}", a.stderr);
    // The same target name, unreachable from the second segment.
    let refused = format!("https://localhost:{}/", closed_port());
    let b = runs
        .probe(&refused, &["--segment", "branch", "--format", "json"])
        .await;
    assert_eq!(b.code, 1, "{}", b.stderr);
    let (fa, fb) = (runs.path("hq.json"), runs.path("branch.json"));
    std::fs::write(&fa, &a.stdout).unwrap();
    std::fs::write(&fb, &b.stdout).unwrap();

    let report = run(
        &["report", fa.to_str().unwrap(), fb.to_str().unwrap()],
        LIMIT,
    )
    .await;
    assert_eq!(report.code, 0, "{}", report.stderr);
    let lines: Vec<&str> = report.stdout.lines().collect();
    assert!(
        lines[0].starts_with("target") && lines[0].contains("hq") && lines[0].contains("branch"),
        "{}",
        report.stdout
    );
    let row = lines
        .iter()
        .find(|l| l.starts_with("localhost"))
        .unwrap_or_else(|| panic!("no localhost row:\n{}", report.stdout));
    let hq = row.find("PASS").expect("hq cell");
    let branch = row.find("FAIL tcp refused").expect("branch cell");
    assert!(hq < branch, "{row}");

    // --output writes the same table to a file.
    let out = runs.path("matrix.txt");
    let written = run(
        &[
            "report",
            fa.to_str().unwrap(),
            fb.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
        ],
        LIMIT,
    )
    .await;
    assert_eq!(written.code, 0);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), report.stdout);
}

#[tokio::test]
async fn the_idle_bracket_appears_in_the_cell() {
    let runs = Runs::new();
    let idle = runs.idle_run("branch-7", "json").await;
    let file = runs.path("idle.json");
    std::fs::write(&file, &idle.stdout).unwrap();
    let report = run(&["report", file.to_str().unwrap()], LIMIT).await;
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert!(
        report.stdout.contains("FAIL idle 2-3 s"),
        "{}",
        report.stdout
    );
}

#[tokio::test]
async fn a_bad_file_is_named_with_its_line_and_column_and_exits_2() {
    let runs = Runs::new();
    let good = runs
        .probe(
            &format!("tcp://127.0.0.1:{}", closed_port()),
            &["--format", "json"],
        )
        .await;
    let ok = runs.path("ok.json");
    std::fs::write(&ok, &good.stdout).unwrap();

    let truncated = runs.path("truncated.json");
    std::fs::write(&truncated, &good.stdout[..good.stdout.len() / 2]).unwrap();
    let wrong = runs.path("wrong.json");
    std::fs::write(
        &wrong,
        "{\n  \"schema\": \"probe.result/v1\",\n  \"verdict\": \"maybe\"\n}\n",
    )
    .unwrap();
    let missing = runs.path("missing.json");

    for (file, expect) in [
        (&truncated, "line "),
        (&wrong, "line 3 column"),
        (&missing, "cannot read"),
    ] {
        let r = run(
            &["report", ok.to_str().unwrap(), file.to_str().unwrap()],
            LIMIT,
        )
        .await;
        assert_eq!(r.code, 2, "{}: {}", file.display(), r.stderr);
        assert!(r.stdout.is_empty(), "{}", r.stdout);
        let line = r.stderr.trim();
        assert!(
            line.starts_with(&format!("error: {}", file.display())) && line.contains(expect),
            "{line}"
        );
        assert_eq!(line.lines().count(), 1, "one clear message: {line}");
    }
}
