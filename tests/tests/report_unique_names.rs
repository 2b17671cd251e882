//! Two targets on one host (different ports, or the same port and different paths) get names
//! that tell them apart everywhere a name appears: `/metrics` and the textfile (a Prometheus
//! keeps one of two series with the same labels), JUnit, the JSON and human reports, and the
//! `probe report` matrix.

use e2e::report_tools::{assert_promtool_accepts, require_tool, Runs};
use std::collections::HashSet;
use std::time::Duration;

#[e2e::lab::needs(promtool)]
#[tokio::test]
async fn targets_on_one_host_have_unique_names_in_every_output() {
    let Some(promtool) = require_tool("promtool", "prometheus") else {
        return;
    };
    let runs = Runs::new();
    let (a, b) = (runs.https_server().await, runs.https_server().await);
    let urls = [
        format!("https://localhost:{}/", a.port),
        format!("https://localhost:{}/", b.port),
        format!("https://localhost:{}/health", b.port),
    ];
    let expected = [
        format!("localhost:{}", a.port),
        format!("localhost:{}", b.port),
        format!("localhost:{}/health", b.port),
    ];
    let ca = runs.ca_file();
    let json_file = runs.path("run.json");
    let textfile = runs.path("run.prom");
    let run = |format: &'static str, extra: Vec<String>| {
        let mut args: Vec<String> = vec!["run".into(), "--ca-file".into(), ca.clone()];
        for url in &urls {
            args.extend(["--target".into(), url.clone()]);
        }
        args.extend(
            [
                "--quick",
                "--timeout",
                "5",
                "--segment",
                "lab",
                "--format",
                format,
            ]
            .map(String::from),
        );
        args.extend(extra);
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let r = e2e::probe_cli::run(&args, Duration::from_secs(60)).await;
            assert_eq!(r.code, 0, "{format}: {}\n{}", r.stdout, r.stderr);
            r
        }
    };

    // JSON (to a file) and the textfile, from one run.
    run(
        "json",
        vec![
            "--output".into(),
            json_file.display().to_string(),
            "--prometheus-textfile".into(),
            textfile.display().to_string(),
        ],
    )
    .await;
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json_file).unwrap()).unwrap();
    let names: Vec<&str> = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, expected, "{json:#}");

    let metrics = std::fs::read_to_string(&textfile).unwrap();
    assert_promtool_accepts(&promtool, &metrics);
    let success: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("probe_success{"))
        .collect();
    assert_eq!(success.len(), 3, "{metrics}");
    for name in &expected {
        let series = format!("probe_success{{target=\"{name}\",segment=\"lab\"}} 1");
        assert!(success.contains(&series.as_str()), "{series}:\n{metrics}");
    }
    // No two samples of any family with the same labels.
    let samples: Vec<&str> = metrics
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit_once(' ').map(|(series, _)| series))
        .collect();
    assert_eq!(
        samples.iter().collect::<HashSet<_>>().len(),
        samples.len(),
        "{metrics}"
    );

    let junit = run("junit", vec![]).await.stdout;
    for name in &expected {
        assert_eq!(
            junit
                .matches(&format!("<testsuite name=\"{name}\""))
                .count(),
            1,
            "{name}:\n{junit}"
        );
    }

    let human = run("human", vec![]).await.stdout;
    for name in &expected {
        assert!(
            human.lines().any(|l| l.contains(name.as_str())),
            "{name}:\n{human}"
        );
    }

    let matrix = e2e::probe_cli::run(
        &["report", &json_file.display().to_string()],
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(matrix.code, 0, "{}", matrix.stderr);
    for name in &expected {
        assert_eq!(
            matrix
                .stdout
                .lines()
                .filter(|l| l.trim_start().starts_with(name.as_str())
                    && l[l.find(name.as_str()).unwrap() + name.len()..].starts_with(' '))
                .count(),
            1,
            "one matrix row for {name}:\n{}",
            matrix.stdout
        );
    }
}
