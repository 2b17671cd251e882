//! The rendezvous: once a listener has accepted, its accept connection and the sender's
//! connection are joined, and every WebSocket message is relayed to the other side as it came
//! (text as text, binary as binary, each up to 64 KiB; a close with its code and reason). Pings
//! are answered by each side's own end. When one side goes away without a close, the other is
//! closed with 1001, as the service closes a rendezvous whose peer left.
//!
//! The sender's connection task hands its WebSocket to the listener's, which relays both ways
//! and tells the sender's task how it ended, so each connection keeps its own slot (and its own
//! idle guard: faults apply to both).

use crate::handshake::{self, describe, Ws, STEP_LIMIT};
use crate::hc_state::registry::Handover;
use crate::hc_state::{shown, ListenerEnd, SenderEnd};
use crate::state::ConnCtx;
use futures_util::{SinkExt, StreamExt};
use relay_protocol::hc::{CLOSE_ENTITY_GONE, CLOSE_SERVICE_ERROR};
use tokio::sync::oneshot;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// The sender's connection: hands its WebSocket over, then waits for the rendezvous to end.
pub(crate) async fn run_sender(ws: Ws, end: SenderEnd, ctx: &ConnCtx) -> String {
    let (ended, how) = oneshot::channel();
    if let Err(back) = end.handover.send(Handover { ws, ended }) {
        let mut ws = back.ws;
        handshake::close(&mut ws, CLOSE_ENTITY_GONE, "the listener went away").await;
        return "rendezvous: the listener's side was gone".into();
    }
    tracing::info!(conn = ctx.id, id = %shown(&end.id), "sender joined");
    tokio::select! {
        // The listener's task closes both sides on shutdown.
        _ = ctx.shared.token.cancelled() => "server shutting down".into(),
        how = how => how.unwrap_or_else(|_| "rendezvous ended".into()),
    }
}

/// The listener's accept connection: takes the sender's WebSocket and relays both ways.
pub(crate) async fn run_listener(mut ws: Ws, end: ListenerEnd, ctx: &ConnCtx) -> String {
    let shared = &ctx.shared;
    let joined = tokio::select! {
        _ = shared.token.cancelled() => Err("server shutting down"),
        joined = tokio::time::timeout(STEP_LIMIT, end.joined) => match joined {
            Ok(Ok(joined)) => Ok(joined),
            _ => Err("the sender's side never arrived"),
        },
    };
    let handover = match joined {
        Ok(handover) => handover,
        Err(why) => {
            handshake::close(&mut ws, CLOSE_SERVICE_ERROR, why).await;
            return format!("rendezvous: {why}");
        }
    };
    let _gauge = shared.stats.rendezvous();
    tracing::info!(conn = ctx.id, id = %shown(&end.id), "rendezvous open");
    let mut sender = handover.ws;
    let reason = relay(&mut ws, &mut sender, ctx).await;
    let _ = handover.ended.send(reason.clone());
    reason
}

/// Which side a message came from.
#[derive(Clone, Copy)]
enum Side {
    Listener,
    Sender,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Listener => "listener",
            Side::Sender => "sender",
        }
    }
}

/// Relays messages both ways until one side closes or fails; returns why it ended.
async fn relay(listener: &mut Ws, sender: &mut Ws, ctx: &ConnCtx) -> String {
    let token = &ctx.shared.token;
    loop {
        let (side, message) = tokio::select! {
            biased;
            _ = token.cancelled() => {
                handshake::close(listener, CLOSE_ENTITY_GONE, "server shutting down").await;
                handshake::close(sender, CLOSE_ENTITY_GONE, "server shutting down").await;
                return "server shutting down".into();
            }
            m = listener.next() => (Side::Listener, m),
            m = sender.next() => (Side::Sender, m),
        };
        let (from, to) = match side {
            Side::Listener => (&mut *listener, &mut *sender),
            Side::Sender => (&mut *sender, &mut *listener),
        };
        let name = side.name();
        match message {
            None => {
                handshake::close(to, CLOSE_ENTITY_GONE, &format!("the {name} went away")).await;
                return format!("rendezvous: the {name} went away");
            }
            Some(Err(e)) => {
                let why = describe(e);
                handshake::close(to, CLOSE_ENTITY_GONE, &format!("the {name} went away")).await;
                return format!("rendezvous: the {name}'s side failed: {why}");
            }
            Some(Ok(Message::Close(frame))) => {
                let code = frame.as_ref().map(|f| u16::from(f.code));
                forward_close(to, frame).await;
                // Let the closing side's end answer its close.
                let _ = tokio::time::timeout(STEP_LIMIT, from.flush()).await;
                return match code {
                    Some(code) => format!("rendezvous: the {name} closed ({code})"),
                    None => format!("rendezvous: the {name} closed"),
                };
            }
            Some(Ok(Message::Ping(_))) => {
                // The pong is queued on the pinging side's end; send it now.
                if let Ok(Err(e)) = tokio::time::timeout(STEP_LIMIT, from.flush()).await {
                    return format!("rendezvous: the {name}'s side failed: {}", describe(e));
                }
            }
            Some(Ok(Message::Pong(_) | Message::Frame(_))) => {}
            Some(Ok(message)) => match tokio::time::timeout(STEP_LIMIT, to.send(message)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    handshake::close(from, CLOSE_ENTITY_GONE, "the other side went away").await;
                    return format!(
                        "rendezvous: relaying from the {name} failed: {}",
                        describe(e)
                    );
                }
                Err(_) => {
                    handshake::close(from, CLOSE_ENTITY_GONE, "the other side does not read").await;
                    return format!(
                        "rendezvous: relaying from the {name} blocked for {} s",
                        STEP_LIMIT.as_secs()
                    );
                }
            },
        }
    }
}

/// Passes a close frame on as it came (code and reason).
async fn forward_close(to: &mut Ws, frame: Option<CloseFrame>) {
    let _ = tokio::time::timeout(STEP_LIMIT, to.close(frame)).await;
}
