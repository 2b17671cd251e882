//! Keep-alive HTTPS load: N connections, each sending GETs one after another for a fixed time,
//! every answer checked (200 and the handler's body), latencies in an HDR histogram.

use super::responder::BODY;
use crate::tls_client::{connect_tls, STEP};
use bytes::Bytes;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// Where the requests go and what they carry.
#[derive(Clone, Debug)]
pub struct Target {
    pub addr: SocketAddr,
    pub ca_pem: String,
    /// The TLS server name.
    pub server_name: String,
    /// The `Host` header.
    pub host: String,
    pub path: String,
    /// Extra headers (the relay's token).
    pub headers: Vec<(String, String)>,
}

/// What a load run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct LoadOutcome {
    pub connections: usize,
    /// Requests answered with 200 and the handler's body.
    pub requests: u64,
    /// Requests that failed or got another answer.
    pub errors: u64,
    /// What the first failure was, if any.
    pub first_error: Option<String>,
    pub seconds: f64,
    pub per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

/// One keep-alive connection.
pub struct Client {
    sender: SendRequest<Empty<Bytes>>,
}

impl Client {
    pub async fn connect(target: &Target) -> Result<Client, String> {
        let tls = connect_tls(target.addr, &target.ca_pem, &target.server_name)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| format!("http handshake: {e}"))?;
        tokio::spawn(conn);
        Ok(Client { sender })
    }

    /// One GET, answered within `limit` with 200 and [`BODY`].
    pub async fn get(&mut self, target: &Target, limit: Duration) -> Result<(), String> {
        let mut request = hyper::Request::get(target.path.as_str()).header("Host", &target.host);
        for (name, value) in &target.headers {
            request = request.header(name, value);
        }
        let request = request.body(Empty::new()).map_err(|e| e.to_string())?;
        let exchange = async {
            self.sender.ready().await.map_err(|e| e.to_string())?;
            let response = self
                .sender
                .send_request(request)
                .await
                .map_err(|e| e.to_string())?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| e.to_string())?
                .to_bytes();
            if status != 200 || body.as_ref() != BODY {
                return Err(format!("answered {status} {body:?}"));
            }
            Ok(())
        };
        tokio::time::timeout(limit, exchange)
            .await
            .map_err(|_| format!("no answer within {limit:?}"))?
    }
}

/// Runs `connections` clients against `target` for `duration`.
pub async fn run(target: &Target, connections: usize, duration: Duration) -> LoadOutcome {
    let start = Instant::now();
    let deadline = start + duration;
    let mut workers = JoinSet::new();
    for _ in 0..connections.max(1) {
        let target = target.clone();
        workers.spawn(async move { worker(&target, deadline).await });
    }
    let mut all = histogram();
    let (mut requests, mut errors) = (0, Failures::default());
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok((histogram, failed)) => {
                requests += histogram.len();
                errors.count += failed.count;
                errors.first = errors.first.or(failed.first);
                all.add(&histogram).expect("same bounds");
            }
            Err(e) => errors.note(e.to_string()),
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let ms = |micros: u64| micros as f64 / 1000.0;
    LoadOutcome {
        connections: connections.max(1),
        requests,
        errors: errors.count,
        first_error: errors.first,
        seconds,
        per_second: requests as f64 / seconds,
        p50_ms: ms(all.value_at_quantile(0.5)),
        p99_ms: ms(all.value_at_quantile(0.99)),
        max_ms: ms(all.max()),
    }
}

/// Requests until `deadline` on one connection (a new one after a failure); latencies in
/// microseconds and the failure count.
async fn worker(target: &Target, deadline: Instant) -> (Histogram<u64>, Failures) {
    let mut latencies = histogram();
    let mut failed = Failures::default();
    let mut client = None;
    while Instant::now() < deadline {
        if client.is_none() {
            match Client::connect(target).await {
                Ok(c) => client = Some(c),
                Err(e) => {
                    failed.note(e);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            }
        }
        let began = Instant::now();
        match client.as_mut().expect("connected").get(target, STEP).await {
            Ok(()) => latencies.saturating_record(began.elapsed().as_micros() as u64),
            Err(e) => {
                failed.note(e);
                client = None;
            }
        }
    }
    (latencies, failed)
}

/// How many requests failed, and how the first did.
#[derive(Default)]
struct Failures {
    count: u64,
    first: Option<String>,
}

impl Failures {
    fn note(&mut self, why: String) {
        self.count += 1;
        self.first.get_or_insert(why);
    }
}

/// 1 us to 60 s, three significant figures.
fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid bounds")
}
