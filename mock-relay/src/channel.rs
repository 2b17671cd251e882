//! The listener channel: a WebSocket on which the client asks to be held, the relay stays
//! completely silent, then pushes one message after the asked time, as the real relay pushes a
//! password reset request down the agent's listener connection.

use crate::protocol::{self, ClientMessage, ServerMessage, MAX_MESSAGE_BYTES};
use crate::state::{ConnCtx, PendingUpgrade};
use crate::stats::Gauge;
use futures_util::{SinkExt, StreamExt};
use hyper_util::rt::TokioIo;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

/// Pending holds one connection may have at once.
const MAX_HOLDS: usize = 64;
/// Longest wait for the upgraded stream and for any one send.
const STEP_LIMIT: Duration = Duration::from_secs(10);

struct Hold {
    id: String,
    held_at: Instant,
    due: Instant,
    _gauge: Gauge,
}

/// Runs the channel until it ends; returns why, for the `closed` log line.
pub(crate) async fn run(upgrade: PendingUpgrade, ctx: &ConnCtx) -> String {
    let upgraded = match tokio::time::timeout(STEP_LIMIT, upgrade.on_upgrade).await {
        Ok(Ok(upgraded)) => upgraded,
        Ok(Err(e)) => return format!("websocket upgrade failed: {e}"),
        Err(_) => return "websocket upgrade timed out".into(),
    };
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES));
    let mut ws =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
    tracing::info!(conn = ctx.id, path = %upgrade.path, "channel opened");
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
                let frame = CloseFrame { code: CloseCode::Away, reason: "server shutting down".into() };
                let _ = tokio::time::timeout(Duration::from_secs(1), ws.close(Some(frame))).await;
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
                    return why;
                }
                shared.stats.pushed();
                tracing::info!(conn = ctx.id, id = %hold.id, idle_s, "pushed");
                continue;
            }
            message = ws.next() => match message {
                None => return "peer closed".into(),
                Some(Err(e)) => return describe(e),
                Some(Ok(message)) => message,
            },
        };
        let answer = match reply {
            Message::Text(text) => match serde_json::from_str::<ClientMessage>(text.as_str()) {
                Ok(ClientMessage::Hold { id, push_after_s }) => {
                    match validate_hold(push_after_s, holds.len(), shared.max_idle) {
                        Err(message) => ServerMessage::Error { message },
                        Ok(after) => {
                            let held = ServerMessage::Held {
                                id: id.clone(),
                                push_after_s,
                                server_time: protocol::now_rfc3339(),
                            };
                            if let Err(why) = send(&mut ws, &held).await {
                                return why;
                            }
                            let held_at = Instant::now();
                            tracing::info!(conn = ctx.id, id = %id, push_after_s, "held");
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
                Ok(ClientMessage::Echo { id }) => ServerMessage::Echo {
                    id,
                    server_time: protocol::now_rfc3339(),
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
                if let Err(e) = tokio::time::timeout(STEP_LIMIT, ws.flush())
                    .await
                    .unwrap_or(Ok(()))
                {
                    return describe(e);
                }
                continue;
            }
            Message::Pong(_) | Message::Frame(_) | Message::Close(_) => continue,
        };
        if let Err(why) = send(&mut ws, &answer).await {
            return why;
        }
    }
}

fn validate_hold(
    push_after_s: f64,
    pending: usize,
    max_idle: Duration,
) -> Result<Duration, String> {
    if !push_after_s.is_finite() || push_after_s < 0.0 {
        return Err(format!(
            "push_after_s must be a number of seconds >= 0, not {push_after_s}"
        ));
    }
    if push_after_s > max_idle.as_secs_f64() {
        return Err(format!(
            "push_after_s {push_after_s} is beyond this relay's --max-idle of {} s",
            max_idle.as_secs_f64()
        ));
    }
    if pending >= MAX_HOLDS {
        return Err(format!(
            "at most {MAX_HOLDS} holds may be pending on one connection"
        ));
    }
    Ok(Duration::from_secs_f64(push_after_s))
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

async fn send<S>(ws: &mut WebSocketStream<S>, message: &ServerMessage) -> Result<(), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    match tokio::time::timeout(STEP_LIMIT, ws.send(Message::text(message.to_json()))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(describe(e)),
        Err(_) => Err(format!("send blocked for {} s", STEP_LIMIT.as_secs())),
    }
}

fn describe(error: WsError) -> String {
    match error {
        WsError::ConnectionClosed | WsError::AlreadyClosed => "peer closed".into(),
        WsError::Capacity(e) => format!("message too large: {e}"),
        WsError::Protocol(e) => format!("websocket protocol error: {e}"),
        WsError::Utf8(e) => format!("invalid UTF-8 in a text message: {e}"),
        WsError::Io(e) => format!("i/o error: {e}"),
        other => format!("websocket error: {other}"),
    }
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
            .contains("--max-idle"));
        assert!(validate_hold(1.0, MAX_HOLDS, max).is_err());
    }
}
