//! Azure Relay Hybrid Connections, the service side, on the relay's own TLS listeners: a
//! request to `/$hc/<entity>` with `sb-hc-action` comes here (the project's listener channel
//! shares the prefix but sends no `sb-hc-action`). The wire itself (request parsing, SAS,
//! control messages, URLs) is `relay_protocol`'s; this module is the service's behaviour.
//!
//! | file | what |
//! |---|---|
//! | [`listen`] | `sb-hc-action=listen`: the handshake of a listener's control channel |
//! | [`control`] | the control channel: accepts down, `renewToken` up, the token's expiry |
//! | [`connect`] | `sb-hc-action=connect`: a sender, answered once a listener has decided |
//! | [`accept`] | `sb-hc-action=accept`: a listener takes or rejects a sender at its address |
//! | [`rendezvous`] | the joined sender and listener: WebSocket frames relayed both ways |
//! | [`frames`] | WebSocket frames read from a client and written on, payloads streamed |
//! | [`request`] | HTTP request mode: a sender's HTTPS request relayed to a listener |
//! | [`request_channel`] | `sb-hc-action=request`: a listener's rendezvous for one request |
//! | [`headers`] | header names as the service passes them on |
//!
//! What the service knows (registry, targets, refusals) is `crate::hc_state`'s. Where the
//! service's documentation is silent the choices are documented in
//! mock-relay/README.md ("Hybrid Connections").

mod accept;
mod connect;
mod control;
mod frames;
mod headers;
mod listen;
mod rendezvous;
mod request;
mod request_channel;
mod service_idle;

pub(crate) use request::is_request;

use crate::hc_state::{answer, Upgrade};
use crate::response::Body;
use crate::state::ConnCtx;
use http::{Request, Response, Uri};
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use relay_protocol::hc::{Action, HcRequest};

/// Whether a request is for Hybrid Connections: `/$hc/` (or `/%24hc/`) with `sb-hc-action`.
pub(crate) fn is_hc_request(uri: &Uri) -> bool {
    let path = uri.path();
    let prefixed = path.starts_with(relay_protocol::hc::PATH_PREFIX)
        || path
            .get(..7)
            .is_some_and(|head| head.eq_ignore_ascii_case("/%24hc/"));
    prefixed && relay_protocol::hc::has_hc_action(uri.path_and_query().map_or("", |p| p.as_str()))
}

/// Answers a Hybrid Connections request (a sender's answer waits for a listener).
pub(crate) async fn handle(mut req: Request<Incoming>, ctx: &ConnCtx) -> Response<Body> {
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let request = match HcRequest::parse(target) {
        Ok(request) => request,
        Err(e) => {
            tracing::info!(conn = ctx.id, status = e.http_status(), why = %e, "hc refused");
            return answer::refuse(e.http_status(), &e.to_string());
        }
    };
    let action = request.action;
    let tracking = tracking(&req, request.id.as_deref(), request.path.as_str(), ctx);
    if let Some(refusal) = ctx.shared.hc.config.denied(ctx.peer.ip()) {
        tracing::info!(conn = ctx.id, %action, status = refusal.status, "hc refused: ip filter");
        return answer::tracked(refusal.answer(), &tracking.0, &tracking.1);
    }
    let response = match action {
        Action::Listen => listen::handle(&mut req, request, ctx),
        Action::Connect => connect::handle(&mut req, request, ctx).await,
        Action::Accept => accept::handle(&mut req, request, ctx),
        Action::Request => request_channel::handle(&mut req, request, ctx),
    };
    if response.status() != http::StatusCode::SWITCHING_PROTOCOLS {
        let why = response
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
            .unwrap_or_default();
        tracing::info!(conn = ctx.id, %action, status = response.status().as_u16(), %why, "hc refused");
    }
    answer::tracked(response, &tracking.0, &tracking.1)
}

/// The tracking id and system tracker the service names in a refusal: the client's `sb-hc-id`
/// (or a GUID) with a gateway suffix, and `sb://HOST/PATH`.
fn tracking(
    req: &Request<Incoming>,
    id: Option<&str>,
    path: &str,
    ctx: &ConnCtx,
) -> (String, String) {
    let config = &ctx.shared.hc.config;
    let host = crate::hc_state::target::namespace_of(req.headers(), &config.namespace);
    (
        ctx.shared.hc.registry.tracking_id(id),
        format!("sb://{}/{}", host.host(), crate::hc_state::shown(path)),
    )
}

/// Answers a request-mode HTTP request (see [`request`]), refusals carrying tracking ids.
pub(crate) async fn handle_request(req: Request<Incoming>, ctx: &ConnCtx) -> Response<Body> {
    let path = req.uri().path().trim_start_matches('/').to_string();
    let tracking = tracking(&req, None, &path, ctx);
    let response = match ctx.shared.hc.config.denied(ctx.peer.ip()) {
        Some(refusal) => refusal.answer(),
        None => request::handle(req, ctx).await,
    };
    if response
        .extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .is_some()
        && !response.headers().contains_key(http::header::VIA)
    {
        tracing::info!(
            conn = ctx.id,
            status = response.status().as_u16(),
            "hc request refused"
        );
        return answer::tracked(response, &tracking.0, &tracking.1);
    }
    response
}

/// Largest message on a listener's control channel: a `request` or `response` with at most
/// 64 kB of body inline, with room for its headers.
const CONTROL_MESSAGE_BYTES: usize = 1024 * 1024;

/// Runs an upgraded Hybrid Connections connection to its end; returns why it ended.
pub(crate) async fn run(upgrade: Upgrade, on_upgrade: OnUpgrade, ctx: &ConnCtx) -> String {
    // A rendezvous relays frames as they come, a request rendezvous streams them; a control
    // channel reads whole messages.
    match upgrade {
        Upgrade::Sender(end) => match crate::handshake::upgraded(on_upgrade).await {
            Ok(io) => rendezvous::run_sender(io, end, ctx).await,
            Err(why) => why.to_string(),
        },
        Upgrade::Rendezvous(end) => match crate::handshake::upgraded(on_upgrade).await {
            Ok(io) => rendezvous::run_listener(io, end, ctx).await,
            Err(why) => why.to_string(),
        },
        Upgrade::Listener(session) => {
            match crate::handshake::open_with_limit(on_upgrade, CONTROL_MESSAGE_BYTES).await {
                Ok(ws) => control::run(ws, session, ctx).await,
                Err(why) => why.to_string(),
            }
        }
        Upgrade::Request(pending) => match crate::handshake::upgraded(on_upgrade).await {
            Ok(io) => request_channel::run(io, *pending, ctx).await,
            Err(why) => why.to_string(),
        },
    }
}
