//! `probe serve` under hostile clients: clients that ask for /metrics and never read cannot
//! lock it out, even with few file descriptors (a connection cap that makes room by closing
//! the oldest connection), and a client that stops reading is dropped after a bounded stall.

use e2e::report_tools::{http_get, Runs};
use e2e::served::Served;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Pipelined requests each hostile client sends, never reading an answer: their answers
/// (about 2 KiB each) are more than the socket buffers hold, so the server's writes stall.
const PIPELINED: usize = 4000;

/// A running `probe serve` whose first run has finished (so /results has a body).
struct Serve {
    child: tokio::process::Child,
    addr: String,
    _runs: Runs,
    _server: e2e::https_server::TestServer,
}

impl Serve {
    /// `probe serve` with at most `nofile` file descriptors.
    async fn start(nofile: u64) -> Serve {
        let runs = Runs::new();
        let server = runs.https_server().await;
        let url = format!("https://localhost:{}/", server.port);
        let ca = runs.ca_file();
        let mut cmd = Served::command(&[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--interval",
            "1h",
            "--target",
            &url,
            "--ca-file",
            &ca,
            "--quick",
            "--timeout",
            "5",
        ]);
        // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else.
        unsafe {
            cmd.pre_exec(move || {
                let limit = libc::rlimit {
                    rlim_cur: nofile,
                    rlim_max: nofile,
                };
                if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let (child, addr) = Served::spawn(cmd).await.drain_stderr();
        let started = Instant::now();
        loop {
            let r = http_get(&addr, "/results", Duration::from_secs(5)).await;
            if r.status == 200 {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no run finished"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Serve {
            child,
            addr,
            _runs: runs,
            _server: server,
        }
    }

    fn open_descriptors(&self) -> usize {
        let pid = self.child.id().expect("running");
        std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| d.count())
            .unwrap_or(0)
    }
}

/// Connects with a tiny receive window and sends `requests` requests without reading.
async fn never_reader(addr: &str, requests: usize) -> Option<TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4().ok()?;
    socket.set_recv_buffer_size(4096).ok()?;
    let addr = addr.parse().ok()?;
    let mut stream = tokio::time::timeout(Duration::from_secs(2), socket.connect(addr))
        .await
        .ok()?
        .ok()?;
    let requests = "GET /results HTTP/1.1\r\nHost: x\r\n\r\n".repeat(requests);
    // The server stops reading once its answers back up: do not wait for all of it.
    let _ = tokio::time::timeout(
        Duration::from_millis(500),
        stream.write_all(requests.as_bytes()),
    )
    .await;
    Some(stream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_never_read_cannot_lock_out_metrics() {
    // Fewer descriptors than hostile clients: without a cap they exhaust them for good.
    let serve = Serve::start(128).await;
    let clients =
        futures_util::future::join_all((0..200).map(|_| never_reader(&serve.addr, 100))).await;
    let connected = clients.iter().filter(|c| c.is_some()).count();
    assert!(
        connected >= 150,
        "only {connected} hostile clients connected"
    );
    let started = Instant::now();
    let metrics = http_get(&serve.addr, "/metrics", Duration::from_secs(15)).await;
    let latency = started.elapsed();
    let descriptors = serve.open_descriptors();
    eprintln!(
        "{connected} clients that never read: /metrics answered in {:.0} ms; the server holds {descriptors} descriptors",
        latency.as_secs_f64() * 1000.0
    );
    // Answered within the request's own deadline (15 s) is the property: a lockout never
    // answers. How fast is a benchmark's concern (a wall-clock bound here failed at 7 s on a
    // loaded 2-core machine: a slot may free only when a stalled writer's 5 s deadline ends).
    assert_eq!(metrics.status, 200);
    assert!(metrics.body.contains("probe_success"), "{}", metrics.body);
    // The cap (64 connections) holds, whatever the clients do.
    assert!(descriptors <= 64 + 32, "{descriptors} descriptors open");
    drop(clients);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_after_a_bounded_stall() {
    let serve = Serve::start(1024).await;
    let mut stream = never_reader(&serve.addr, PIPELINED).await.expect("connect");
    // Longer than the write deadline (5 s): the server gives up on this client.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let mut answers = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answers)).await;
    let text = String::from_utf8_lossy(&answers);
    let answered = text.matches("HTTP/1.1 200").count();
    assert!(
        read.is_ok(),
        "the connection is still open after a stall of 8 s ({answered} answers read)"
    );
    assert!(
        answered < PIPELINED,
        "every request was answered: nothing was cut"
    );
}
