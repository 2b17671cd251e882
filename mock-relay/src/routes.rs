//! The HTTP side of the relay: `/healthz`, `/echo`, `/stats`, the WebSocket upgrade of the
//! listener channel at `/$hc/<path>`, and Hybrid Connections requests (`/$hc/<entity>` with
//! `sb-hc-action`, handed to `hc`). The faults' response hooks run here before every request's
//! answer, the upgrades included.

use crate::handshake::{switching_protocols, upgrade_required, websocket_key};
use crate::hc;
use crate::response::{json, text, Body};
use crate::state::{ConnCtx, PendingUpgrade, UpgradeKind};
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use relay_protocol::channel::{
    self as protocol, EchoReport, ECHO_PATH, HEALTHZ_PATH, LISTENER_PATH_PREFIX, STATS_PATH,
};
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
        None if hc::is_hc_request(req.uri()) => hc::handle(req, &ctx).await,
        None if hc::is_request(&req, &shared.hc.config) => hc::handle_request(req, &ctx).await,
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

/// Answers the listener channel's WebSocket handshake (RFC 6455 section 4.2) and parks the
/// upgrade for the connection task.
fn upgrade(req: &mut Request<Incoming>, ctx: &ConnCtx, path: String) -> Response<Body> {
    if path.len() <= LISTENER_PATH_PREFIX.len() {
        return text(
            StatusCode::NOT_FOUND,
            "the listener path needs a name: /$hc/NAME\n".into(),
        );
    }
    let key = match websocket_key(req.method(), req.headers()) {
        Ok(key) => key,
        Err(why) => return upgrade_required(why),
    };
    ctx.park(PendingUpgrade {
        on_upgrade: hyper::upgrade::on(req),
        kind: UpgradeKind::Channel { path },
    });
    switching_protocols(&key)
}
