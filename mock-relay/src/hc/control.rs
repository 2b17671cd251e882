//! A listener's control channel: the service sends one JSON text frame per sender
//! (`{"accept":{...}}`) or relayed HTTP request (`{"request":{...}}`, its body inline as one
//! binary message when at most 64 kB), and nothing else unasked: any byte would refresh the idle
//! timers a rehearsal measures. Pings are answered; `renewToken` moves the token's expiry (a bad
//! one closes the channel with 1008, as the service does); a `response` (and the binary message
//! after it when `body` is true) answers a request sent here; any other message is ignored. When
//! the token expires without renewal the channel closes with 1008.

use super::service_idle::ServiceIdle;
use crate::handshake::{self, describe, Ws, STEP_LIMIT};
use crate::hc_state::relayed::{Answer, AnswerError, ControlItem};
use crate::hc_state::{now_unix, shown, Session};
use crate::state::ConnCtx;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use relay_protocol::hc::control::{ControlError, ListenerMessage};
use relay_protocol::hc::{ResponseMessage, CLOSE_ENTITY_GONE, CLOSE_POLICY_VIOLATION};
use relay_protocol::sas;
use std::collections::HashMap;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// Logged for each WebSocket Ping a listener sends on its control channel: the service reported
/// a listener that pinged as disconnected (azure-relay-dotnet issue 103); the SDK's keep-alive
/// is an unsolicited Pong.
pub(crate) const PING_WARNING: &str = "a listener sent a WebSocket Ping on its control channel";

/// Longest wait a token's expiry is turned into (an expiry further out never fires).
const FAR_FUTURE: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// The requests sent down this channel that still wait for their `response`, and the response
/// whose body is the next binary message.
#[derive(Default)]
struct InFlight {
    waiting: HashMap<String, Answer>,
    body_of: Option<ResponseMessage>,
}

impl InFlight {
    fn add(&mut self, id: String, answer: Answer) {
        // Forget requests whose sender stopped waiting (timed out, went away): bounded by the
        // senders waiting now.
        self.waiting.retain(|_, answer| answer.is_open());
        self.waiting.insert(id, answer);
    }

    fn answer(&mut self, response: ResponseMessage, body: Bytes) {
        if let Some(answer) = self.waiting.remove(&response.request_id) {
            answer.give(checked(response).map(|r| (r, crate::response::full(body))));
        }
    }
}

/// Statuses a listener may not answer with: "All status codes ... are permitted, except for
/// 502 "Bad Gateway" and 504 "Gateway Timeout"" (protocol guide, "Responding to requests").
pub(crate) fn checked(response: ResponseMessage) -> Result<ResponseMessage, AnswerError> {
    match response.status_code {
        502 | 504 => Err(AnswerError::ReservedStatus(response.status_code)),
        _ => Ok(response),
    }
}

pub(crate) async fn run(mut ws: Ws, mut session: Session, ctx: &ConnCtx) -> String {
    let shared = &ctx.shared;
    let _gauge = shared.stats.listener();
    let entity = shown(session.target.entity.as_str());
    tracing::info!(conn = ctx.id, %entity, id = %shown(&session.id), "listener opened");
    let mut expires = deadline(session.expiry);
    let mut idle = ServiceIdle::new(shared.hc.config.service_idle_limit);
    let mut in_flight = InFlight::default();
    loop {
        tokio::select! {
            biased;
            _ = shared.token.cancelled() => {
                handshake::close(&mut ws, CLOSE_ENTITY_GONE, "server shutting down").await;
                return "server shutting down".into();
            }
            _ = tokio::time::sleep_until(expires) => {
                handshake::close(&mut ws, CLOSE_POLICY_VIOLATION, "The security token has expired.").await;
                return "listener token expired".into();
            }
            _ = idle.expired() => return idle.forget(ws, session, &shared.token).await,
            item = session.accepts.recv() => {
                // The registration holds the sending side for as long as this session lives.
                let Some(item) = item else { return "listener unregistered".into() };
                let (id, frames) = match item {
                    ControlItem::Accept(accept) => (accept.id.clone(), vec![Message::text(accept.to_json())]),
                    ControlItem::Request(request) => {
                        let id = request.message.id.clone().unwrap_or_default();
                        let mut frames = vec![Message::text(request.message.to_json())];
                        frames.extend(request.body.map(Message::binary));
                        in_flight.add(id.clone(), request.answer);
                        (id, frames)
                    }
                };
                for frame in frames {
                    match tokio::time::timeout(STEP_LIMIT, ws.send(frame)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => return describe(&e),
                        Err(_) => return format!("send blocked for {} s", STEP_LIMIT.as_secs()),
                    }
                }
                idle.touch();
                tracing::info!(conn = ctx.id, %entity, id = %shown(&id), "accept sent");
            }
            message = ws.next() => match message.inspect(|_| idle.touch()) {
                None => return "peer closed".into(),
                Some(Err(e)) => return describe(&e),
                Some(Ok(Message::Text(text))) => match read(text.as_str(), &session, ctx) {
                    Heard::Nothing => {}
                    Heard::Response(response) if response.body => in_flight.body_of = Some(response),
                    Heard::Response(response) => in_flight.answer(response, Bytes::new()),
                    Heard::BadResponse { request_id, why } => {
                        if let Some(answer) = request_id.and_then(|id| in_flight.waiting.remove(&id)) {
                            answer.give(Err(why.into()));
                        }
                    }
                    Heard::Renewed(expiry) => {
                        session.expiry = expiry;
                        expires = deadline(expiry);
                        tracing::info!(conn = ctx.id, %entity, expiry, "listener token renewed");
                    }
                    Heard::Refused(why) => {
                        handshake::close(&mut ws, CLOSE_POLICY_VIOLATION, &why).await;
                        return format!("renewToken refused: {why}");
                    }
                },
                Some(Ok(Message::Binary(body))) => {
                    // A body with no response before it is ignored, as unknown messages are.
                    if let Some(response) = in_flight.body_of.take() {
                        in_flight.answer(response, body);
                    }
                }
                Some(Ok(Message::Ping(_))) => {
                    tracing::warn!(conn = ctx.id, %entity, "{PING_WARNING}");
                    // tungstenite queued the pong; send it now.
                    if let Ok(Err(e)) = tokio::time::timeout(STEP_LIMIT, ws.flush()).await {
                        return describe(&e);
                    }
                }
                Some(Ok(Message::Close(_))) => return "peer closed".into(),
                Some(Ok(_)) => {}
            },
        }
    }
}

/// What a text frame from the listener was.
enum Heard {
    /// Nothing for the service (ignored, as unknown messages are).
    Nothing,
    /// A well-formed `response`.
    Response(ResponseMessage),
    /// A `response` that is not valid, and the request it names when it names one.
    BadResponse {
        request_id: Option<String>,
        why: ControlError,
    },
    /// A good token, valid until this Unix time.
    Renewed(u64),
    /// A bad `renewToken`, and why.
    Refused(String),
}

fn read(text: &str, session: &Session, ctx: &ConnCtx) -> Heard {
    let token = match ListenerMessage::parse(text) {
        Ok(ListenerMessage::RenewToken(renew)) => renew.token,
        Ok(ListenerMessage::Response(response)) => return Heard::Response(response),
        Ok(ListenerMessage::Unknown { .. })
        | Err(ControlError::NotJson | ControlError::NotAnObject) => return Heard::Nothing,
        Err(e @ ControlError::BadMember { .. }) if is_response(&e) => {
            return Heard::BadResponse {
                request_id: named_request(text),
                why: e,
            }
        }
        Err(e @ ControlError::BadMember { .. }) => return Heard::Refused(e.to_string()),
    };
    let config = &ctx.shared.hc.config;
    let target = &session.target;
    match sas::authorize(
        Some(token.expose()),
        &config.keys,
        now_unix(),
        &target.namespace,
        target.entity.as_str(),
    ) {
        Ok(token) => Heard::Renewed(token.expiry()),
        Err(e) => Heard::Refused(e.to_string()),
    }
}

/// Whether a bad member is one of a `response`.
fn is_response(e: &ControlError) -> bool {
    matches!(e, ControlError::BadMember { path, .. } if path.starts_with("response"))
}

/// The `requestId` a malformed `response` names, if it names one as a string.
pub(crate) fn named_request(text: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(text).ok()?;
    value["response"]["requestId"].as_str().map(str::to_string)
}

/// The instant a token expiring at `expiry` (Unix seconds) runs out.
fn deadline(expiry: u64) -> Instant {
    let left = Duration::from_secs(expiry.saturating_sub(now_unix())).min(FAR_FUTURE);
    Instant::now() + left
}
