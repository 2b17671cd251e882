//! `probe report` on result files with absurd numbers (huge, tiny, negative, out of range):
//! every one renders or is refused with exit code 2, quickly, never a hang or a crash.

use e2e::probe_cli::run;
use e2e::report_tools::Runs;
use serde_json::{json, Value};
use std::time::Duration;

/// Far above what rendering any real result takes.
const QUICK: Duration = Duration::from_secs(10);

/// The idle object of a ladder whose every number is `n` (and `tiny` where a step goes).
fn idle_with(n: f64, tiny: f64) -> Value {
    json!({
        "required_s": n, "survived_s": n, "failed_s": n, "failure": "reset",
        "verdict": "fail", "step_s": tiny,
        "probes": [
            {"idle_s": n, "direction": "server_push", "outcome": "reset",
             "detected_after_s": n, "unprompted": true, "round": 1},
            {"idle_s": tiny, "direction": "client_send", "outcome": "survived",
             "detected_after_s": tiny, "unprompted": false, "round": 2}
        ],
        "control": {"interval_s": tiny, "outcome": "survived", "failed_after_s": n},
        "variants": [{"variant": "heartbeat", "interval_s": n, "idle_s": n,
                      "outcome": "survived", "detected_after_s": n, "error": null}],
        "advice": "absurd numbers"
    })
}

#[tokio::test]
async fn absurd_numbers_render_or_are_refused_quickly() {
    let runs = Runs::new();
    let server = runs.https_server().await;
    let url = format!("https://localhost:{}/", server.port);
    let real = runs.probe(&url, &["--format", "json"]).await;
    assert_eq!(real.code, 0, "{}", real.stderr);
    let base: Value = serde_json::from_str(&real.stdout).unwrap();

    let mut cases: Vec<(String, String)> = Vec::new();
    for (n, tiny) in [
        (1.7e308, 1e-300),
        (f64::MAX, f64::MIN_POSITIVE),
        (-1.7e308, -1e-300),
        (1e300, 0.0),
        (0.0, 0.0),
        (4e9, 1e-9),
    ] {
        let mut doc = base.clone();
        let target = &mut doc["targets"][0];
        target["idle"] = idle_with(n, tiny);
        for check in target["checks"].as_array_mut().unwrap() {
            check["duration_ms"] = json!(n);
        }
        for phase in ["resolve", "connect", "tls", "processing", "transfer"] {
            target["phases_ms"][phase] = json!(n);
        }
        cases.push((format!("{n:e}/{tiny:e}"), doc.to_string()));
    }
    // Numbers JSON can write but f64 cannot hold.
    let text = base.to_string();
    let at = text.find("\"duration_ms\":").expect("a duration") + "\"duration_ms\":".len();
    let end = at + text[at..].find([',', '}']).unwrap();
    cases.push((
        "1e999".into(),
        format!("{}1e999{}", &text[..at], &text[end..]),
    ));
    cases.push((
        "-1e999".into(),
        format!("{}-1e999{}", &text[..at], &text[end..]),
    ));

    for (name, doc) in cases {
        let file = runs.path("absurd.json");
        std::fs::write(&file, &doc).unwrap();
        for format in ["text", "html"] {
            let report = run(
                &["report", file.to_str().unwrap(), "--format", format],
                QUICK,
            )
            .await;
            assert!(
                report.code == 0 || report.code == 2,
                "{name} {format}: exit {}\n{}",
                report.code,
                report.stderr
            );
            assert!(
                !report.stderr.contains("panicked"),
                "{name} {format}: {}",
                report.stderr
            );
            if report.code == 2 {
                assert!(
                    report.stderr.contains("absurd.json"),
                    "{name}: {}",
                    report.stderr
                );
            }
            assert!(
                report.stdout.len() < 1024 * 1024,
                "{name} {format}: {} bytes of report",
                report.stdout.len()
            );
            eprintln!(
                "{name} {format}: exit {} in {:?}",
                report.code, report.elapsed
            );
        }
    }
}
