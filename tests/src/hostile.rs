//! Hostile peers for the hardening tests, on loopback: servers that answer every request with
//! an endless body (over TLS or plain HTTP), a server that accepts and never speaks, and an
//! HTTP proxy that records what a client sent it. Each counts connections and requests, so a
//! test can assert what the probe did (or did not do) on the wire.

use crate::certs::Leaf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// How long one hostile connection may last: every loop in a test is bounded.
const CONNECTION_LIMIT: Duration = Duration::from_secs(120);
/// One chunk of an endless body.
const CHUNK: usize = 64 * 1024;

/// What a hostile server saw.
#[derive(Clone, Default)]
pub struct Counters {
    connections: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
    /// Request heads received, as text.
    heads: Arc<Mutex<Vec<String>>>,
}

impl Counters {
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Every request head received so far.
    pub fn heads(&self) -> Vec<String> {
        self.heads.lock().map(|h| h.clone()).unwrap_or_default()
    }
}

/// A running hostile server on 127.0.0.1; stops when dropped.
pub struct Hostile {
    pub port: u16,
    pub seen: Counters,
    tasks: JoinSet<()>,
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

#[derive(Clone)]
enum Behaviour {
    /// Answers every request with `200` and a chunked body that never ends.
    EndlessBody,
    /// Answers every request with `200` and a three-byte body (a well-behaved CRL server).
    Small,
    /// Accepts and reads, never writes.
    Silent,
    /// An HTTP proxy that answers every request with `407` after recording its head.
    RecordingProxy,
}

impl Hostile {
    /// HTTPS (the certificate `leaf`) answering every request with an endless chunked body.
    pub async fn endless_https(leaf: Leaf) -> Hostile {
        Self::start(Behaviour::EndlessBody, Some(tls_acceptor(leaf))).await
    }

    /// Plain HTTP answering every request with an endless chunked body.
    pub async fn endless_http() -> Hostile {
        Self::start(Behaviour::EndlessBody, None).await
    }

    /// Plain HTTP answering every request with a tiny body, counting them.
    pub async fn small_http() -> Hostile {
        Self::start(Behaviour::Small, None).await
    }

    /// Accepts TCP connections and never says anything.
    pub async fn silent() -> Hostile {
        Self::start(Behaviour::Silent, None).await
    }

    /// A forward proxy that records each request head and refuses with 407.
    pub async fn recording_proxy() -> Hostile {
        Self::start(Behaviour::RecordingProxy, None).await
    }

    async fn start(behaviour: Behaviour, tls: Option<tokio_rustls::TlsAcceptor>) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let seen = Counters::default();
        let mut tasks = JoinSet::new();
        let counters = seen.clone();
        tasks.spawn(async move {
            let mut conns = JoinSet::new();
            while let Ok((stream, _)) = listener.accept().await {
                counters.connections.fetch_add(1, Ordering::SeqCst);
                let (behaviour, tls, counters) = (behaviour.clone(), tls.clone(), counters.clone());
                conns.spawn(async move {
                    let serve = async {
                        match tls {
                            Some(acceptor) => {
                                if let Ok(s) = acceptor.accept(stream).await {
                                    serve(s, &behaviour, &counters).await;
                                }
                            }
                            None => serve(stream, &behaviour, &counters).await,
                        }
                    };
                    let _ = tokio::time::timeout(CONNECTION_LIMIT, serve).await;
                });
            }
        });
        Hostile { port, seen, tasks }
    }
}

fn tls_acceptor(leaf: Leaf) -> tokio_rustls::TlsAcceptor {
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(leaf.chain, leaf.key)
    .expect("server cert");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// Reads one request head (up to 64 KiB); `None` when the peer closed first.
async fn read_head<S: AsyncRead + Unpin>(stream: &mut S) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > 65536 {
            return None;
        }
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    Some(String::from_utf8_lossy(&head).into_owned())
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut stream: S,
    behaviour: &Behaviour,
    counters: &Counters,
) {
    match behaviour {
        Behaviour::Silent => {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        }
        Behaviour::EndlessBody => {
            let Some(head) = read_head(&mut stream).await else {
                return;
            };
            counters.requests.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut heads) = counters.heads.lock() {
                heads.push(head);
            }
            let answer = "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
            if stream.write_all(answer.as_bytes()).await.is_err() {
                return;
            }
            let mut chunk = format!("{CHUNK:x}\r\n").into_bytes();
            chunk.extend(std::iter::repeat_n(b'x', CHUNK));
            chunk.extend_from_slice(b"\r\n");
            // Until the client goes away (or the connection limit): the body never ends.
            while stream.write_all(&chunk).await.is_ok() {}
        }
        Behaviour::Small => {
            while let Some(head) = read_head(&mut stream).await {
                counters.requests.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut heads) = counters.heads.lock() {
                    heads.push(head);
                }
                let answer = "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: 3\r\n\r\ncrl";
                if stream.write_all(answer.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
        Behaviour::RecordingProxy => {
            while let Some(head) = read_head(&mut stream).await {
                counters.requests.fetch_add(1, Ordering::SeqCst);
                if let Ok(mut heads) = counters.heads.lock() {
                    heads.push(head);
                }
                let refusal = "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"e2e\"\r\nContent-Length: 0\r\n\r\n";
                if stream.write_all(refusal.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The value of header `name` (case-insensitive) in a request head.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (k, v) = line.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}
