//! Running the real `probe` binary while measuring what it costs: its peak resident memory as
//! the kernel counts it (`ru_maxrss` of the reaped child, read with `wait4`, so no sample is
//! missed) and its wall time.

use crate::probe_cli::ProbeRun;
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A finished run and its peak memory.
#[derive(Debug)]
pub struct Measured {
    pub run: ProbeRun,
    /// Peak resident set size of the probe process, in KiB.
    pub peak_rss_kib: u64,
}

impl Measured {
    pub fn peak_rss_mib(&self) -> f64 {
        self.peak_rss_kib as f64 / 1024.0
    }
}

/// Runs `probe ARGS...` with `envs` added to its environment, for at most `limit` (then kills
/// it and fails the test). Blocking work runs off the async runtime, so servers of the same
/// test keep serving meanwhile.
pub async fn run_measured(args: &[&str], envs: &[(&str, &str)], limit: Duration) -> Measured {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let envs: Vec<(String, String)> = envs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    tokio::task::spawn_blocking(move || run_blocking(&args, &envs, limit))
        .await
        .expect("measuring thread")
}

// The child is reaped by `wait4` (which is what yields its peak memory), not `Child::wait`.
#[expect(
    clippy::zombie_processes,
    reason = "reaped by wait4, which yields the peak memory"
)]
fn run_blocking(args: &[String], envs: &[(String, String)], limit: Duration) -> Measured {
    let started = Instant::now();
    let mut child = Command::new(crate::bins::probe())
        .args(args)
        .env("NO_COLOR", "1")
        .envs(envs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn probe");
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let stdout = reader(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = reader(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let pid = child.id() as libc::pid_t;
    let (code, peak_rss_kib) = loop {
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // SAFETY: wait4 on our own child's pid, with valid pointers to locals.
        let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        if reaped == pid {
            let code = if libc::WIFEXITED(status) {
                libc::WEXITSTATUS(status)
            } else {
                -1
            };
            // Linux reports ru_maxrss in KiB.
            break (code, usage.ru_maxrss.max(0) as u64);
        }
        assert!(
            reaped == 0,
            "wait4 failed: {}",
            std::io::Error::last_os_error()
        );
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("probe {args:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let elapsed = started.elapsed();
    Measured {
        run: ProbeRun {
            code,
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
            elapsed,
        },
        peak_rss_kib,
    }
}
