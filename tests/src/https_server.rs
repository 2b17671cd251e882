//! A small real HTTPS server for the direct-check tests: rustls on loopback (IPv4 and IPv6 on
//! the same port), answering every request with 200 and a `Date` header that may be offset.

use crate::certs::Leaf;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// How the server behaves.
#[derive(Clone, Default)]
pub struct ServerOptions {
    /// Offer TLS 1.2 only.
    pub tls12_only: bool,
    /// Added to the `Date` header, in seconds (clock skew tests).
    pub date_offset_s: i64,
}

/// What to do with each accepted connection.
#[derive(Clone)]
enum Mode {
    Https(Arc<rustls::ServerConfig>, i64),
    /// Answer the ClientHello with a TLS `protocol_version` alert, as a TLS 1.0-only server does.
    ProtocolVersionAlert,
    /// Accept TCP and never say anything (deadline tests).
    Silent,
    /// Read the ClientHello, then reset the connection, as an SNI-filtering firewall does.
    ResetOnHello,
}

/// A running server; stops when dropped.
pub struct TestServer {
    pub port: u16,
    tasks: JoinSet<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.tasks.abort_all();
    }
}

impl TestServer {
    pub async fn https(leaf: Leaf, options: ServerOptions) -> TestServer {
        let config = server_config(leaf, options.tls12_only);
        Self::start(Mode::Https(config, options.date_offset_s)).await
    }

    pub async fn protocol_version_alert() -> TestServer {
        Self::start(Mode::ProtocolVersionAlert).await
    }

    pub async fn silent() -> TestServer {
        Self::start(Mode::Silent).await
    }

    pub async fn reset_on_hello() -> TestServer {
        Self::start(Mode::ResetOnHello).await
    }

    async fn start(mode: Mode) -> TestServer {
        let (v4, v6) = bind_pair().await;
        let port = v4.local_addr().expect("local addr").port();
        let mut tasks = JoinSet::new();
        for listener in [Some(v4), v6].into_iter().flatten() {
            let mode = mode.clone();
            tasks.spawn(async move {
                let mut conns = JoinSet::new();
                while let Ok((stream, peer)) = listener.accept().await {
                    conns.spawn(serve(stream, peer, mode.clone()));
                }
            });
        }
        TestServer { port, tasks }
    }
}

/// A rustls server configuration for `leaf` (ring provider, ALPN http/1.1): TLS 1.3 and 1.2, or
/// 1.2 only.
pub fn server_config(leaf: Leaf, tls12_only: bool) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = if tls12_only {
        &[&rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .expect("protocol versions")
        .with_no_client_auth()
        .with_single_cert(leaf.chain, leaf.key)
        .expect("server certificate");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// Binds 127.0.0.1 and [::1] on one port (IPv6 skipped where the host has no ::1).
async fn bind_pair() -> (TcpListener, Option<TcpListener>) {
    for _ in 0..50 {
        let v4 = TcpListener::bind("127.0.0.1:0").await.expect("bind v4");
        let port = v4.local_addr().expect("addr").port();
        match TcpListener::bind(("::1", port)).await {
            Ok(v6) => return (v4, Some(v6)),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => continue,
            Err(_) => return (v4, None),
        }
    }
    panic!("no port free on both 127.0.0.1 and ::1");
}

async fn serve(mut stream: tokio::net::TcpStream, _peer: SocketAddr, mode: Mode) {
    match mode {
        Mode::Silent => {
            let mut buf = [0u8; 1024];
            while let Ok(n) = stream.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        }
        Mode::ResetOnHello => {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            // Zero linger: closing sends a RST instead of a FIN.
            let _ = stream.set_zero_linger();
            drop(stream);
        }
        Mode::ProtocolVersionAlert => {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf).await;
            // TLS record: alert(21), version 3.1, length 2, level fatal(2), protocol_version(70).
            let _ = stream
                .write_all(&[0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46])
                .await;
            let _ = stream.shutdown().await;
        }
        Mode::Https(config, offset) => {
            let acceptor = tokio_rustls::TlsAcceptor::from(config);
            let Ok(mut tls) = acceptor.accept(stream).await else {
                return;
            };
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 65536 {
                match tls.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            let date = httpdate::fmt_http_date(
                std::time::SystemTime::now()
                    .checked_add(std::time::Duration::from_secs(offset.max(0) as u64))
                    .and_then(|t| {
                        t.checked_sub(std::time::Duration::from_secs((-offset).max(0) as u64))
                    })
                    .expect("date in range"),
            );
            let response = format!(
                "HTTP/1.1 200 OK\r\nServer: e2e-https\r\nDate: {date}\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n"
            );
            let _ = tls.write_all(response.as_bytes()).await;
            let _ = tls.shutdown().await;
        }
    }
}
