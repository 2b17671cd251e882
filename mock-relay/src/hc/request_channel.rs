//! `sb-hc-action=request`: the rendezvous a listener opens at a relayed request's address
//! (protocol guide, "Responding via rendezvous"). When the control channel carried only the
//! address (a body over 64 kB, or of unknown length), the service puts the whole request on it:
//! the `request` message, then the body streamed as one binary message in fragments, as it
//! arrives from the sender (never buffered whole). Either way the listener answers on it: a
//! `response`, then its body when `body` is true. The rendezvous is then closed (1000).
//!
//! An id unknown, already used, expired, or for another path: 403 "The URL has expired."

use crate::handshake::{
    self, describe, switching_protocols, upgrade_required, websocket_key, Ws, STEP_LIMIT,
};
use crate::hc_state::answer::refuse;
use crate::hc_state::relayed::PendingRequest;
use crate::hc_state::{shown, Upgrade};
use crate::response::Body;
use crate::state::{ConnCtx, PendingUpgrade, UpgradeKind};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use relay_protocol::hc::control::{ControlError, ListenerMessage};
use relay_protocol::hc::{HcRequest, CLOSE_SERVICE_ERROR, QUERY_ID};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

/// Normal closure, once the response is in.
const CLOSE_NORMAL: u16 = 1000;

pub(crate) fn handle(
    req: &mut Request<Incoming>,
    request: HcRequest,
    ctx: &ConnCtx,
) -> Response<Body> {
    let Some(id) = request.id.as_deref() else {
        return refuse(400, &format!("query parameter {QUERY_ID} is missing"));
    };
    let key = match websocket_key(req.method(), req.headers()) {
        Ok(key) => key,
        Err(why) => return upgrade_required(why),
    };
    let service = &ctx.shared.hc;
    let expired = || refuse(403, "The URL has expired.");
    let Some(pending) = service.registry.take_request(id) else {
        return expired();
    };
    if pending.created.elapsed() > service.config.response_timeout
        || pending.path_key != request.path.as_str().to_lowercase()
        || !pending.answer.is_open()
    {
        return expired();
    }
    tracing::info!(conn = ctx.id, id = %shown(id), "request rendezvous");
    ctx.park(PendingUpgrade {
        on_upgrade: hyper::upgrade::on(req),
        kind: UpgradeKind::Hc(Upgrade::Request(Box::new(pending))),
    });
    switching_protocols(&key)
}

/// Puts the request on the rendezvous when it was not sent inline, then waits for the answer.
pub(crate) async fn run(mut ws: Ws, mut pending: PendingRequest, ctx: &ConnCtx) -> String {
    let shared = &ctx.shared;
    if let Some(body) = pending.body.take() {
        let message = Message::text(pending.message.to_json());
        if let Err(why) = send(&mut ws, message).await {
            return format!("request rendezvous: {why}");
        }
        if let Err(why) = stream_body(&mut ws, body, ctx).await {
            handshake::close(&mut ws, CLOSE_SERVICE_ERROR, &why).await;
            pending.answer.give(Err(why.clone()));
            return format!("request rendezvous: {why}");
        }
    }
    let left = shared
        .hc
        .config
        .response_timeout
        .saturating_sub(pending.created.elapsed());
    let heard = tokio::select! {
        _ = shared.token.cancelled() => Err("server shutting down".to_string()),
        heard = tokio::time::timeout(left, answer(&mut ws)) => heard.unwrap_or_else(|_| Err("no response in time".into())),
    };
    match heard {
        Ok(answer) => {
            let status = answer.0.status_code;
            pending
                .answer
                .give(super::control::checked(answer.0).map(|r| (r, answer.1)));
            handshake::close(&mut ws, CLOSE_NORMAL, "").await;
            format!("request rendezvous: answered {status}")
        }
        Err(why) => {
            pending.answer.give(Err(why.clone()));
            handshake::close(&mut ws, CLOSE_SERVICE_ERROR, &why).await;
            format!("request rendezvous: {why}")
        }
    }
}

async fn send(ws: &mut Ws, message: Message) -> Result<(), String> {
    match tokio::time::timeout(STEP_LIMIT, ws.send(message)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(describe(e)),
        Err(_) => Err(format!("send blocked for {} s", STEP_LIMIT.as_secs())),
    }
}

/// The sender's body as one binary message: each chunk a fragment as it arrives, then an empty
/// final fragment. Each chunk must come within the request timeout.
async fn stream_body(ws: &mut Ws, mut body: Incoming, ctx: &ConnCtx) -> Result<(), String> {
    let mut opcode = OpCode::Data(Data::Binary);
    loop {
        let next = tokio::time::timeout(ctx.shared.request_timeout, body.frame())
            .await
            .map_err(|_| "the sender's body stalled".to_string())?;
        let data = match next {
            None => break,
            Some(Err(e)) => return Err(format!("the sender's body failed: {e}")),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) if !data.is_empty() => data,
                _ => continue,
            },
        };
        send(ws, Message::Frame(Frame::message(data, opcode, false))).await?;
        opcode = OpCode::Data(Data::Continue);
    }
    send(
        ws,
        Message::Frame(Frame::message(Bytes::new(), opcode, true)),
    )
    .await
}

/// Reads the listener's `response` and, when `body` is true, the binary message after it.
async fn answer(ws: &mut Ws) -> Result<(relay_protocol::hc::ResponseMessage, Bytes), String> {
    let mut response = None;
    loop {
        match ws.next().await {
            None | Some(Ok(Message::Close(_))) => {
                return Err("the listener closed the rendezvous before it answered".into())
            }
            Some(Err(e)) => return Err(describe(e)),
            Some(Ok(Message::Text(text))) if response.is_none() => {
                match ListenerMessage::parse(text.as_str()) {
                    Ok(ListenerMessage::Response(r)) if r.body => response = Some(r),
                    Ok(ListenerMessage::Response(r)) => return Ok((r, Bytes::new())),
                    Err(e @ ControlError::BadMember { .. }) => return Err(e.to_string()),
                    _ => {}
                }
            }
            Some(Ok(Message::Binary(body))) => {
                if let Some(r) = response.take() {
                    return Ok((r, body));
                }
            }
            Some(Ok(Message::Ping(_))) => {
                let _ = tokio::time::timeout(STEP_LIMIT, ws.flush()).await;
            }
            Some(Ok(_)) => {}
        }
    }
}
