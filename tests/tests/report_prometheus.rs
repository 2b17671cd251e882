//! `--format prometheus` and `--prometheus-textfile` of real runs, checked by `promtool check
//! metrics` (Debian package `prometheus`).

use e2e::report_tools::{assert_promtool_accepts, closed_port, require_tool, Runs};

/// The value of the one sample of `metric` whose labels contain every `label`.
fn sample(text: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next()?.parse().ok())
}

#[e2e::lab::needs(promtool)]
#[tokio::test]
async fn a_passing_https_run_exposes_success_phases_and_tls_facts() {
    let Some(promtool) = require_tool("promtool", "prometheus") else {
        return;
    };
    let runs = Runs::new();
    let server = runs.https_server().await;
    let url = format!("https://localhost:{}/", server.port);
    // A segment label with every character the exposition must escape.
    let run = runs
        .probe(
            &url,
            &["--segment", "lab \"a\"\\b", "--format", "prometheus"],
        )
        .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert_promtool_accepts(&promtool, &run.stdout);
    let text = &run.stdout;
    let base = ["target=\"localhost\"", "segment=\"lab \\\"a\\\"\\\\b\""];
    assert_eq!(sample(text, "probe_success", &base), Some(1.0), "{text}");
    for check in ["dns", "tcp", "tls", "http"] {
        let labels = [base[0], base[1], &format!("check=\"{check}\"")];
        assert_eq!(
            sample(text, "probe_check_success", &labels),
            Some(1.0),
            "{check}: {text}"
        );
    }
    for phase in ["resolve", "connect", "tls"] {
        let labels = [base[0], &format!("phase=\"{phase}\"")];
        let v = sample(text, "probe_phase_duration_seconds", &labels)
            .unwrap_or_else(|| panic!("no {phase} phase: {text}"));
        assert!((0.0..5.0).contains(&v), "{phase} {v}");
    }
    assert_eq!(
        sample(
            text,
            "probe_tls_version_info",
            &[base[0], "version=\"TLSv1.3\""]
        ),
        Some(1.0)
    );
    assert_eq!(sample(text, "probe_tls_intercepted", &base), Some(0.0));
    let not_after = sample(text, "probe_tls_cert_not_after_timestamp_seconds", &base)
        .expect("certificate expiry");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    // The test leaf is valid for 90 days.
    assert!(
        not_after > now + 80.0 * 86_400.0 && not_after < now + 100.0 * 86_400.0,
        "{not_after}"
    );
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(
            line.contains("target=\"") && line.contains("segment=\""),
            "{line}"
        );
    }
}

#[e2e::lab::needs(promtool)]
#[tokio::test]
async fn a_refused_target_is_probe_success_0_and_skipped_checks_are_absent() {
    let Some(promtool) = require_tool("promtool", "prometheus") else {
        return;
    };
    let runs = Runs::new();
    let url = format!("https://127.0.0.1:{}/", closed_port());
    let run = runs
        .probe(&url, &["--segment", "dmz", "--format", "prometheus"])
        .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_promtool_accepts(&promtool, &run.stdout);
    let text = &run.stdout;
    assert_eq!(
        sample(text, "probe_success", &["segment=\"dmz\""]),
        Some(0.0)
    );
    assert_eq!(
        sample(text, "probe_check_success", &["check=\"tcp\""]),
        Some(0.0)
    );
    assert_eq!(
        sample(text, "probe_check_success", &["check=\"tls\""]),
        None,
        "{text}"
    );
    assert!(!text.contains("probe_tls_version_info"), "{text}");
}

#[e2e::lab::needs(promtool)]
#[tokio::test]
async fn the_idle_ladder_is_exposed_and_the_textfile_is_written_atomically() {
    let Some(promtool) = require_tool("promtool", "prometheus") else {
        return;
    };
    let runs = Runs::new();
    let textfile_dir = runs.path("textfile");
    std::fs::create_dir(&textfile_dir).unwrap();
    let textfile = textfile_dir.join("probe.prom");
    // A stale file from an earlier run is replaced, not appended to.
    std::fs::write(&textfile, "stale\n").unwrap();
    let run = runs.idle_run("branch-7", "prometheus").await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert_promtool_accepts(&promtool, &run.stdout);
    let text = &run.stdout;
    let seg = ["segment=\"branch-7\""];
    assert_eq!(sample(text, "probe_idle_required_seconds", &seg), Some(3.0));
    assert_eq!(
        sample(text, "probe_idle_survived_seconds", &seg),
        Some(2.0),
        "{text}"
    );
    assert_eq!(sample(text, "probe_idle_failed_seconds", &seg), Some(3.0));
    assert_eq!(
        sample(text, "probe_check_success", &["check=\"idle\""]),
        Some(0.0)
    );

    // The same run shape written to the textfile collector's directory.
    let server_run = runs
        .idle_run_with(
            "branch-7",
            &[
                "--format",
                "json",
                "--prometheus-textfile",
                textfile.to_str().unwrap(),
            ],
        )
        .await;
    assert_eq!(server_run.code, 1, "{}", server_run.stderr);
    let written = std::fs::read_to_string(&textfile).unwrap();
    assert!(!written.contains("stale"), "{written}");
    assert_promtool_accepts(&promtool, &written);
    assert_eq!(
        sample(&written, "probe_idle_failed_seconds", &seg),
        Some(3.0)
    );
    let names: Vec<String> = std::fs::read_dir(&textfile_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["probe.prom"], "no temporary file is left behind");
    // stdout still carries the --format report.
    assert_eq!(server_run.json()["segment"], "branch-7");
}
