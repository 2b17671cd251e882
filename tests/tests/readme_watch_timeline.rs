//! README's `probe watch` timeline stays true: the picture committed in docs/watch is what the
//! current `probe report --format svg` draws from the committed event files of a real run
//! (docs/watch/record-example.sh), by the command README shows, byte for byte.

use e2e::probe_cli::run;
use std::path::{Path, PathBuf};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
const SEGMENTS: [&str; 2] = ["dmz-1", "branch-7"];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[tokio::test]
async fn the_readme_timeline_is_what_probe_report_draws_from_the_committed_events() {
    let docs = repo().join("docs/watch");
    let events: Vec<String> = SEGMENTS
        .iter()
        .map(|s| {
            docs.join(format!("example-{s}.jsonl"))
                .display()
                .to_string()
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let drawn_path = dir.path().join("timeline.svg").display().to_string();
    let mut args = vec!["report"];
    args.extend(events.iter().map(String::as_str));
    args.extend(["--format", "svg", "--output", &drawn_path]);
    let report = run(&args, LIMIT).await;
    assert_eq!(report.code, 0, "{}", report.stderr);
    let drawn = std::fs::read_to_string(&drawn_path).unwrap();
    let committed = std::fs::read_to_string(docs.join("example-timeline.svg")).unwrap();
    assert!(
        drawn == committed,
        "docs/watch/example-timeline.svg is not what `probe report --format svg` draws now: redraw it with the command in README's `probe watch` section\nnow:\n{drawn}"
    );

    // The picture shows what README says of it: a lane per segment, the three outages.
    assert_eq!(drawn.matches("<rect class=\"watched\"").count(), 2);
    assert_eq!(drawn.matches("<rect class=\"incident\"").count(), 3);
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let command = "probe report docs/watch/example-dmz-1.jsonl docs/watch/example-branch-7.jsonl --format svg --output docs/watch/example-timeline.svg";
    assert!(readme.contains(command), "README shows `{command}`");
    assert!(
        readme.contains("](docs/watch/example-timeline.svg)"),
        "README shows the picture"
    );
}

#[tokio::test]
async fn svg_without_an_event_file_says_what_it_needs() {
    let result = repo().join("probe/tests/properties/sample-run.json");
    let report = run(
        &["report", &result.display().to_string(), "--format", "svg"],
        LIMIT,
    )
    .await;
    assert_eq!(report.code, 2, "{}", report.stdout);
    assert!(
        report.stderr.contains("--format svg") && report.stderr.contains("event file"),
        "{}",
        report.stderr
    );
    assert!(report.stdout.is_empty(), "{}", report.stdout);
}
