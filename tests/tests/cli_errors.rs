//! Bad input gets one clear message naming the field, and exit code 2; never a panic.

use e2e::probe_cli::run;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn an_unknown_scenario_field_exits_2_naming_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "name = \"bad\"\n\n[[targets]]\nurl = \"https://a.example/\"\nexpect_statuss = [200]\n",
    )
    .unwrap();
    let path = path.display().to_string();
    for args in [vec!["run", &path, "--quick"], vec!["scenarios", &path]] {
        let run = run(&args, LIMIT).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        let line = run.stderr.trim();
        assert!(line.contains(&format!("{path}:5:")), "{line}");
        assert!(line.contains("expect_statuss"), "{line}");
        assert!(!line.contains("panicked"), "{line}");
        assert!(run.stdout.is_empty());
    }
}

#[tokio::test]
async fn an_invalid_target_url_in_a_scenario_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(
        &path,
        "name = \"bad\"\n[[targets]]\nurl = \"ftp://files.example/\"\n",
    )
    .unwrap();
    let run = run(&["scenarios", &path.display().to_string()], LIMIT).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains(":3:7: field `targets[0].url`"),
        "{}",
        run.stderr
    );
}

#[tokio::test]
async fn bad_flags_exit_2() {
    for args in [
        &["run", "--target", "gopher://x/"][..],
        &["run", "--timeout", "-1"],
        &["run", "--dns-server", "dns.example"],
        &[
            "run",
            "--ca-file",
            "/nonexistent/ca.pem",
            "--target",
            "tcp://127.0.0.1:9",
        ],
        &["run", "no-such-scenario"],
        &["frobnicate"],
    ] {
        let run = run(args, LIMIT).await;
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    }
}

#[tokio::test]
async fn scenarios_lists_the_builtin_default_and_validates_it() {
    let run = run(&["scenarios"], LIMIT).await;
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("password-writeback (default)"));
    assert!(run.stdout.contains("180 s"));
    let shipped = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../scenarios/password-writeback.toml"
    );
    let run = e2e::probe_cli::run(&["scenarios", shipped], LIMIT).await;
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[tokio::test]
async fn completions_and_man_page_are_generated() {
    let bash = run(&["completions", "bash"], LIMIT).await;
    assert_eq!(bash.code, 0);
    assert!(bash.stdout.contains("--dns-server"));
    let man = run(&["man"], LIMIT).await;
    assert_eq!(man.code, 0);
    assert!(
        man.stdout.contains(".TH probe"),
        "{}",
        &man.stdout[..200.min(man.stdout.len())]
    );
}
