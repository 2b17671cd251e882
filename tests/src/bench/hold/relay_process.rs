//! The relay under measurement: a `mock-relay serve` child on a free loopback port, its log on a
//! file (not a pipe: a slow reader must not slow the relay), and its resident memory.

use mock_relay::announce::AddressLine;
use relay_protocol::connection_string::ConnectionString;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdout, Command};

/// How long the relay may take to print its address line.
const START_LIMIT: Duration = Duration::from_secs(30);

/// A running relay; killed when dropped.
pub struct RelayProcess {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    pub addr: SocketAddr,
    pub ca_pem: String,
    /// The Hybrid Connections connection string from the address line.
    pub connection_string: Option<ConnectionString>,
    _dir: tempfile::TempDir,
}

impl RelayProcess {
    /// Starts `binary serve --listen 127.0.0.1:0 ARGS`, logging at `RUST_LOG` (default `warn`:
    /// per-connection lines would measure the log pipe, not the relay).
    pub async fn start(binary: &Path, args: &[String]) -> Result<RelayProcess, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
        let ca = dir.path().join("ca.pem");
        let log = std::fs::File::create(dir.path().join("relay.log"))
            .map_err(|e| format!("relay log: {e}"))?;
        let level = std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into());
        let mut child = Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--ca-out"])
            .arg(&ca)
            .args(args)
            .env("RUST_LOG", level)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let stdout = child.stdout.take().ok_or("no stdout pipe")?;
        let mut stdout = BufReader::new(stdout);
        let mut line = String::new();
        match tokio::time::timeout(START_LIMIT, stdout.read_line(&mut line)).await {
            Ok(Ok(n)) if n > 0 => {}
            _ => {
                let log = std::fs::read_to_string(dir.path().join("relay.log")).unwrap_or_default();
                return Err(format!(
                    "mock-relay printed no address line; its log:\n{log}"
                ));
            }
        }
        let addrs: AddressLine = line
            .parse()
            .map_err(|e| format!("address line {line:?}: {e}"))?;
        let addr = *addrs.tls.first().ok_or("no tls= on the address line")?;
        let ca_pem = std::fs::read_to_string(&ca).map_err(|e| format!("{}: {e}", ca.display()))?;
        Ok(RelayProcess {
            child,
            _stdout: stdout,
            addr,
            ca_pem,
            connection_string: addrs.connection_string.clone(),
            _dir: dir,
        })
    }

    /// A Hybrid Connections client for this relay; `None` when it printed no connection string.
    pub fn hc(&self) -> Option<crate::hc::HcTarget> {
        Some(crate::hc::HcTarget {
            addr: self.addr,
            ca_pem: self.ca_pem.clone(),
            cs: self.connection_string.clone()?,
        })
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// The relay's resident memory in KiB now; `None` once it has exited.
    pub fn rss_kib(&self) -> Option<u64> {
        crate::proc::Memory::try_of(self.child.id()?).map(|m| m.rss_kib)
    }

    /// Ends the relay (SIGKILL: its shutdown is not what is measured) and waits, bounded.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}
