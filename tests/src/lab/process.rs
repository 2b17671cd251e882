//! A lab child process: output to a log file, killed (with its process group) on drop, and
//! readiness waits bounded by a deadline.

use super::site::Site;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
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
    /// stale cleanup catches those on the next run). May be called from any thread.
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
        let shown = format!("{cmd:?}");
        let child =
            spawn_from_keeper(cmd).unwrap_or_else(|e| panic!("spawn {label} ({shown}): {e}"));
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

    /// Waits for the process to exit by itself (killing it after `limit`) and returns its
    /// output.
    pub fn wait_exit(&mut self, limit: Duration) -> String {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return self.log();
            }
            std::thread::sleep(POLL);
        }
        self.stop();
        format!("{}\n[killed after {} s]", self.log(), limit.as_secs())
    }

    /// Sends `signal` to the process itself (not its group).
    pub fn signal(&self, signal: i32) {
        // SAFETY: kill on the pid of a child this value owns and has not reaped.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }

    /// [`LabProcess::wait_exit`], with the exit code (`None`: killed by a signal, or after
    /// `limit`).
    pub fn wait_status(&mut self, limit: Duration) -> (Option<i32>, String) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return (status.code(), self.log());
            }
            std::thread::sleep(POLL);
        }
        self.stop();
        (
            None,
            format!("{}\n[killed after {} s]", self.log(), limit.as_secs()),
        )
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

/// Spawns `cmd` from one thread that lives as long as the test process.
///
/// The parent-death signal fires when the *thread* that forked the child ends, not the process;
/// spawning from a short-lived thread (a tokio blocking-pool thread, a scoped helper) would
/// kill the service mid-test.
fn spawn_from_keeper(cmd: Command) -> std::io::Result<Child> {
    type Job = (Command, mpsc::Sender<std::io::Result<Child>>);
    static KEEPER: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
    let keeper = KEEPER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("lab-spawner".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })
            .expect("start the lab spawner thread");
        Mutex::new(tx)
    });
    let (reply, answer) = mpsc::channel();
    keeper
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .send((cmd, reply))
        .expect("lab spawner thread alive");
    answer.recv().expect("lab spawner answers")
}

/// Whether a TCP connect to `addr` from inside `site` succeeds.
pub fn connects(site: &Site, addr: SocketAddr) -> bool {
    site.enter(|| TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok())
}
