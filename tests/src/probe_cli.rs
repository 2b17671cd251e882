//! Running the real `probe` binary and reading its JSON report.

use std::process::Stdio;
use std::time::{Duration, Instant};

/// What one probe run produced.
#[derive(Debug)]
pub struct ProbeRun {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl ProbeRun {
    /// The JSON report on stdout.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "probe stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    /// The check named `check` of the first target.
    pub fn check(&self, check: &str) -> serde_json::Value {
        self.target_check(0, check)
    }

    pub fn target_check(&self, target: usize, check: &str) -> serde_json::Value {
        let json = self.json();
        json["targets"][target]["checks"]
            .as_array()
            .expect("checks array")
            .iter()
            .find(|c| c["check"] == check)
            .cloned()
            .unwrap_or_else(|| panic!("no {check} check in {json:#}"))
    }
}

/// Runs `probe ARGS...` and waits at most `limit` for it (then kills it and fails the test).
pub async fn run(args: &[&str], limit: Duration) -> ProbeRun {
    run_command(
        tokio::process::Command::new(crate::bins::probe()),
        args,
        limit,
    )
    .await
}

/// Runs `cmd ARGS...` (the probe, possibly wrapped, e.g. by `ip netns exec`) the same way.
pub async fn run_command(cmd: tokio::process::Command, args: &[&str], limit: Duration) -> ProbeRun {
    let started = Instant::now();
    let child = spawn_command(cmd, args);
    finish(child, started, limit)
        .await
        .unwrap_or_else(|| panic!("probe {args:?} did not finish within {limit:?}"))
}

/// Starts `cmd ARGS...` as [`run_command`] runs it: no colour, stdin closed, stdout and stderr
/// piped, killed on drop. For a probe the test stops itself (a watch, by a signal).
pub fn spawn_command(mut cmd: tokio::process::Command, args: &[&str]) -> tokio::process::Child {
    cmd.args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn probe")
}

/// Waits at most `limit` for `child` (from [`spawn_command`], started at `started`) and reads
/// what it printed; `None` when it did not end in time (it is killed when dropped).
pub async fn finish(
    child: tokio::process::Child,
    started: Instant,
    limit: Duration,
) -> Option<ProbeRun> {
    let output = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .ok()?
        .expect("probe output");
    Some(ProbeRun {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    })
}

pub fn assert_matches_schema(report: &serde_json::Value) {
    let schema_text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../probe/schema/result-v1.json"),
    )
    .expect("read schema");
    let schema: serde_json::Value = serde_json::from_str(&schema_text).expect("schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "report violates the schema: {errors:#?}\n{report:#}"
    );
}
