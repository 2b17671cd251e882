//! Running the real `probe` binary inside a lab site and reading its report.

use super::site::Site;
use crate::probe_cli::ProbeRun;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Runs `probe ARGS...` in `site`; kills it and fails the test if it takes longer than `limit`.
pub async fn run(site: &Site, args: &[&str], limit: Duration) -> ProbeRun {
    let started = Instant::now();
    let mut cmd = tokio::process::Command::from(site.command(crate::bins::probe()));
    let child = cmd
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn probe");
    let output = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("probe {args:?} in {site:?} did not finish within {limit:?}"))
        .expect("probe output");
    ProbeRun {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        elapsed: started.elapsed(),
    }
}
