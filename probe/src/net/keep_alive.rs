//! Requests on a kept-alive HTTP/1.1 connection, one after another.
//!
//! hyper takes the first request of a connection at once, but a later one only once its
//! connection task has finished the previous exchange and asked for the next request. A request
//! sent before that fails at once with a "canceled" error ("connection was not ready") that
//! reads like the peer closing the connection. The task runs on its own, so how soon it is done
//! is a race: an idle check that sent right after an answer (the control connection's last
//! exchange, when the ladder ends during one) reported a clean close by the far end that never
//! happened. Every request after the first waits for the connection to be ready.

use hyper::body::{Body, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper::{Request, Response};

/// Sends `request` once the connection can take it. An error is the connection's: it closed,
/// or failed, before or during the exchange.
pub async fn send<B>(
    sender: &mut SendRequest<B>,
    request: Request<B>,
) -> Result<Response<Incoming>, hyper::Error>
where
    B: Body + 'static,
{
    sender.ready().await?;
    sender.send_request(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::body::{drain, Drained};
    use bytes::Bytes;
    use http_body_util::{Empty, Full};
    use hyper::server::conn::http1 as server;
    use hyper::service::service_fn;
    use hyper_util::rt::TokioIo;
    use std::convert::Infallible;

    /// A keep-alive server on loopback answering every request with a short body.
    async fn server() -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let answer = service_fn(|_req| async {
                        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(
                            b"no such endpoint",
                        ))))
                    });
                    let _ = server::Builder::new()
                        .serve_connection(TokioIo::new(stream), answer)
                        .await;
                });
            }
        });
        addr
    }

    /// Requests sent back to back, each as soon as the previous answer was read, all succeed:
    /// without waiting for readiness, some fail as "canceled" while the connection task catches
    /// up (on a multi-threaded runtime, where that task runs beside this one).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn back_to_back_requests_on_one_connection_all_succeed() {
        let addr = server().await;
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        let driver = tokio::spawn(conn);
        for i in 0..2000 {
            let request = Request::get("/")
                .header(http::header::HOST, "localhost")
                .body(Empty::<Bytes>::new())
                .unwrap();
            let response = tokio::time::timeout(
                std::time::Duration::from_secs(10),
                send(&mut sender, request),
            )
            .await
            .expect("an answer within 10 s")
            .unwrap_or_else(|e| panic!("request {i} failed: {e}"));
            let mut body = response.into_body();
            assert_eq!(drain(&mut body, 1024).await.unwrap(), Drained::Complete(16));
        }
        driver.abort();
    }
}
