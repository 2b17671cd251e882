//! Tiny in-process TCP peers placed in a namespace: an echo server, an HTTP server that answers
//! 200 to everything, and a client connect. Their sockets are made inside the namespace (see
//! [`Site::enter`]) and served from ordinary threads of the test process.

use super::site::Site;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a served connection may sit without a byte before the peer gives up on it.
const CONN_IDLE_LIMIT: Duration = Duration::from_secs(120);
/// Accept-loop poll interval (the listener is non-blocking so it can be stopped).
const ACCEPT_POLL: Duration = Duration::from_millis(10);

/// What a [`Peer`] does with each connection.
#[derive(Clone, Copy, Debug)]
pub enum Behaviour {
    /// Sends every byte back.
    Echo,
    /// Reads one HTTP request head and answers `200 OK` with body `ok\n`, then closes.
    HttpOk,
}

/// A TCP server in a site; stops accepting on drop.
pub struct Peer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Peer {
    /// Listens on `addr` (port 0 picks one) inside `site`.
    pub fn start(site: &Site, addr: SocketAddr, behaviour: Behaviour) -> Peer {
        let listener = site
            .enter(|| TcpListener::bind(addr))
            .unwrap_or_else(|e| panic!("bind peer on {addr} in {site:?}: {e}"));
        let addr = listener.local_addr().expect("peer addr");
        listener.set_nonblocking(true).expect("non-blocking");
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let accept = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        std::thread::spawn(move || serve(conn, behaviour));
                    }
                    Err(_) => std::thread::sleep(ACCEPT_POLL),
                }
            }
        });
        Peer {
            addr,
            stop,
            accept: Some(accept),
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn serve(mut conn: TcpStream, behaviour: Behaviour) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(CONN_IDLE_LIMIT));
    let mut buf = [0u8; 4096];
    match behaviour {
        Behaviour::Echo => {
            while let Ok(n) = conn.read(&mut buf) {
                if n == 0 || conn.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
        Behaviour::HttpOk => {
            let mut head = Vec::new();
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65536 {
                match conn.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let _ = conn.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n",
            );
        }
    }
}

/// Connects from inside `site` to `addr` within `limit`.
pub fn connect(site: &Site, addr: SocketAddr, limit: Duration) -> std::io::Result<TcpStream> {
    site.enter(|| TcpStream::connect_timeout(&addr, limit))
}
