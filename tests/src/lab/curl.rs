//! Running `curl` in a lab site, always with `--max-time`, so a test cannot hang on it.

use super::site::Site;

/// What one curl run produced.
#[derive(Debug)]
pub struct CurlRun {
    /// curl's exit code (0 ok, 7 couldn't connect, 28 timed out, 56 CONNECT refused by proxy).
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `curl --silent --show-error --max-time MAX ARGS...` in `site`.
pub fn curl(site: &Site, max_time_s: u32, args: &[&str]) -> CurlRun {
    let out = site
        .command(super::tools::require("curl"))
        .args(["--silent", "--show-error", "--max-time"])
        .arg(max_time_s.to_string())
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run curl");
    CurlRun {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
