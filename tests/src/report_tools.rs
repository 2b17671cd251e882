//! Helpers for the reporting tests (`report_*.rs`): real probe runs against real local peers,
//! the external consumers (promtool, Python's junitparser, headless Chromium), and a tiny HTTP
//! client for `probe serve`.

use crate::certs::{TestCa, Validity};
use crate::https_server::{ServerOptions, TestServer};
use crate::probe_cli::{run, ProbeRun};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const LIMIT: Duration = Duration::from_secs(60);

/// The external program `name` (found as the lab's tools are), or None. Missing, it fails
/// the test under `CI=true` and skips it elsewhere ([`crate::lab::skip::unavailable`]).
pub fn require_tool(name: &str, apt: &str) -> Option<PathBuf> {
    let found = crate::lab::tools::find(name);
    if found.is_none() {
        let why = format!("`{name}` not installed (apt: {apt}; tests/setup-lab.sh installs it)");
        crate::lab::skip::unavailable(&why);
    }
    found
}

/// Debian's Python with the junitparser module (package python3-junitparser), or None as
/// [`require_tool`] decides.
pub fn require_junitparser() -> Option<PathBuf> {
    let python = require_tool("python3", "python3")?;
    // Prefer the system interpreter: python3-junitparser installs into it, not into a
    // pyenv or virtualenv that may come first on PATH.
    for candidate in [PathBuf::from("/usr/bin/python3"), python] {
        let ok = Command::new(&candidate)
            .args(["-c", "import junitparser"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(candidate);
        }
    }
    let why = "python module junitparser not installed (apt: python3-junitparser)";
    crate::lab::skip::unavailable(why);
    None
}

/// Runs `promtool check metrics` on `text`; panics with promtool's complaint when it refuses.
pub fn assert_promtool_accepts(promtool: &Path, text: &str) {
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn promtool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all_sync(text.as_bytes());
    let out = wait_bounded(child, Duration::from_secs(30));
    assert!(
        out.status.success(),
        "promtool check metrics refused the exposition:\n{}{}\n--- exposition ---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

trait WriteAllSync {
    fn write_all_sync(self, bytes: &[u8]);
}

impl WriteAllSync for std::process::ChildStdin {
    fn write_all_sync(mut self, bytes: &[u8]) {
        use std::io::Write;
        self.write_all(bytes).expect("write to child stdin");
    }
}

/// Waits for a child at most `limit` (reading its output meanwhile, so a full pipe never
/// blocks it), then kills it and fails the test.
pub fn wait_bounded(mut child: std::process::Child, limit: Duration) -> std::process::Output {
    use std::io::Read;
    // A channel rather than join(): a grandchild (Chromium's helpers) may hold the pipe open
    // after the child exits, and the wait must stay bounded.
    let reader = |pipe: Option<Box<dyn Read + Send>>| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            let _ = tx.send(buf);
        });
        rx
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
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("child process did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    std::process::Output {
        status,
        stdout: stdout
            .recv_timeout(Duration::from_secs(10))
            .expect("the child's stdout closes"),
        stderr: stderr
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_default(),
    }
}

/// A CA, a temporary directory for files, and the peers of one test.
pub struct Runs {
    pub ca: TestCa,
    pub dir: tempfile::TempDir,
}

impl Default for Runs {
    fn default() -> Self {
        Runs::new()
    }
}

impl Runs {
    pub fn new() -> Runs {
        Runs {
            ca: TestCa::new("probe report e2e root"),
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn ca_file(&self) -> String {
        self.ca
            .write(self.dir.path(), "ca.pem")
            .display()
            .to_string()
    }

    /// A valid HTTPS server for `localhost` (stops when dropped).
    pub async fn https_server(&self) -> TestServer {
        TestServer::https(
            self.ca.leaf(&["localhost"], Validity::Current),
            ServerOptions::default(),
        )
        .await
    }

    /// `probe run --target URL --quick --ca-file ... EXTRA...`.
    pub async fn probe(&self, url: &str, extra: &[&str]) -> ProbeRun {
        let ca = self.ca_file();
        let mut args = vec![
            "run",
            "--target",
            url,
            "--ca-file",
            &ca,
            "--quick",
            "--timeout",
            "5",
        ];
        args.extend_from_slice(extra);
        run(&args, LIMIT).await
    }

    /// A real run with an idle ladder (1..=4 s, 3 s required) against a keep-alive HTTPS
    /// server that closes connections idle for 2.5 s: survives 1 and 2 s, closed at 3 and 4 s.
    pub async fn idle_run(&self, segment: &str, format: &str) -> ProbeRun {
        self.idle_run_with(segment, &["--format", format]).await
    }

    /// [`Runs::idle_run`] with other flags instead of `--format`.
    pub async fn idle_run_with(&self, segment: &str, extra: &[&str]) -> ProbeRun {
        let server = IdleClosingServer::start(&self.ca, Duration::from_millis(2500)).await;
        let url = format!("https://localhost:{}/", server.port);
        let ca = self.ca_file();
        let args = [
            "run",
            "--target",
            &url,
            "--ca-file",
            &ca,
            "--timeout",
            "5",
            "--idle",
            "3",
            "--idle-min",
            "1",
            "--idle-max",
            "4",
            "--idle-step",
            "1",
            "--segment",
            segment,
        ];
        let mut args = args.to_vec();
        args.extend_from_slice(extra);
        run(&args, LIMIT).await
    }
}

/// A TCP port on 127.0.0.1 where nothing listens (bound, then released).
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// A keep-alive HTTPS server that closes a connection (FIN) once it has been idle for
/// `idle_timeout`, as a proxy or load balancer with an idle timer does.
pub struct IdleClosingServer {
    pub port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for IdleClosingServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl IdleClosingServer {
    pub async fn start(ca: &TestCa, idle_timeout: Duration) -> IdleClosingServer {
        Self::serve(ca, idle_timeout, false).await
    }

    /// As [`IdleClosingServer::start`], saying so in every answer (`Keep-Alive: timeout=N`,
    /// in whole seconds), as Apache and IIS do.
    pub async fn announcing(ca: &TestCa, idle_timeout: Duration) -> IdleClosingServer {
        Self::serve(ca, idle_timeout, true).await
    }

    async fn serve(ca: &TestCa, idle_timeout: Duration, announce: bool) -> IdleClosingServer {
        let keep_alive = if announce {
            format!("Keep-Alive: timeout={}\r\n", idle_timeout.as_secs())
        } else {
            String::new()
        };
        let leaf = ca.leaf(&["localhost"], Validity::Current);
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_no_client_auth()
        .with_single_cert(leaf.chain, leaf.key)
        .expect("server cert");
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let keep_alive = keep_alive.clone();
                conns.spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let mut request = Vec::new();
                    let mut buf = [0u8; 4096];
                    loop {
                        let n = match tokio::time::timeout(idle_timeout, tls.read(&mut buf)).await
                        {
                            Ok(Ok(n)) if n > 0 => n,
                            // Idle too long, closed, or broken: close the TCP connection.
                            _ => return,
                        };
                        request.extend_from_slice(&buf[..n]);
                        while let Some(end) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                            request.drain(..end + 4);
                            let date = httpdate::fmt_http_date(std::time::SystemTime::now());
                            let response = format!(
                                "HTTP/1.1 200 OK\r\nServer: e2e-idle\r\nDate: {date}\r\n{keep_alive}Content-Length: 3\r\n\r\nok\n"
                            );
                            if tls.write_all(response.as_bytes()).await.is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        IdleClosingServer { port, task }
    }
}

/// A response of `probe serve`.
pub struct HttpResponse {
    pub status: u16,
    pub content_type: String,
    pub body: String,
}

/// `GET path` on `addr` over plain HTTP/1.1, bounded by `limit`.
pub async fn http_get(addr: &str, path: &str, limit: Duration) -> HttpResponse {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        Ok::<_, std::io::Error>(raw)
    };
    let raw = tokio::time::timeout(limit, exchange)
        .await
        .unwrap_or_else(|_| panic!("GET {path} on {addr}: no answer within {limit:?}"))
        .unwrap_or_else(|e| panic!("GET {path} on {addr}: {e}"));
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {path}: not an HTTP response: {text:?}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("GET {path}: no status in {head:?}"));
    let content_type = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-type")
                .then(|| v.trim().to_string())
        })
        .unwrap_or_default();
    HttpResponse {
        status,
        content_type,
        body: body.to_string(),
    }
}

/// The DOM of `html` after headless Chromium has loaded and rendered it (`--dump-dom`).
pub fn chromium_dom(chromium: &Path, html: &Path) -> String {
    let profile = tempfile::tempdir().expect("profile dir");
    let url = format!("file://{}", html.display());
    let child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(["--dump-dom", &url])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn chromium");
    let out = wait_bounded(child, Duration::from_secs(90));
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success() && !dom.is_empty(),
        "chromium failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    dom
}
