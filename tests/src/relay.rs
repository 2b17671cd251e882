//! Running the real `mock-relay` binary: start it on free loopback ports, wait for its
//! address line (never a sleep), keep its log lines, stop it with a signal or on drop.

use mock_relay::announce::AddressLine;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

/// How long a start may take before the test fails (the binary prints its line in well under
/// a second; the margin is for a loaded CI machine).
const START_LIMIT: Duration = Duration::from_secs(30);
/// Log text kept per process.
const LOG_CAP: usize = 8 * 1024 * 1024;

/// A running `mock-relay` (serve or middlebox); killed when dropped.
pub struct Relay {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    /// What the address line said.
    pub addrs: AddressLine,
    logs: Arc<Mutex<String>>,
    dir: tempfile::TempDir,
}

impl Relay {
    /// `mock-relay serve ARGS` with `--listen 127.0.0.1:0` (unless ARGS has a `--listen`) and
    /// `--ca-out` in a fresh temporary directory.
    pub async fn serve(args: &[&str]) -> Relay {
        Relay::serve_via(Command::new(crate::bins::mock_relay()), args).await
    }

    /// [`Relay::serve`] with the `mock-relay` binary at `binary` (a release build, say).
    pub async fn serve_binary(binary: &Path, args: &[&str]) -> Relay {
        Relay::serve_via(Command::new(binary), args).await
    }

    /// [`Relay::serve`] with another way to start the program, e.g. `mock-relay.exe` under Wine.
    pub async fn serve_via(program: Command, args: &[&str]) -> Relay {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut full: Vec<String> = vec!["serve".into()];
        if !args.contains(&"--listen") {
            full.extend(["--listen".into(), "127.0.0.1:0".into()]);
        }
        if !args.contains(&"--ca-out") && !args.contains(&"--cert") {
            full.extend([
                "--ca-out".into(),
                dir.path().join("ca.pem").display().to_string(),
            ]);
        }
        full.extend(args.iter().map(|s| s.to_string()));
        Relay::spawn(program, full, dir).await
    }

    /// `mock-relay middlebox --listen 127.0.0.1:0 --upstream UPSTREAM ARGS`.
    pub async fn middlebox(upstream: SocketAddr, args: &[&str]) -> Relay {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut full: Vec<String> = ["middlebox", "--listen", "127.0.0.1:0", "--upstream"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        full.push(upstream.to_string());
        full.extend(args.iter().map(|s| s.to_string()));
        Relay::spawn(Command::new(crate::bins::mock_relay()), full, dir).await
    }

    async fn spawn(mut program: Command, args: Vec<String>, dir: tempfile::TempDir) -> Relay {
        let mut child = program
            .args(&args)
            .current_dir(dir.path())
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn mock-relay");
        let logs = Arc::new(Mutex::new(String::new()));
        let stderr = child.stderr.take().expect("stderr piped");
        let sink = logs.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut logs = sink.lock().expect("logs");
                if logs.len() < LOG_CAP {
                    logs.push_str(&line);
                    logs.push('\n');
                }
            }
        });
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout piped"));
        let mut line = String::new();
        let read = tokio::time::timeout(START_LIMIT, stdout.read_line(&mut line)).await;
        if !matches!(read, Ok(Ok(n)) if n > 0) {
            // Give the stderr reader a moment to collect the reason, bounded.
            let _ = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
            panic!(
                "mock-relay {args:?} printed no address line ({read:?}); stderr:\n{}",
                logs.lock().expect("logs")
            );
        }
        let addrs: AddressLine = line
            .parse()
            .unwrap_or_else(|e| panic!("mock-relay {args:?}: {e}"));
        Relay {
            child,
            _stdout: stdout,
            addrs,
            logs,
            dir,
        }
    }

    /// The process id (while it runs).
    pub fn pid(&self) -> u32 {
        self.child.id().expect("mock-relay is running")
    }

    /// The process's memory now, from `/proc`.
    pub fn memory(&self) -> crate::proc::Memory {
        crate::proc::Memory::of(self.pid())
    }

    /// The first TLS address.
    pub fn tls(&self) -> SocketAddr {
        *self.addrs.tls.first().expect("a TLS listener")
    }

    /// The first plain TCP address.
    pub fn plain(&self) -> SocketAddr {
        *self.addrs.plain.first().expect("a plain listener")
    }

    /// The middlebox's listening address.
    pub fn middlebox_addr(&self) -> SocketAddr {
        self.addrs.middlebox.expect("a middlebox")
    }

    /// The Hybrid Connections connection string from the address line (`Display` hides the
    /// key; `expose()` gives it whole).
    pub fn connection_string(&self) -> relay_protocol::connection_string::ConnectionString {
        self.addrs
            .connection_string
            .clone()
            .expect("a connection-string= on the address line")
    }

    /// A Hybrid Connections client for this relay's first TLS listener.
    pub fn hc(&self) -> crate::hc::HcTarget {
        crate::hc::HcTarget {
            addr: self.tls(),
            ca_pem: self.ca_pem(),
            cs: self.connection_string(),
        }
    }

    /// The CA the relay wrote (the path from its address line), as PEM.
    pub fn ca_pem(&self) -> String {
        let path = self.addrs.ca_file.as_ref().expect("a ca= path");
        std::fs::read_to_string(self.dir.path().join(path)).expect("read the CA file")
    }

    /// Writes the relay's CA to a file for `probe --ca-file` and returns its path.
    pub fn ca_file(&self) -> String {
        let path = self.path("probe-ca.pem");
        std::fs::write(&path, self.ca_pem()).expect("write the CA file");
        path.display().to_string()
    }

    /// The process's working directory (where relative output paths land).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Everything logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().expect("logs").clone()
    }

    /// Waits (bounded) until a log line contains every one of `needles`; returns that line.
    pub async fn wait_for_log(&self, needles: &[&str], limit: Duration) -> String {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(line) = self
                .logs()
                .lines()
                .find(|l| needles.iter().all(|n| l.contains(n)))
            {
                return line.to_string();
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "no log line with {needles:?} within {limit:?}; logs:\n{}",
                    self.logs()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sends SIGTERM and waits (bounded) for the exit.
    pub async fn terminate(mut self, limit: Duration) -> ExitStatus {
        if let Some(pid) = self.child.id() {
            // SAFETY: kill(2) with a pid of our own child and a valid signal number.
            unsafe {
                libc::kill(pid as libc::pid_t, libc::SIGTERM);
            }
        }
        tokio::time::timeout(limit, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("mock-relay did not exit within {limit:?} of SIGTERM"))
            .expect("wait for mock-relay")
    }
}

/// Runs `mock-relay ARGS` to its exit (for bad-input tests): (exit code, stdout, stderr).
pub async fn run_to_exit(args: &[&str], limit: Duration) -> (i32, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let child = Command::new(crate::bins::mock_relay())
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn mock-relay");
    let out = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("mock-relay {args:?} did not exit within {limit:?}"))
        .expect("mock-relay output");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
