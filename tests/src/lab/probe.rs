//! Running the real `probe` binary inside a lab site and reading its report.

use super::site::Site;
use crate::probe_cli::{run_command, ProbeRun};
use std::time::Duration;

/// Runs `probe ARGS...` in `site`; kills it and fails the test if it takes longer than `limit`.
pub async fn run(site: &Site, args: &[&str], limit: Duration) -> ProbeRun {
    let cmd = tokio::process::Command::from(site.command(crate::bins::probe()));
    run_command(cmd, args, limit).await
}
