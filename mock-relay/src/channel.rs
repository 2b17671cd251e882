//! The listener channel: a WebSocket on which the client asks to be held, the relay stays
//! completely silent, then pushes one message after the asked time, as the real relay pushes a
//! password reset request down the agent's listener connection.

use crate::handshake::{self, describe, Ws, STEP_LIMIT};
use crate::state::ConnCtx;
use crate::stats::Gauge;
use futures_util::{SinkExt, StreamExt};
use hyper::upgrade::OnUpgrade;
use relay_protocol::channel::{self as protocol, ClientMessage, ServerMessage, MAX_ID_BYTES};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// Pending holds one connection may have at once.
const MAX_HOLDS: usize = 64;
/// WebSocket close code 1001, "going away".
const GOING_AWAY: u16 = 1001;

struct Hold {
    id: String,
    held_at: Instant,
    due: Instant,
    _gauge: Gauge,
}

/// Runs the channel until it ends; returns why, for the `closed` log line.
pub(crate) async fn run(on_upgrade: OnUpgrade, path: &str, ctx: &ConnCtx) -> String {
    // Boxed: opening is done before the channel idles, and its state would stay reserved.
    let mut ws = match Box::pin(handshake::open(on_upgrade)).await {
        Ok(ws) => ws,
        Err(why) => return why.to_string(),
    };
    tracing::info!(conn = ctx.id, path = %shown(path), "channel opened");
    let shared = &ctx.shared;
    let mut holds: Vec<Hold> = Vec::new();
    loop {
        let next = holds
            .iter()
            .enumerate()
            .min_by_key(|(_, h)| h.due)
            .map(|(i, h)| (i, h.due));
        // Biased: once shutdown has begun, the channel closes rather than answer what is
        // waiting (a due push still goes before a client message).
        let reply = tokio::select! {
            biased;
            _ = shared.token.cancelled() => {
                Box::pin(handshake::close(&mut ws, GOING_AWAY, "server shutting down")).await;
                return "server shutting down".into();
            }
            _ = sleep_until(next.map(|(_, due)| due)) => {
                let (index, _) = next.expect("a due hold woke the timer");
                let hold = holds.swap_remove(index);
                let idle_s = hold.held_at.elapsed().as_secs_f64();
                let push = ServerMessage::Push {
                    id: hold.id.clone(),
                    idle_s,
                    server_time: protocol::now_rfc3339(),
                };
                if let Err(why) = send(&mut ws, &push).await {
                    return why.to_string();
                }
                shared.stats.pushed();
                tracing::info!(conn = ctx.id, id = %hold.id, idle_s, "pushed");
                continue;
            }
            message = ws.next() => match message {
                None => return "peer closed".into(),
                Some(Err(e)) => return describe(&e),
                Some(Ok(message)) => message,
            },
        };
        let answer = match reply {
            Message::Text(text) => match serde_json::from_str::<ClientMessage>(text.as_str()) {
                Ok(ClientMessage::Hold { id, push_after_s }) => {
                    match validate_id(&id)
                        .and_then(|()| validate_hold(push_after_s, holds.len(), shared.max_idle))
                    {
                        Err(refusal) => ServerMessage::Error {
                            message: refusal.to_string(),
                        },
                        Ok(after) => {
                            let held = ServerMessage::Held {
                                id: id.clone(),
                                push_after_s,
                                server_time: protocol::now_rfc3339(),
                            };
                            if let Err(why) = send(&mut ws, &held).await {
                                return why.to_string();
                            }
                            let held_at = Instant::now();
                            tracing::info!(conn = ctx.id, id = %id, push_after_s, "held");
                            // Exact growth: most channels hold once, and idle for long.
                            holds.reserve_exact(1);
                            holds.push(Hold {
                                id,
                                held_at,
                                due: held_at + after,
                                _gauge: shared.stats.hold(),
                            });
                            continue;
                        }
                    }
                }
                Ok(ClientMessage::Echo { id }) => match validate_id(&id) {
                    Err(refusal) => ServerMessage::Error {
                        message: refusal.to_string(),
                    },
                    Ok(()) => ServerMessage::Echo {
                        id,
                        server_time: protocol::now_rfc3339(),
                    },
                },
                Err(e) => ServerMessage::Error {
                    message: format!("not a listener-channel message: {e}"),
                },
            },
            Message::Binary(_) => ServerMessage::Error {
                message: "binary messages are not part of the listener channel; send JSON text"
                    .into(),
            },
            Message::Ping(_) => {
                // tungstenite queued the pong; send it now rather than with the next message.
                if let Err(e) = Box::pin(tokio::time::timeout(STEP_LIMIT, ws.flush()))
                    .await
                    .unwrap_or(Ok(()))
                {
                    return describe(&e);
                }
                continue;
            }
            Message::Pong(_) | Message::Frame(_) | Message::Close(_) => continue,
        };
        if let Err(why) = send(&mut ws, &answer).await {
            return why.to_string();
        }
    }
}

/// Ids are echoed back and, for a hold, kept until its push: a client may not make the relay
/// hold more than [`MAX_ID_BYTES`] of one.
fn validate_id(id: &str) -> Result<(), Refusal> {
    if id.len() > MAX_ID_BYTES {
        return Err(Refusal::IdTooLong(id.len()));
    }
    Ok(())
}

/// Why the relay refuses a client's `hold` or `echo`; sent back as the `error` message's text.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum Refusal {
    #[error("id is {0} bytes long; at most {MAX_ID_BYTES} are accepted")]
    IdTooLong(usize),
    #[error("push_after_s must be a number of seconds >= 0, not {0}")]
    BadPushAfter(f64),
    #[error("push_after_s {push_after_s} is beyond this relay's --max-idle of {max_idle_s} s")]
    BeyondMaxIdle { push_after_s: f64, max_idle_s: f64 },
    #[error("at most {MAX_HOLDS} holds may be pending on one connection")]
    TooManyHolds,
}

/// A client-chosen path made safe and short for a log line.
fn shown(text: &str) -> String {
    text.chars()
        .take(MAX_ID_BYTES)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn validate_hold(
    push_after_s: f64,
    pending: usize,
    max_idle: Duration,
) -> Result<Duration, Refusal> {
    if !push_after_s.is_finite() || push_after_s < 0.0 {
        return Err(Refusal::BadPushAfter(push_after_s));
    }
    if push_after_s > max_idle.as_secs_f64() {
        return Err(Refusal::BeyondMaxIdle {
            push_after_s,
            max_idle_s: max_idle.as_secs_f64(),
        });
    }
    if pending >= MAX_HOLDS {
        return Err(Refusal::TooManyHolds);
    }
    Ok(Duration::from_secs_f64(push_after_s))
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

/// Why a message could not be sent: the channel ends with it.
#[derive(Debug, thiserror::Error)]
enum SendError {
    #[error("{}", describe(.0))]
    WebSocket(#[source] WsError),
    #[error("send blocked for {} s", STEP_LIMIT.as_secs())]
    Blocked,
}

/// Sends one message, within [`STEP_LIMIT`]. Boxed, as are the close and the flush: what a
/// send holds (a timer, the frame) is needed only while it runs, and would otherwise stay
/// reserved in the channel's future for as long as the channel idles.
fn send<'a>(
    ws: &'a mut Ws,
    message: &ServerMessage,
) -> Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>> {
    let frame = Message::text(message.to_json());
    Box::pin(async move {
        match tokio::time::timeout(STEP_LIMIT, ws.send(frame)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(SendError::WebSocket(e)),
            Err(_) => Err(SendError::Blocked),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_are_bounded() {
        let max = Duration::from_secs(3600);
        assert_eq!(
            validate_hold(1.5, 0, max).unwrap(),
            Duration::from_millis(1500)
        );
        assert!(validate_hold(-1.0, 0, max).is_err());
        assert!(validate_hold(f64::NAN, 0, max).is_err());
        assert!(validate_hold(3601.0, 0, max)
            .unwrap_err()
            .to_string()
            .contains("--max-idle"));
        assert!(validate_hold(1.0, MAX_HOLDS, max).is_err());
    }

    #[test]
    fn ids_are_bounded() {
        assert!(validate_id(&"i".repeat(MAX_ID_BYTES)).is_ok());
        let err = validate_id(&"i".repeat(61_440)).unwrap_err().to_string();
        assert_eq!(err, "id is 61440 bytes long; at most 256 are accepted");
    }
}
