//! A lab child process: output to a log file, killed (with its process group) on drop, and
//! readiness waits bounded by a deadline.

use super::site::Site;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Interval between readiness attempts (each attempt is a connect or a file check).
const POLL: Duration = Duration::from_millis(50);

/// A running child. Dropping it kills its whole process group (the program and any helpers
/// it forked, e.g. Squid's auth helpers) and reaps it.
#[derive(Debug)]
pub struct LabProcess {
    label: String,
    site: Site,
    child: Child,
    log: PathBuf,
}

impl LabProcess {
    /// Starts `program args...` in `site`, stdout and stderr to `log_dir/<label>.log`.
    ///
    /// The child gets its own process group and `PR_SET_PDEATHSIG(SIGKILL)`, so it also dies
    /// when the test process dies (unless the program changes its user id, which clears that;
    /// stale cleanup catches those on the next run). Spawn from the thread that outlives the
    /// process (the test's thread): the parent-death signal fires when the spawning thread ends.
    pub fn spawn<S: AsRef<std::ffi::OsStr>>(
        site: &Site,
        label: &str,
        program: impl AsRef<std::ffi::OsStr>,
        args: &[S],
        log_dir: &Path,
    ) -> LabProcess {
        let mut cmd = site.command(program);
        cmd.args(args);
        Self::spawn_command(site, label, cmd, log_dir)
    }

    /// Starts a prepared command (already placed in `site`, see [`Site::command`]).
    pub fn spawn_command(site: &Site, label: &str, mut cmd: Command, log_dir: &Path) -> LabProcess {
        let log = log_dir.join(format!("{label}.log"));
        let out = std::fs::File::create(&log).expect("create process log");
        let err = out.try_clone().expect("clone log handle");
        cmd.stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0);
        // SAFETY: prctl is async-signal-safe and touches only the child.
        unsafe {
            cmd.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                Ok(())
            });
        }
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {label} ({cmd:?}): {e}"));
        LabProcess {
            label: label.to_string(),
            site: site.clone(),
            child,
            log,
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything the process wrote so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics (with the log) if the process has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited early ({status}); its output:\n{}",
                self.label,
                self.log()
            );
        }
    }

    /// Waits until `addr` accepts TCP connections from inside the process's site; panics with
    /// the log when the process exits or `limit` passes.
    pub fn wait_tcp(&mut self, addr: SocketAddr, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            self.assert_running();
            if connects(&self.site, addr) {
                return;
            }
            self.check_deadline(deadline, &format!("listening on {addr}"));
            std::thread::sleep(POLL);
        }
    }

    /// Waits until `path` exists and is not empty (e.g. a CA file the service writes).
    pub fn wait_file(&mut self, path: &Path, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            self.assert_running();
            if path.metadata().is_ok_and(|m| m.len() > 0) {
                return;
            }
            self.check_deadline(deadline, &format!("writing {}", path.display()));
            std::thread::sleep(POLL);
        }
    }

    /// Waits until the log contains `needle`.
    pub fn wait_log(&mut self, needle: &str, limit: Duration) {
        let deadline = Instant::now() + limit;
        loop {
            self.assert_running();
            if self.log().contains(needle) {
                return;
            }
            self.check_deadline(deadline, &format!("logging `{needle}`"));
            std::thread::sleep(POLL);
        }
    }

    fn check_deadline(&self, deadline: Instant, what: &str) {
        if Instant::now() > deadline {
            panic!(
                "{} not {what} in time; its output:\n{}",
                self.label,
                self.log()
            );
        }
    }

    /// Kills the process group and reaps the process.
    pub fn stop(&mut self) {
        let pid = self.child.id() as i32;
        // SAFETY: killpg on the group this child leads (process_group(0) above).
        unsafe { libc::killpg(pid, libc::SIGKILL) };
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for LabProcess {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether a TCP connect to `addr` from inside `site` succeeds.
pub fn connects(site: &Site, addr: SocketAddr) -> bool {
    site.enter(|| TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok())
}
