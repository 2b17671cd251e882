//! An `https://` target has no listener to keep: at each push time the watch checks it lightly,
//! phase by phase (dns, tcp, tls, http), on a fresh connection.

use super::event::{Phase, PushOutcome};
use crate::net::body::drain;
use crate::net::ending::hyper_outcome;
use crate::net::path::{self, PathError};
use crate::net::NetContext;
use crate::outcome::Outcome;
use crate::target::Target;
use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use std::time::{Duration, Instant};

/// The most of an answer's body the check reads.
const BODY_LIMIT: u64 = 64 * 1024;

/// The light check's outcome, its time when it passed, its phases and, failed, why.
pub struct Light {
    pub outcome: PushOutcome,
    pub latency: Option<Duration>,
    pub phases: Vec<Phase>,
    pub detail: Option<String>,
}

pub async fn check(net: &NetContext, target: &Target) -> Light {
    let started = Instant::now();
    let ms = |d: Duration| Some((d.as_secs_f64() * 1e5).round() / 100.0);
    let phase = |name: &str, outcome: Outcome, d: Option<f64>| Phase {
        name: name.into(),
        outcome,
        ms: d,
    };
    let opened = match path::open_tls(net, target).await {
        Ok(o) => o,
        Err(e) => {
            let failed_in = match &e {
                PathError::Resolve(_) | PathError::ResolveTimeout => "dns",
                PathError::Connect(..) | PathError::Proxy(_) => "tcp",
                PathError::Tls(_) | PathError::TlsTimeout | PathError::BlockPage(_) => "tls",
            };
            return Light {
                outcome: PushOutcome::Failed(e.outcome()),
                latency: None,
                phases: vec![phase(failed_in, e.outcome(), None)],
                detail: Some(e.to_string()),
            };
        }
    };
    let t = opened.timings;
    let mut phases = vec![
        phase("dns", Outcome::Resolved, ms(t.resolve)),
        phase("tcp", Outcome::Connected, ms(t.connect)),
        phase("tls", Outcome::Ok, ms(t.tls)),
    ];
    let http_started = Instant::now();
    let (outcome, detail) = match tokio::time::timeout(net.timeout, request(opened, target)).await {
        Ok(r) => r,
        Err(_) => (Outcome::Timeout, Some("no HTTP answer in time".to_string())),
    };
    phases.push(phase("http", outcome, ms(http_started.elapsed())));
    let passed = outcome == Outcome::Response;
    Light {
        outcome: if passed {
            PushOutcome::Delivered
        } else {
            PushOutcome::Failed(outcome)
        },
        latency: passed.then(|| started.elapsed()),
        phases,
        detail,
    }
}

async fn request(opened: path::Opened, target: &Target) -> (Outcome, Option<String>) {
    let (mut sender, conn) =
        match hyper::client::conn::http1::handshake(TokioIo::new(opened.stream)).await {
            Ok(h) => h,
            Err(e) => {
                return (
                    hyper_outcome(&e),
                    Some(format!("HTTP/1.1 setup failed: {e}")),
                )
            }
        };
    let driver = tokio::spawn(conn);
    let request = http::Request::get(target.path.as_str())
        .header(http::header::HOST, target.host_header())
        .header(http::header::USER_AGENT, crate::net::USER_AGENT)
        .header(http::header::CONNECTION, "close")
        .body(Empty::<Bytes>::new());
    let result = match request {
        Err(e) => (Outcome::ProtocolError, Some(e.to_string())),
        Ok(request) => match sender.send_request(request).await {
            Err(e) => (hyper_outcome(&e), Some(format!("the request failed: {e}"))),
            Ok(response) => {
                let code = response.status().as_u16();
                let mut body = response.into_body();
                let _ = drain(&mut body, BODY_LIMIT).await;
                let ok = if target.expect_status.is_empty() {
                    code < 500
                } else {
                    target.expect_status.contains(&code)
                };
                if ok {
                    (Outcome::Response, None)
                } else {
                    (
                        Outcome::UnexpectedStatus,
                        Some(format!("HTTP status {code}")),
                    )
                }
            }
        },
    };
    driver.abort();
    result
}
