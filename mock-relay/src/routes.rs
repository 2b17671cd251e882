//! The HTTP side of the relay: `/healthz`, `/echo`, `/stats`, and the WebSocket upgrade of the
//! listener channel at `/$hc/<path>`. The faults' response hooks run here before every
//! request's answer, the upgrade included.

use crate::protocol::{
    self, EchoReport, ECHO_PATH, HEALTHZ_PATH, LISTENER_PATH_PREFIX, STATS_PATH,
};
use crate::response::{json, text, Body};
use crate::state::{ConnCtx, PendingUpgrade};
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

pub(crate) async fn handle(
    req: Request<Incoming>,
    ctx: Arc<ConnCtx>,
) -> Result<Response<Body>, Infallible> {
    let shared = &ctx.shared;
    let response = match shared.faults.before_response(&shared.token).await {
        Some(answer) => answer,
        None => route(req, &ctx),
    };
    tracing::debug!(
        conn = ctx.id,
        status = response.status().as_u16(),
        "answered"
    );
    Ok(response)
}

fn route(mut req: Request<Incoming>, ctx: &ConnCtx) -> Response<Body> {
    let path = req.uri().path().to_string();
    if path.starts_with(LISTENER_PATH_PREFIX) {
        return upgrade(&mut req, ctx, path);
    }
    let known = [HEALTHZ_PATH, ECHO_PATH, STATS_PATH].contains(&path.as_str());
    if !known {
        return text(StatusCode::NOT_FOUND, format!("no such endpoint: {path}\n"));
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut resp = text(StatusCode::METHOD_NOT_ALLOWED, "only GET\n".into());
        resp.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return resp;
    }
    match path.as_str() {
        HEALTHZ_PATH => text(StatusCode::OK, "ok\n".into()),
        ECHO_PATH => json(&echo_report(&req, ctx.peer)),
        _ => json(&ctx.shared.stats.snapshot()),
    }
}

fn echo_report(req: &Request<Incoming>, peer: SocketAddr) -> EchoReport {
    EchoReport {
        method: req.method().to_string(),
        path: req
            .uri()
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_else(|| "/".into()),
        headers: req
            .headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_string(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect(),
        peer_addr: peer.to_string(),
        server_time: protocol::now_rfc3339(),
    }
}

/// Answers a WebSocket handshake (RFC 6455 section 4.2) and parks the upgrade for the
/// connection task.
fn upgrade(req: &mut Request<Incoming>, ctx: &ConnCtx, path: String) -> Response<Body> {
    if path.len() <= LISTENER_PATH_PREFIX.len() {
        return text(
            StatusCode::NOT_FOUND,
            "the listener path needs a name: /$hc/NAME\n".into(),
        );
    }
    let headers = req.headers();
    let key = match websocket_key(req.method(), headers) {
        Ok(key) => key,
        Err(why) => {
            let mut resp = text(StatusCode::UPGRADE_REQUIRED, format!("{why}\n"));
            resp.headers_mut()
                .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
            resp.headers_mut().insert(
                header::SEC_WEBSOCKET_VERSION,
                HeaderValue::from_static("13"),
            );
            return resp;
        }
    };
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(req);
    *ctx.upgrade.lock().expect("upgrade slot") = Some(PendingUpgrade { on_upgrade, path });
    ctx.upgraded
        .store(true, std::sync::atomic::Ordering::Relaxed);
    let mut resp = Response::new(Body::default());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(value) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, value);
    }
    resp
}

/// The client's `Sec-WebSocket-Key` if the request is a valid WebSocket handshake.
fn websocket_key(method: &Method, headers: &HeaderMap) -> Result<String, &'static str> {
    let has_token = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
                .unwrap_or(false)
        })
    };
    if method != Method::GET {
        return Err("the listener channel is a WebSocket: use GET");
    }
    if !has_token(header::CONNECTION, "upgrade") || !has_token(header::UPGRADE, "websocket") {
        return Err(
            "the listener channel is a WebSocket: send Connection: Upgrade and Upgrade: websocket",
        );
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(|v| v.as_bytes())
        != Some(b"13")
    {
        return Err("only WebSocket version 13 is supported");
    }
    headers
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 64)
        .map(str::to_string)
        .ok_or("missing Sec-WebSocket-Key")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn accepts_a_valid_handshake_and_names_what_is_missing() {
        let good = headers(&[
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "WebSocket"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ]);
        assert_eq!(
            websocket_key(&Method::GET, &good).unwrap(),
            "dGhlIHNhbXBsZSBub25jZQ=="
        );
        assert!(websocket_key(&Method::POST, &good).is_err());
        let no_upgrade = headers(&[("sec-websocket-version", "13")]);
        assert!(websocket_key(&Method::GET, &no_upgrade)
            .unwrap_err()
            .contains("Upgrade"));
    }
}
