//! Server-controlled text never reaches a terminal raw: a real TLS server whose issuer name
//! carries ESC and OSC sequences (set the title, change colours, clear the screen) and C1
//! controls, and every report format of the probe (human, JSON, JUnit, Prometheus) and of
//! `probe report` (text, HTML) shows the printable part of the name and none of the controls.

use e2e::certs::{TestCa, Validity};
use e2e::https_server::{ServerOptions, TestServer};
use e2e::probe_cli::run;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
/// OSC 0 (window title), SGR (colours), ED (clear screen), a C1 CSI, BEL, DEL.
const HOSTILE_CN: &str = "evil\u{1b}]0;pwned\u{7}\u{1b}[31;1mCA\u{1b}[2J\u{9b}6n\u{7f}";

/// Whether `text` holds a control character a terminal acts on (C0 but for newline and tab,
/// DEL, C1), raw or as a JSON escape.
fn controls_in(text: &str) -> Vec<String> {
    let mut found: Vec<String> = text
        .chars()
        .filter(|c| c.is_control() && *c != '\n' && *c != '\t')
        .map(|c| format!("U+{:04X}", c as u32))
        .collect();
    for escape in [
        "\\u001b", "\\u001B", "\\u0007", "\\u009b", "\\u009B", "\\u007f",
    ] {
        if text.contains(escape) {
            found.push(escape.to_string());
        }
    }
    found
}

#[tokio::test]
async fn control_sequences_in_an_issuer_name_reach_no_report_format() {
    let ca = TestCa::new(HOSTILE_CN);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(dir.path(), "ca.pem").display().to_string();
    let server = TestServer::https(
        ca.leaf(&["localhost"], Validity::Current),
        ServerOptions::default(),
    )
    .await;
    let url = format!("https://localhost:{}/", server.port);
    let mut json = String::new();
    for format in ["human", "json", "junit", "prometheus"] {
        let args = [
            "run",
            "--target",
            &url,
            "--ca-file",
            &ca_file,
            "--quick",
            "--format",
            format,
            "--timeout",
            "5",
        ];
        let run = run(&args, LIMIT).await;
        assert_eq!(run.code, 0, "{format}: {}", run.stderr);
        assert_eq!(
            controls_in(&run.stdout),
            Vec::<String>::new(),
            "{format}:\n{}",
            run.stdout
        );
        assert_eq!(
            controls_in(&run.stderr),
            Vec::<String>::new(),
            "{format}:\n{}",
            run.stderr
        );
        if format == "human" {
            // The printable rest of the name is still shown.
            assert!(run.stdout.contains("evil]0;pwned"), "{}", run.stdout);
        }
        if format == "json" {
            json = run.stdout;
        }
    }
    let file = dir.path().join("run.json");
    std::fs::write(&file, &json).unwrap();
    for format in ["text", "html"] {
        let report = run(
            &["report", file.to_str().unwrap(), "--format", format],
            LIMIT,
        )
        .await;
        assert_eq!(report.code, 0, "{}", report.stderr);
        assert_eq!(
            controls_in(&report.stdout),
            Vec::<String>::new(),
            "{format}:\n{}",
            report.stdout
        );
    }
}

#[tokio::test]
async fn a_result_file_with_control_characters_is_cleaned_when_read_back() {
    let ca = TestCa::new("plain root");
    let dir = tempfile::tempdir().unwrap();
    let ca_file = ca.write(dir.path(), "ca.pem").display().to_string();
    let server = TestServer::https(
        ca.leaf(&["localhost"], Validity::Current),
        ServerOptions::default(),
    )
    .await;
    let url = format!("https://localhost:{}/", server.port);
    let args = [
        "run",
        "--target",
        &url,
        "--ca-file",
        &ca_file,
        "--quick",
        "--format",
        "json",
        "--timeout",
        "5",
    ];
    let run = run(&args, LIMIT).await;
    // A hostile (or damaged) file: every string of the first target gets control sequences.
    let mut doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    doc["segment"] = serde_json::Value::String(format!("seg{HOSTILE_CN}"));
    let target = &mut doc["targets"][0];
    target["name"] = serde_json::Value::String(format!("name{HOSTILE_CN}"));
    for check in target["checks"].as_array_mut().unwrap() {
        check["message"] = serde_json::Value::String(format!("message{HOSTILE_CN}"));
    }
    let file = dir.path().join("hostile.json");
    std::fs::write(&file, doc.to_string()).unwrap();
    for format in ["text", "html"] {
        let report = e2e::probe_cli::run(
            &["report", file.to_str().unwrap(), "--format", format],
            LIMIT,
        )
        .await;
        assert_eq!(report.code, 0, "{}", report.stderr);
        assert_eq!(
            controls_in(&report.stdout),
            Vec::<String>::new(),
            "{format}:\n{}",
            report.stdout
        );
        assert!(report.stdout.contains("nameevil"), "{}", report.stdout);
    }
}
