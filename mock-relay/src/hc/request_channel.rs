//! `sb-hc-action=request`: the rendezvous a listener opens at a relayed request's address
//! (protocol guide, "Responding via rendezvous"). When the control channel carried only the
//! address (a body over 64 kB, or of unknown length), the service puts the whole request on it:
//! the `request` message, then the body as one binary message in fragments, streamed as it
//! arrives from the sender. Either way the listener answers on it: a `response`, then, when
//! `body` is true, binary frames up to one with FIN, streamed to the sender as they come (each
//! frame must come within the response timeout: "An ongoing response with multiple binary
//! frames cannot become idle for more than 60 seconds", guide). Nothing is held whole. The
//! rendezvous is then closed (1000).
//!
//! An id unknown, already used, expired, or for another path: 403 "The URL has expired."

use super::frames::{self, Head, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT};
use crate::handshake::{switching_protocols, upgrade_required, websocket_key, Raw, STEP_LIMIT};
use crate::hc_state::answer::refuse;
use crate::hc_state::relayed::{AnswerError, PendingRequest};
use crate::hc_state::{shown, Upgrade};
use crate::response::{self as body, Body};
use crate::state::{ConnCtx, PendingUpgrade, UpgradeKind};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use relay_protocol::hc::control::{ControlError, ListenerMessage};
use relay_protocol::hc::{HcRequest, ResponseMessage, CLOSE_SERVICE_ERROR, QUERY_ID};
use std::time::Duration;
use tokio::io::{AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::mpsc;

/// Normal closure, once the response is in.
const CLOSE_NORMAL: u16 = 1000;
/// Longest `response` message (its headers), read whole.
const MAX_RESPONSE_MESSAGE: usize = 64 * 1024;
/// Body chunks that may wait for a slow sender before the rendezvous stops reading.
const CHUNKS_IN_FLIGHT: usize = 4;

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

/// The two halves of the rendezvous.
struct Channel {
    read: ReadHalf<Raw>,
    write: WriteHalf<Raw>,
}

impl Channel {
    async fn send(&mut self, bytes: &[u8]) -> Result<(), AnswerError> {
        match tokio::time::timeout(STEP_LIMIT, async {
            self.write.write_all(bytes).await?;
            self.write.flush().await
        })
        .await
        {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(AnswerError::Io(e)),
            Err(_) => Err(AnswerError::SendBlocked(STEP_LIMIT)),
        }
    }

    async fn close(&mut self, code: u16, why: &str) {
        let _ = self.send(&frames::close(code, why)).await;
        let _ = tokio::time::timeout(STEP_LIMIT, self.write.shutdown()).await;
    }

    /// The next frame's header, within `wait`; answers pings on the way.
    async fn next(&mut self, wait: Duration, limit: u64) -> Result<Head, AnswerError> {
        loop {
            let read = tokio::time::timeout(wait, frames::read_head(&mut self.read)).await;
            let (head, rsv) = match read {
                Err(_) => return Err(AnswerError::NoResponse),
                Ok(Err(e)) => return Err(AnswerError::Io(e)),
                Ok(Ok(None)) => return Err(AnswerError::ListenerGone),
                Ok(Ok(Some(found))) => found,
            };
            head.check(rsv, limit)
                .map_err(|r| AnswerError::BadFrame(r.why))?;
            if head.opcode == OP_PING || head.opcode == OP_PONG {
                let payload = frames::read_small(&mut self.read, &head).await?;
                if head.opcode == OP_PING {
                    self.send(&frames::control(OP_PONG, &payload)).await?;
                }
                continue;
            }
            if head.opcode == OP_CLOSE {
                return Err(AnswerError::ClosedBeforeAnswer);
            }
            return Ok(head);
        }
    }
}

/// Puts the request on the rendezvous when it was not sent inline, then passes the answer on.
pub(crate) async fn run(io: Raw, mut pending: PendingRequest, ctx: &ConnCtx) -> String {
    let shared = &ctx.shared;
    let (read, write) = tokio::io::split(io);
    let mut channel = Channel { read, write };
    if let Some(sender_body) = pending.body.take() {
        let sent = match channel
            .send(&frames::data(
                true,
                OP_TEXT,
                pending.message.to_json().as_bytes(),
            ))
            .await
        {
            Ok(()) => stream_request(&mut channel, sender_body, ctx).await,
            Err(why) => Err(why),
        };
        if let Err(why) = sent {
            let text = why.to_string();
            channel.close(CLOSE_SERVICE_ERROR, &text).await;
            pending.answer.give(Err(why));
            return format!("request rendezvous: {text}");
        }
    }
    let wait = shared
        .hc
        .config
        .response_timeout
        .saturating_sub(pending.created.elapsed());
    let limit = shared.hc.config.frame_limit as u64;
    let heard = tokio::select! {
        _ = shared.token.cancelled() => Err(AnswerError::ShuttingDown),
        heard = response(&mut channel, wait, limit) => heard,
    };
    let response = match heard.and_then(super::control::checked) {
        Ok(response) => response,
        Err(why) => {
            let text = why.to_string();
            pending.answer.give(Err(why));
            channel.close(CLOSE_SERVICE_ERROR, &text).await;
            return format!("request rendezvous: {text}");
        }
    };
    let status = response.status_code;
    if !response.body {
        pending.answer.give(Ok((response, body::empty())));
        channel.close(CLOSE_NORMAL, "").await;
        return format!("request rendezvous: answered {status}");
    }
    let (chunks, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    if !pending.answer.give(Ok((response, body::streamed(rx)))) {
        channel.close(CLOSE_NORMAL, "the sender is gone").await;
        return "request rendezvous: the sender was gone".into();
    }
    let wait = shared.hc.config.response_timeout;
    match stream_response(&mut channel, &chunks, wait, limit).await {
        Ok(()) => {
            channel.close(CLOSE_NORMAL, "").await;
            format!("request rendezvous: answered {status}")
        }
        Err(why) => {
            let text = why.to_string();
            let _ = chunks.send(Err(std::io::Error::other(why))).await;
            channel.close(CLOSE_SERVICE_ERROR, &text).await;
            format!("request rendezvous: the response body failed: {text}")
        }
    }
}

/// The sender's body as one binary message: each chunk a fragment as it arrives, then an empty
/// final fragment. Each chunk must come within the request timeout.
async fn stream_request(
    channel: &mut Channel,
    mut sender_body: Incoming,
    ctx: &ConnCtx,
) -> Result<(), AnswerError> {
    let mut opcode = OP_BINARY;
    loop {
        let next = tokio::time::timeout(ctx.shared.request_timeout, sender_body.frame())
            .await
            .map_err(|_| AnswerError::SenderBodyStalled)?;
        let data = match next {
            None => break,
            Some(Err(e)) => return Err(AnswerError::SenderBodyFailed(e)),
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) if !data.is_empty() => data,
                _ => continue,
            },
        };
        channel.send(&frames::data(false, opcode, &data)).await?;
        opcode = OP_CONTINUATION;
    }
    channel.send(&frames::data(true, opcode, &[])).await
}

/// Reads the listener's `response` (a text message, at most 64 kB); binary frames before it
/// are skipped.
async fn response(
    channel: &mut Channel,
    wait: Duration,
    limit: u64,
) -> Result<ResponseMessage, AnswerError> {
    let mut text: Vec<u8> = Vec::new();
    let mut in_text = false;
    loop {
        let head = channel.next(wait, limit).await?;
        let is_text = head.opcode == OP_TEXT || (head.opcode == OP_CONTINUATION && in_text);
        if !is_text {
            frames::copy_payload(&mut channel.read, &mut tokio::io::sink(), &head).await?;
            continue;
        }
        if text.len() as u64 + head.len > MAX_RESPONSE_MESSAGE as u64 {
            return Err(AnswerError::ResponseTooLarge(MAX_RESPONSE_MESSAGE));
        }
        frames::copy_payload(&mut channel.read, &mut text, &head).await?;
        in_text = !head.fin;
        if head.fin {
            let message = String::from_utf8_lossy(&text).into_owned();
            text.clear();
            match ListenerMessage::parse(&message) {
                Ok(ListenerMessage::Response(r)) => return Ok(r),
                Err(e @ ControlError::BadMember { .. }) => return Err(e.into()),
                _ => {}
            }
        }
    }
}

/// Streams the binary message after the `response` to the sender, chunk by chunk, up to its
/// final fragment.
async fn stream_response(
    channel: &mut Channel,
    chunks: &mpsc::Sender<std::io::Result<Bytes>>,
    wait: Duration,
    limit: u64,
) -> Result<(), AnswerError> {
    loop {
        let head = channel.next(wait, limit).await?;
        if head.opcode == OP_TEXT {
            return Err(AnswerError::TextInBody);
        }
        let mut done = 0u64;
        while done < head.len {
            let chunk = frames::read_chunk(&mut channel.read, &head, done, frames::CHUNK).await?;
            done += chunk.len() as u64;
            if chunks.send(Ok(Bytes::from(chunk))).await.is_err() {
                return Err(AnswerError::SenderGone);
            }
        }
        if head.fin {
            return Ok(());
        }
    }
}
