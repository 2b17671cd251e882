//! The hostile crowd: clients of four kinds in equal numbers, each reconnecting whenever the
//! server drops it, until told to stop.
//!
//! - idle: connects and sends nothing;
//! - garbage: sends random bytes;
//! - slowloris: starts a request and adds one header line a second, never finishing it;
//! - slow reader: pipelines hundreds of requests through a tiny receive window and never reads.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

#[derive(Clone, Copy)]
enum Kind {
    Idle,
    Garbage,
    Slowloris,
    SlowReader,
}

#[derive(Default)]
pub struct Stats {
    pub opened: usize,
    pub connect_failed: usize,
    pub closed_by_server: usize,
}

#[derive(Default)]
struct Counters {
    opened: AtomicUsize,
    connect_failed: AtomicUsize,
    closed_by_server: AtomicUsize,
}

pub struct Crowd {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
    counters: Arc<Counters>,
}

impl Crowd {
    pub fn start(addr: &str, clients: usize) -> Crowd {
        let addr: SocketAddr = addr.parse().expect("a socket address");
        let (stop, stopped) = watch::channel(false);
        let counters = Arc::new(Counters::default());
        let mut tasks = JoinSet::new();
        for i in 0..clients {
            let kind = [Kind::Idle, Kind::Garbage, Kind::Slowloris, Kind::SlowReader][i % 4];
            let (stopped, counters) = (stopped.clone(), counters.clone());
            tasks.spawn(async move {
                let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ (i as u64);
                let mut stopped = stopped;
                loop {
                    let client = client(addr, kind, &mut seed, &counters);
                    tokio::select! {
                        _ = stopped.changed() => return,
                        _ = client => {}
                    }
                    // Dropped by the server (or never let in): come back a little later.
                    tokio::select! {
                        _ = stopped.changed() => return,
                        _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                    }
                }
            });
        }
        Crowd {
            stop,
            tasks,
            counters,
        }
    }

    pub async fn stop(mut self) -> Stats {
        let _ = self.stop.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        self.tasks.abort_all();
        Stats {
            opened: self.counters.opened.load(Ordering::Relaxed),
            connect_failed: self.counters.connect_failed.load(Ordering::Relaxed),
            closed_by_server: self.counters.closed_by_server.load(Ordering::Relaxed),
        }
    }
}

fn next(seed: &mut u64) -> u64 {
    // xorshift64*: random enough for garbage.
    *seed ^= *seed >> 12;
    *seed ^= *seed << 25;
    *seed ^= *seed >> 27;
    seed.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

async fn connect(addr: SocketAddr, small_window: bool) -> Option<TcpStream> {
    let socket = TcpSocket::new_v4().ok()?;
    if small_window {
        socket.set_recv_buffer_size(4096).ok()?;
    }
    tokio::time::timeout(Duration::from_secs(2), socket.connect(addr))
        .await
        .ok()?
        .ok()
}

/// One connection of `kind`, until the server ends it.
async fn client(addr: SocketAddr, kind: Kind, seed: &mut u64, counters: &Counters) {
    let Some(mut stream) = connect(addr, matches!(kind, Kind::SlowReader)).await else {
        counters.connect_failed.fetch_add(1, Ordering::Relaxed);
        return;
    };
    counters.opened.fetch_add(1, Ordering::Relaxed);
    let (mut reader, mut writer) = stream.split();
    let mut sink = [0u8; 4096];
    let closed = async {
        match kind {
            // Reads nothing; sees the server's close as EOF.
            Kind::Idle => {
                while let Ok(n) = reader.read(&mut sink).await {
                    if n == 0 {
                        return;
                    }
                }
            }
            // Never reads: sees the server give up as a failed write (its reset).
            Kind::SlowReader => {
                let requests = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(500);
                let _ = tokio::time::timeout(
                    Duration::from_millis(500),
                    writer.write_all(requests.as_bytes()),
                )
                .await;
                for _ in 0..3600 {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    // Blank lines between requests are allowed (RFC 9112, 2.2).
                    let nudge =
                        tokio::time::timeout(Duration::from_secs(1), writer.write_all(b"\r\n"));
                    if let Ok(Err(_)) = nudge.await {
                        return;
                    }
                }
            }
            Kind::Garbage => {
                for _ in 0..18_000 {
                    let bytes: Vec<u8> = (0..512).map(|_| next(seed) as u8).collect();
                    if writer.write_all(&bytes).await.is_err() {
                        return;
                    }
                    tokio::select! {
                        r = reader.read(&mut sink) => if matches!(r, Ok(0) | Err(_)) { return },
                        _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                    }
                }
            }
            Kind::Slowloris => {
                if writer
                    .write_all(b"GET /metrics HTTP/1.1\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                for i in 0u64..3600 {
                    tokio::select! {
                        r = reader.read(&mut sink) => if matches!(r, Ok(0) | Err(_)) { return },
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                    if writer
                        .write_all(format!("X-{i}: {i}\r\n").as_bytes())
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    };
    // Every kind ends when the server drops it; an hour at most otherwise.
    let _ = tokio::time::timeout(Duration::from_secs(3600), closed).await;
    counters.closed_by_server.fetch_add(1, Ordering::Relaxed);
}
