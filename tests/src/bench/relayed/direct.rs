//! The references: the request-mode handler served directly by hyper over rustls, and a direct
//! TLS WebSocket that acknowledges messages as the relayed listener does. Both in this process,
//! on loopback, with an ECDSA P-256 leaf as the relay's own.

use super::responder::BODY;
use crate::certs::{TestCa, Validity};
use bytes::Bytes;
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

/// Both servers; they stop when dropped.
pub struct DirectServers {
    pub https: SocketAddr,
    pub wss: SocketAddr,
    pub ca_pem: String,
    _tasks: JoinSet<()>,
}

impl DirectServers {
    pub async fn start() -> std::io::Result<DirectServers> {
        let ca = TestCa::new("bench-relay direct");
        let leaf = ca.leaf(&["localhost", "127.0.0.1"], Validity::Current);
        let acceptor = TlsAcceptor::from(crate::https_server::server_config(leaf, false));
        let https = TcpListener::bind("127.0.0.1:0").await?;
        let wss = TcpListener::bind("127.0.0.1:0").await?;
        let (https_addr, wss_addr) = (https.local_addr()?, wss.local_addr()?);
        let mut tasks = JoinSet::new();
        tasks.spawn(accept_loop(https, acceptor.clone(), |tls| async move {
            let service = service_fn(|_request| async {
                Ok::<_, Infallible>(
                    hyper::Response::builder()
                        .header("Content-Type", "text/plain")
                        .body(Full::new(Bytes::from_static(BODY)))
                        .expect("a valid response"),
                )
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        }));
        tasks.spawn(accept_loop(wss, acceptor, |tls| async move {
            if let Ok(ws) = tokio_tungstenite::accept_async(tls).await {
                super::stream::ack_each(ws).await;
            }
        }));
        Ok(DirectServers {
            https: https_addr,
            wss: wss_addr,
            ca_pem: ca.pem.clone(),
            _tasks: tasks,
        })
    }
}

type Tls = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;

/// Accepts TLS connections on `listener` and serves each with `serve` in its own task.
async fn accept_loop<F, Fut>(listener: TcpListener, acceptor: TlsAcceptor, serve: F)
where
    F: Fn(Tls) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let serve = Arc::new(serve);
    let mut conns = JoinSet::new();
    while let Ok((tcp, _)) = listener.accept().await {
        let _ = tcp.set_nodelay(true);
        let (acceptor, serve) = (acceptor.clone(), serve.clone());
        conns.spawn(async move {
            let handshake =
                tokio::time::timeout(crate::tls_client::STEP, acceptor.accept(tcp)).await;
            if let Ok(Ok(tls)) = handshake {
                serve(tls).await;
            }
        });
        while conns.try_join_next().is_some() {}
    }
}
