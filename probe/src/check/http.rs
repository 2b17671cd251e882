//! http: one request with hyper over the tls check's connection, with time to first byte
//! (processing) and body (transfer) timed apart; status, `Server`/`Via`, and clock skew.

use super::{Check, Ctx, Session};
use crate::net::body::drain;
use crate::outcome::{Failure, Outcome, Status};
use crate::result::{millis, CheckName, CheckResult, Details, HttpDetails};
use crate::target::{Target, TargetKind};
use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::TokioIo;
use std::time::{Duration, Instant, SystemTime};

/// Clock skew that earns a warning, and one that fails: token validation breaks past minutes.
const SKEW_WARN_S: i64 = 60;
const SKEW_FAIL_S: i64 = 300;
/// The probe reads at most this much of a body; the rest is not needed to time the transfer.
const BODY_LIMIT: u64 = 1024 * 1024;

/// This check, as the registry (`result/registry.rs`) finds it.
pub const CHECK: Check = Check {
    name: CheckName::Http,
    // The answer's head, then its body.
    phase_deadlines: 2,
    failed: "the HTTP request failed",
    failed_with: &[],
    run: |ctx, target, session| Box::pin(run(ctx, target, session)),
};

pub async fn run(ctx: &Ctx<'_>, target: &Target, session: &mut Session) -> CheckResult {
    let net = ctx.net;
    let Some(stream) = session.tls.take() else {
        return CheckResult::skipped(CheckName::Http, session.failed.unwrap_or("no TLS session"));
    };
    let path = match &target.kind {
        TargetKind::Relay => relay_protocol::channel::HEALTHZ_PATH.to_string(),
        _ => target.path.clone(),
    };
    let started = Instant::now();
    let exchange = exchange(net.timeout, stream, target, &path).await;
    let elapsed = started.elapsed();
    let answer = match exchange {
        Ok(a) => a,
        Err(Failure {
            outcome,
            detail: message,
        }) => {
            return CheckResult::new(CheckName::Http, Status::Fail, outcome, message, elapsed);
        }
    };
    session.phases.processing = Some(millis(answer.processing));
    session.phases.transfer = Some(millis(answer.transfer));
    let details = HttpDetails {
        status_code: Some(answer.status),
        server: answer.server.clone(),
        via: answer.via.clone(),
        clock_skew_s: answer.skew_s,
        processing_ms: Some(millis(answer.processing)),
        transfer_ms: Some(millis(answer.transfer)),
        body_bytes: Some(answer.body_bytes),
    };
    let (status, outcome, message) = judge(target, &path, &answer);
    CheckResult::new(CheckName::Http, status, outcome, message, elapsed)
        .with(Details::Http(details))
}

struct Answer {
    status: u16,
    server: Option<String>,
    via: Option<String>,
    skew_s: Option<i64>,
    processing: Duration,
    transfer: Duration,
    body_bytes: u64,
}

fn judge(target: &Target, path: &str, a: &Answer) -> (Status, Outcome, String) {
    let via = a
        .via
        .as_ref()
        .map(|v| format!(" (via {v})"))
        .unwrap_or_default();
    let code = a.status;
    let status_ok = if target.expect_status.is_empty() {
        code < 500
    } else {
        target.expect_status.contains(&code)
    };
    if !status_ok {
        let expected = if target.expect_status.is_empty() {
            "an answer below 500".to_string()
        } else {
            let codes: Vec<String> = target.expect_status.iter().map(u16::to_string).collect();
            format!("one of {}", codes.join(", "))
        };
        let status = if target.expect_status.is_empty() {
            Status::Warn
        } else {
            Status::Fail
        };
        return (
            status,
            Outcome::UnexpectedStatus,
            format!("GET {path} answered {code}{via}, expected {expected}"),
        );
    }
    if let Some(skew) = a.skew_s {
        if skew.abs() > SKEW_WARN_S {
            let status = if skew.abs() > SKEW_FAIL_S {
                Status::Fail
            } else {
                Status::Warn
            };
            let dir = if skew > 0 { "behind" } else { "ahead of" };
            return (
                status,
                Outcome::ClockSkew,
                format!("this machine's clock is {} s {dir} the server's: tokens fail validation when clocks drift; fix time synchronisation (NTP)", skew.abs()),
            );
        }
    }
    (
        Status::Pass,
        Outcome::Response,
        format!("GET {path} answered {code}{via}: the service is reachable"),
    )
}

async fn exchange<IO>(
    timeout: Duration,
    io: IO,
    target: &Target,
    path: &str,
) -> Result<Answer, Failure>
where
    IO: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let authority = target.authority();
    let fail = |e: hyper::Error, phase: &str| {
        Failure::new(
            crate::net::ending::hyper_outcome(&e),
            format!("{phase} from {authority} failed: {e}"),
        )
    };
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| fail(e, "HTTP/1.1 setup"))?;
    let driver = tokio::spawn(conn);
    let request = http::Request::get(path)
        .header(http::header::HOST, target.host_header())
        .header(http::header::USER_AGENT, crate::net::USER_AGENT)
        .header(http::header::ACCEPT, "*/*")
        .body(Empty::<Bytes>::new())
        .map_err(|e| {
            Failure::new(
                Outcome::ProtocolError,
                format!("cannot build a request for {path}: {e}"),
            )
        })?;
    let sent = Instant::now();
    let timed_out = |what: &str| {
        Failure::new(
            Outcome::Timeout,
            format!(
                "{what} from {authority} within {} s: the server or a proxy is holding the request",
                timeout.as_secs_f64()
            ),
        )
    };
    let response = tokio::time::timeout(timeout, sender.send_request(request))
        .await
        .map_err(|_| timed_out("no HTTP answer"))?
        .map_err(|e| fail(e, "GET"))?;
    let processing = sent.elapsed();
    let local_now = SystemTime::now();
    let header = |name: http::header::HeaderName| {
        response
            .headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let server = header(http::header::SERVER);
    let via = header(http::header::VIA);
    let skew_s = header(http::header::DATE)
        .and_then(|d| httpdate::parse_http_date(&d).ok())
        .map(|server_time| match server_time.duration_since(local_now) {
            Ok(ahead) => -(ahead.as_secs() as i64),
            Err(behind) => behind.duration().as_secs() as i64,
        });
    let status = response.status().as_u16();
    let started = Instant::now();
    let mut body = response.into_body();
    let body_bytes = tokio::time::timeout(timeout, drain(&mut body, BODY_LIMIT))
        .await
        .map_err(|_| timed_out("the body did not arrive"))?
        .map_err(|e| fail(e, "reading the body"))?
        .bytes();
    let transfer = started.elapsed();
    driver.abort();
    Ok(Answer {
        status,
        server,
        via,
        skew_s,
        processing,
        transfer,
        body_bytes,
    })
}
