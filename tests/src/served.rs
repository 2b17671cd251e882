//! A served exporter as the tests start it: `probe serve` (or `probe watch --listen`) as a
//! child that is killed on drop, ready once it prints the address it listens on (stderr, a line
//! with `http://` or `https://`).

use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStderr, Command};

/// How long the child may take to print its address (a first start on a loaded machine).
const ADDRESS_LIMIT: Duration = Duration::from_secs(60);

/// A running exporter and where it listens.
pub struct Served {
    pub child: Child,
    /// `host:port`, as printed.
    pub addr: String,
    /// The line that named the address.
    pub line: String,
    /// The rest of the child's stderr, unread.
    pub stderr: BufReader<ChildStderr>,
}

impl Served {
    /// `probe ARGS` with stdin and stdout closed, stderr piped, no colour, killed on drop.
    pub fn command(args: &[&str]) -> Command {
        let mut cmd = Command::new(crate::bins::probe());
        cmd.args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Starts `probe ARGS` ([`Served::command`]) and waits for its address.
    pub async fn start(args: &[&str]) -> Served {
        Served::spawn(Served::command(args)).await
    }

    /// Spawns `cmd` (stderr piped) and reads its stderr, bounded, up to the line that names
    /// the address it listens on.
    pub async fn spawn(mut cmd: Command) -> Served {
        let mut child = cmd.spawn().expect("spawn probe");
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr piped"));
        let read = async {
            let mut seen = String::new();
            loop {
                let mut line = String::new();
                let n = stderr.read_line(&mut line).await.expect("read stderr");
                assert!(n > 0, "probe ended before printing its address:\n{seen}");
                if let Some(addr) = address(&line) {
                    return (addr, line);
                }
                seen.push_str(&line);
            }
        };
        let (addr, line) = tokio::time::timeout(ADDRESS_LIMIT, read)
            .await
            .expect("probe prints the address it listens on");
        Served {
            child,
            addr,
            line,
            stderr,
        }
    }

    /// Keeps reading the child's stderr in the background, so that it never blocks on it.
    pub fn drain_stderr(self) -> (Child, String) {
        let mut stderr = self.stderr;
        tokio::spawn(async move {
            let mut rest = String::new();
            let _ = stderr.read_to_string(&mut rest).await;
        });
        (self.child, self.addr)
    }
}

/// The `host:port` after `http://` or `https://` in `line`.
fn address(line: &str) -> Option<String> {
    let rest = line.split("://").nth(1)?;
    Some(rest.split_whitespace().next()?.to_string())
}
