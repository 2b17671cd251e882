//! The HTTP side of `probe serve` (hyper 1, HTTP/1.1): `/metrics`, `/results`, an index.
//! It only reads the shared state, so it answers at once while a run is in progress.

use super::Shared;
use crate::report::{json, prometheus};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Accepts until `shutdown` changes, then lets open connections finish their request.
pub async fn serve(listener: TcpListener, state: Shared, mut shutdown: watch::Receiver<bool>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of descriptors and the like: wait instead of spinning.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                conns.spawn(connection(stream, state.clone(), shutdown.clone()));
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
    drop(listener);
    let drain = async { while conns.join_next().await.is_some() {} };
    if tokio::time::timeout(Duration::from_secs(3), drain)
        .await
        .is_err()
    {
        conns.abort_all();
    }
}

async fn connection(
    stream: tokio::net::TcpStream,
    state: Shared,
    mut shutdown: watch::Receiver<bool>,
) {
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let response = respond(&req, &state);
        async move { Ok::<_, Infallible>(response) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(10))
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        _ = shutdown.changed() => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(2), conn).await;
        }
    }
}

fn respond(req: &Request<Incoming>, state: &Shared) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "GET only\n".into(),
        );
    }
    let (latest, finished, running_since) = {
        let st = state.lock().expect("state lock");
        (st.latest.clone(), st.finished, st.running_since.clone())
    };
    match req.uri().path() {
        "/metrics" => {
            let mut body = String::new();
            match (&latest, &running_since) {
                (Some(r), Some(since)) => body.push_str(&format!(
                    "# probe serve: run {} in progress since {since}; showing run {finished}, finished {}\n",
                    finished + 1,
                    r.finished_at
                )),
                (Some(r), None) => body.push_str(&format!(
                    "# probe serve: showing run {finished}, finished {}\n",
                    r.finished_at
                )),
                (None, Some(since)) => body.push_str(&format!(
                    "# probe serve: the first run is in progress since {since}; no result yet\n"
                )),
                (None, None) => body.push_str("# probe serve: no run has started yet\n"),
            }
            if let Some(r) = &latest {
                body.push_str(&prometheus::render(r));
            }
            reply(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", body)
        }
        "/results" => match &latest {
            Some(r) => reply(StatusCode::OK, "application/json", json::render(r)),
            None => reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "application/json",
                "{\"error\": \"no run has finished yet\"}\n".into(),
            ),
        },
        "/" => reply(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "probe serve\n/metrics  Prometheus exposition of the latest run\n/results  probe.result/v1 JSON of the latest run\n".into(),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found: try /metrics or /results\n".into(),
        ),
    }
}

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("valid response")
}
