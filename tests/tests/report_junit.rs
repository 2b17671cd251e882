//! `--format junit` of real runs, read by a real JUnit consumer: Python's junitparser (Debian
//! package python3-junitparser), the library many CI plugins and report tools use.

use e2e::report_tools::{closed_port, require_junitparser, wait_bounded, Runs};
use std::process::{Command, Stdio};
use std::time::Duration;

/// What junitparser read: per suite, its name and counts, and per case (name, result kind,
/// failure/skip message, text).
const READER: &str = r#"
import json, sys
from junitparser import JUnitXml, Failure, Skipped, Error
xml = JUnitXml.fromfile(sys.argv[1])
out = []
for suite in xml:
    cases = []
    for case in suite:
        kind, message, text = "pass", None, None
        for r in case.result:
            kind = {Failure: "failure", Skipped: "skipped", Error: "error"}.get(type(r), "other")
            message, text = r.message, r.text
        cases.append({"name": case.name, "classname": case.classname, "time": case.time,
                      "kind": kind, "message": message, "text": text})
    props = {p.name: p.value for p in suite.properties()}
    out.append({"name": suite.name, "tests": suite.tests, "failures": suite.failures,
                "skipped": suite.skipped, "errors": suite.errors, "cases": cases, "properties": props})
print(json.dumps(out))
"#;

fn read_with_junitparser(python: &std::path::Path, file: &std::path::Path) -> serde_json::Value {
    let child = Command::new(python)
        .args(["-c", READER])
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    let out = wait_bounded(child, Duration::from_secs(30));
    assert!(
        out.status.success(),
        "junitparser could not read {}:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("reader prints JSON")
}

#[e2e::lab::needs(python3, junitparser)]
#[tokio::test]
async fn junitparser_reads_a_suite_per_target_with_failures_and_skips() {
    let Some(python) = require_junitparser() else {
        return;
    };
    let runs = Runs::new();
    let server = runs.https_server().await;
    let good = format!("https://localhost:{}/", server.port);
    let refused = format!("https://127.0.0.1:{}/", closed_port());
    let ca = runs.ca_file();
    // Characters XML must escape, in a label that reaches attributes.
    let segment = "lab <a> & \"b\"";
    let common = [
        "run",
        "--target",
        &good,
        "--target",
        &refused,
        "--ca-file",
        &ca,
        "--quick",
        "--timeout",
        "5",
        "--segment",
        segment,
    ];
    let junit = e2e::probe_cli::run(
        &[&common[..], &["--format", "junit"]].concat(),
        e2e::report_tools::LIMIT,
    )
    .await;
    assert_eq!(junit.code, 1, "{}\n{}", junit.stdout, junit.stderr);
    let file = runs.path("junit.xml");
    std::fs::write(&file, &junit.stdout).unwrap();
    let suites = read_with_junitparser(&python, &file);
    let suites = suites.as_array().expect("suites");
    assert_eq!(suites.len(), 2, "{suites:#?}");

    let ok = &suites[0];
    assert_eq!(ok["name"], "localhost");
    assert_eq!(ok["failures"].as_i64(), Some(0), "{ok:#}");
    let cases = ok["cases"].as_array().unwrap();
    let names: Vec<&str> = cases.iter().map(|c| c["name"].as_str().unwrap()).collect();
    for (i, want) in ["dns", "tcp", "tls", "http"].iter().enumerate() {
        assert_eq!(names.get(i), Some(want), "{names:?}");
    }
    // Every check that ran passed (a check that does not apply to a local server is skipped).
    assert!(
        cases
            .iter()
            .all(|c| c["kind"] == "pass" || c["kind"] == "skipped"),
        "{cases:#?}"
    );
    assert_eq!(
        cases.iter().filter(|c| c["kind"] == "skipped").count() as i64,
        ok["skipped"].as_i64().unwrap()
    );
    assert_eq!(ok["properties"]["segment"], segment);
    assert_eq!(ok["properties"]["url"], good.as_str());
    assert_eq!(
        ok["cases"][0]["classname"],
        format!("{segment}.localhost").as_str()
    );

    // The failure text is the check's message, exactly as the JSON report has it.
    let json = e2e::probe_cli::run(
        &[&common[..], &["--format", "json"]].concat(),
        e2e::report_tools::LIMIT,
    )
    .await;
    let tcp_message = json.target_check(1, "tcp")["message"]
        .as_str()
        .expect("tcp message")
        .to_string();
    let bad = &suites[1];
    assert_eq!(bad["name"], "127.0.0.1");
    assert_eq!(bad["failures"].as_i64(), Some(1), "{bad:#}");
    let case = |name: &str| {
        bad["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name} case in {bad:#}"))
            .clone()
    };
    let tcp = case("tcp");
    assert_eq!(tcp["kind"], "failure");
    assert_eq!(tcp["text"], tcp_message.as_str());
    assert_eq!(tcp["message"], tcp_message.as_str());
    let tls = case("tls");
    assert_eq!(tls["kind"], "skipped", "{tls:#}");
    assert!(bad["skipped"].as_i64().unwrap() >= 1);
}
