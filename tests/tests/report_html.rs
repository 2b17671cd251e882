//! `probe report --format html` of real runs, rendered by headless Chromium (Debian package
//! `chromium`): the rendered DOM has the matrix and one idle-ladder chart per run.

use e2e::probe_cli::run;
use e2e::report_tools::{chromium_dom, closed_port, require_tool, Runs, LIMIT};

#[e2e::lab::needs(chromium)]
#[tokio::test]
async fn the_html_report_renders_the_matrix_and_a_chart_per_run() {
    let Some(chromium) = require_tool("chromium", "chromium") else {
        return;
    };
    let runs = Runs::new();
    let server = runs.https_server().await;
    let good = format!("https://localhost:{}/", server.port);
    let refused = format!("https://localhost:{}/", closed_port());
    let mut files = Vec::new();
    for (name, run) in [
        (
            "hq",
            runs.probe(&good, &["--segment", "hq", "--format", "json"])
                .await,
        ),
        (
            "branch",
            runs.probe(&refused, &["--segment", "branch", "--format", "json"])
                .await,
        ),
        ("idle", runs.idle_run("branch-7", "json").await),
    ] {
        assert!(run.code == 0 || run.code == 1, "{name}: {}", run.stderr);
        let file = runs.path(&format!("{name}.json"));
        std::fs::write(&file, &run.stdout).unwrap();
        files.push(file.display().to_string());
    }
    let html = runs.path("report.html");
    let mut args = vec!["report", "--format", "html", "--output"];
    let html_arg = html.display().to_string();
    args.push(&html_arg);
    args.extend(files.iter().map(String::as_str));
    let report = run(&args, LIMIT).await;
    assert_eq!(report.code, 0, "{}", report.stderr);

    let source = std::fs::read_to_string(&html).unwrap();
    for external in [
        "src=\"http",
        "href=\"http",
        "<script",
        "<link",
        "@import",
        "url(",
    ] {
        assert!(
            !source.contains(external),
            "self-contained: found {external}"
        );
    }

    let dom = chromium_dom(&chromium, &html);
    assert!(dom.contains("<table id=\"matrix\""), "no matrix in the DOM");
    let matrix = &dom[dom.find("<table id=\"matrix\"").unwrap()..];
    let matrix = &matrix[..matrix.find("</table>").unwrap()];
    for column in ["hq", "branch", "branch-7"] {
        assert!(matrix.contains(&format!("<th>{column}</th>")), "{matrix}");
    }
    assert!(matrix.contains("localhost"), "{matrix}");
    assert!(matrix.contains("FAIL</span></a> tcp refused"), "{matrix}");
    assert!(matrix.contains("idle 2-3 s"), "{matrix}");

    let charts = dom.matches("<svg class=\"idle-ladder\"").count();
    assert_eq!(charts, 3, "one idle-ladder chart per run");
    assert_eq!(dom.matches("<svg class=\"phase-timings\"").count(), 3);
    // The idle run's chart: a mark per probe, coloured by outcome, and the threshold.
    assert!(dom.contains("class=\"probe survived\""), "survived marks");
    assert!(dom.contains("class=\"probe closed\""), "closed marks");
    assert!(dom.contains("class=\"threshold\""), "threshold line");
}
