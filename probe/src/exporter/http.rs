//! The HTTP server of `probe serve` (hyper 1, HTTP/1.1): `/metrics`, `/results`, an index.
//! It only reads the shared state, so it answers at once while a run is in progress.
//!
//! Hostile or broken clients cannot lock it out: at most [`MAX_CONNECTIONS`] are served at once
//! (a new one beyond that closes the oldest that is not a working HTTP client, else the oldest,
//! so a crowd that connects and waits only ever delays a scraper by the time it takes to
//! accept),
//! a client that stops reading is dropped after [`stall::WRITE_STALL`], one that sends no
//! request after [`HEADER_READ_TIMEOUT`], and no connection lives longer than
//! [`CONNECTION_LIFETIME`].

use super::stall::{self, StallGuard};
use super::State;
use crate::report::{json, prometheus};
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::task::{AbortHandle, JoinSet};

/// Connections served at once (a Prometheus or two, a person with curl; far below a default
/// descriptor limit, which the runs need too).
pub const MAX_CONNECTIONS: usize = 64;
/// How long a client may take to send a request's head, also between requests on a kept-alive
/// connection.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a connection is served; a scraper simply reconnects for its next scrape.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(60);
/// How long an evicted connection's slot may take to come back.
const EVICTION_WAIT: Duration = Duration::from_secs(1);

/// A connection being served, as the accept loop sees it.
struct Served {
    task: AbortHandle,
    /// Whether a whole request head has arrived on it.
    spoke: Arc<AtomicBool>,
    /// Whether an answer is waiting for the client to read.
    stalled: Arc<AtomicBool>,
    /// Whether its task has run at all: a connection accepted in a burst must get to read the
    /// request already waiting on it before it can be pushed out.
    started: Arc<AtomicBool>,
}

impl Served {
    /// A client that sent a request and reads its answers (a scraper, most likely): the last to
    /// be closed to make room.
    fn working(&self) -> bool {
        self.spoke.load(Ordering::Relaxed) && !self.stalled.load(Ordering::Relaxed)
    }
}

/// Accepts until `shutdown` changes, then lets open connections finish their request.
pub async fn serve(
    listener: TcpListener,
    state: Arc<dyn Pages>,
    mut shutdown: watch::Receiver<bool>,
) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let mut conns = JoinSet::new();
    // Oldest first; finished ones are pruned when evicting and now and then.
    let mut by_age: VecDeque<Served> = VecDeque::new();
    loop {
        let stream = tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of descriptors (a limit below the cap) and the like: make room as for
                    // a newcomer beyond the cap, and wait a moment instead of spinning.
                    tracing::warn!("accept failed: {e}");
                    make_room(&mut by_age).await;
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            Some(_) = conns.join_next(), if !conns.is_empty() => continue,
        };
        let Some(slot) = slot_for_newcomer(&slots, &mut by_age).await else {
            continue;
        };
        let (spoke, started) = (Arc::default(), Arc::default());
        let io = StallGuard::new(stream, stall::WRITE_STALL);
        let stalled = io.stalled();
        let task = conns.spawn(connection(
            io,
            state.clone(),
            shutdown.clone(),
            slot,
            Arc::clone(&spoke),
            Arc::clone(&started),
        ));
        by_age.push_back(Served {
            task,
            spoke,
            stalled,
            started,
        });
        if by_age.len() > 2 * MAX_CONNECTIONS {
            by_age.retain(|c| !c.task.is_finished());
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

/// A free slot, or the slot of a connection closed to make room; `None` if even that did not
/// free one in time (the newcomer is then dropped).
async fn slot_for_newcomer(
    slots: &Arc<Semaphore>,
    by_age: &mut VecDeque<Served>,
) -> Option<OwnedSemaphorePermit> {
    if let Ok(slot) = slots.clone().try_acquire_owned() {
        return Some(slot);
    }
    make_room(by_age).await;
    match tokio::time::timeout(EVICTION_WAIT, slots.clone().acquire_owned()).await {
        Ok(Ok(slot)) => Some(slot),
        _ => None,
    }
}

/// Closes one connection: the oldest that has run and is not a working HTTP client, else the
/// oldest.
async fn make_room(by_age: &mut VecDeque<Served>) {
    // Connections accepted in the same burst may not have run yet: let them, a few times at
    // most, before choosing among them.
    for _ in 0..8 {
        by_age.retain(|c| !c.task.is_finished());
        let started = |c: &Served| c.started.load(Ordering::Relaxed);
        let victim = match by_age.iter().position(|c| started(c) && !c.working()) {
            Some(at) => Some(at),
            None if by_age.iter().all(started) => Some(0),
            None => None,
        };
        if let Some(victim) = victim.and_then(|at| by_age.remove(at)) {
            tracing::debug!(
                "connection limit ({MAX_CONNECTIONS}) reached: closing one to make room"
            );
            victim.task.abort();
            break;
        }
        tokio::task::yield_now().await;
    }
}

async fn connection(
    io: StallGuard<tokio::net::TcpStream>,
    state: Arc<dyn Pages>,
    mut shutdown: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
    spoke: Arc<AtomicBool>,
    started: Arc<AtomicBool>,
) {
    started.store(true, Ordering::Relaxed);
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        spoke.store(true, Ordering::Relaxed);
        let response = respond(&req, &*state);
        async move { Ok::<_, Infallible>(response) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .serve_connection(TokioIo::new(io), service);
    tokio::pin!(conn);
    let lifetime = tokio::time::sleep(CONNECTION_LIFETIME);
    tokio::pin!(lifetime);
    tokio::select! {
        _ = conn.as_mut() => return,
        _ = &mut lifetime => {}
        _ = shutdown.changed() => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(Duration::from_secs(2), conn).await;
}

/// What an exporter serves: the answer to a GET of each path (`probe serve`'s results,
/// `probe watch`'s events), behind the same connection handling.
pub trait Pages: Send + Sync + 'static {
    /// The status, content type and body for `path`.
    fn page(&self, path: &str) -> (StatusCode, &'static str, String);
}

fn respond(req: &Request<Incoming>, pages: &dyn Pages) -> Response<Full<Bytes>> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "GET only\n".into(),
        );
    }
    let (status, content_type, body) = pages.page(req.uri().path());
    reply(status, content_type, body)
}

/// The Prometheus text exposition's content type.
pub const METRICS_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

impl Pages for std::sync::Mutex<State> {
    fn page(&self, path: &str) -> (StatusCode, &'static str, String) {
        let (latest, finished, running_since) = {
            let st = self
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            (st.latest.clone(), st.finished, st.running_since.clone())
        };
        match path {
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
                (StatusCode::OK, METRICS_TYPE, body)
            }
            "/results" => match &latest {
                Some(r) => (StatusCode::OK, "application/json", json::render(r)),
                None => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "application/json",
                    "{\"error\": \"no run has finished yet\"}\n".into(),
                ),
            },
            "/" => (
                StatusCode::OK,
                "text/plain; charset=utf-8",
                "probe serve\n/metrics  Prometheus exposition of the latest run\n/results  probe.result/v1 JSON of the latest run\n".into(),
            ),
            _ => (
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                "not found: try /metrics or /results\n".into(),
            ),
        }
    }
}

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(hyper::header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("valid response")
}
