//! The rendezvous: once a listener has accepted, its accept connection and the sender's
//! connection are joined, and every WebSocket frame is relayed to the other side as it came
//! (text, binary and continuation frames with their FIN bit, so a message of any size crosses
//! in its own fragments, streamed: see [`super::frames`]; a close with its code and reason).
//! Pings are answered by the relay on the pinging side (pongs are not passed on). A frame over
//! `--hc-frame-limit`, or one a client may not send, closes its side with 1009 or 1002 and
//! the other with 1001. When one side goes away without a close, the other is closed with 1001,
//! as the service closes a rendezvous whose peer left.
//!
//! The sender's connection task hands its connection to the listener's, which relays both ways
//! and tells the sender's task how it ended, so each connection keeps its own slot (and its own
//! idle guard: faults apply to both).

use super::frames::{self, Head, OP_CLOSE, OP_PING, OP_PONG};
use crate::handshake::{Raw, STEP_LIMIT};
use crate::hc_state::registry::Handover;
use crate::hc_state::{shown, ListenerEnd, SenderEnd};
use crate::state::ConnCtx;
use relay_protocol::hc::{CLOSE_ENTITY_GONE, CLOSE_SERVICE_ERROR};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{oneshot, Mutex};

/// How long the other direction may take to pass the answering close on, once one side closed.
const CLOSE_LIMIT: Duration = Duration::from_secs(1);

type Writer = Arc<Mutex<WriteHalf<Raw>>>;

/// The sender's connection: hands its connection over, then waits for the rendezvous to end.
pub(crate) async fn run_sender(io: Raw, end: SenderEnd, ctx: &ConnCtx) -> String {
    let (ended, how) = oneshot::channel();
    if let Err(back) = end.handover.send(Handover { io, ended }) {
        let mut io = back.io;
        let _ = tokio::time::timeout(
            STEP_LIMIT,
            io.write_all(&frames::close(CLOSE_ENTITY_GONE, "the listener went away")),
        )
        .await;
        return "rendezvous: the listener's side was gone".into();
    }
    tracing::info!(conn = ctx.id, id = %shown(&end.id), "sender joined");
    tokio::select! {
        // The listener's task closes both sides on shutdown.
        _ = ctx.shared.token.cancelled() => "server shutting down".into(),
        how = how => how.unwrap_or_else(|_| "rendezvous ended".into()),
    }
}

/// The listener's accept connection: takes the sender's connection and relays both ways.
pub(crate) async fn run_listener(mut io: Raw, end: ListenerEnd, ctx: &ConnCtx) -> String {
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
            let _ = tokio::time::timeout(
                STEP_LIMIT,
                io.write_all(&frames::close(CLOSE_SERVICE_ERROR, why)),
            )
            .await;
            return format!("rendezvous: {why}");
        }
    };
    let _gauge = shared.stats.rendezvous();
    tracing::info!(conn = ctx.id, id = %shown(&end.id), "rendezvous open");
    let reason = relay(io, handover.io, ctx).await;
    let _ = handover.ended.send(reason.clone());
    reason
}

/// Which side a frame came from.
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

/// Relays frames both ways until one side closes or fails; returns why it ended.
async fn relay(listener: Raw, sender: Raw, ctx: &ConnCtx) -> String {
    let limit = ctx.shared.hc.config.frame_limit as u64;
    let (listener_read, listener_write) = tokio::io::split(listener);
    let (sender_read, sender_write) = tokio::io::split(sender);
    let listener_write: Writer = Arc::new(Mutex::new(listener_write));
    let sender_write: Writer = Arc::new(Mutex::new(sender_write));
    let from_listener = one_way(
        Side::Listener,
        listener_read,
        listener_write.clone(),
        sender_write.clone(),
        limit,
    );
    let from_sender = one_way(
        Side::Sender,
        sender_read,
        sender_write.clone(),
        listener_write.clone(),
        limit,
    );
    tokio::pin!(from_listener, from_sender);
    let (reason, rest) = tokio::select! {
        biased;
        _ = ctx.shared.token.cancelled() => {
            for writer in [&listener_write, &sender_write] {
                send(writer, &frames::close(CLOSE_ENTITY_GONE, "server shutting down")).await;
            }
            return "server shutting down".into();
        }
        reason = &mut from_listener => (reason, Some(from_sender)),
        reason = &mut from_sender => (reason, None),
    };
    // Let the other direction pass the answering close on.
    match rest {
        Some(other) => {
            let _ = tokio::time::timeout(CLOSE_LIMIT, other).await;
        }
        None => {
            let _ = tokio::time::timeout(CLOSE_LIMIT, from_listener).await;
        }
    }
    for writer in [&listener_write, &sender_write] {
        let _ = tokio::time::timeout(CLOSE_LIMIT, writer.lock().await.shutdown()).await;
    }
    reason
}

/// Writes `bytes` to a side (bounded); false when that failed.
async fn send(writer: &Writer, bytes: &[u8]) -> bool {
    let mut w = writer.lock().await;
    matches!(
        tokio::time::timeout(STEP_LIMIT, async {
            w.write_all(bytes).await?;
            w.flush().await
        })
        .await,
        Ok(Ok(()))
    )
}

/// Relays the frames `side` sends to the other side until it closes, goes away or fails.
async fn one_way(
    side: Side,
    mut from: ReadHalf<Raw>,
    back: Writer,
    to: Writer,
    limit: u64,
) -> String {
    let name = side.name();
    loop {
        let (head, rsv) = match frames::read_head(&mut from).await {
            Ok(Some(found)) => found,
            Ok(None) => {
                send(
                    &to,
                    &frames::close(CLOSE_ENTITY_GONE, &format!("the {name} went away")),
                )
                .await;
                return format!("rendezvous: the {name} went away");
            }
            Err(e) => {
                send(
                    &to,
                    &frames::close(CLOSE_ENTITY_GONE, &format!("the {name} went away")),
                )
                .await;
                return format!("rendezvous: the {name}'s side failed: i/o error: {e}");
            }
        };
        if let Err(refused) = head.check(rsv, limit) {
            send(&back, &frames::close(refused.code, &refused.why)).await;
            send(
                &to,
                &frames::close(CLOSE_ENTITY_GONE, "the other side went away"),
            )
            .await;
            return format!(
                "rendezvous: the {name} sent a frame refused ({}): {}",
                refused.code, refused.why
            );
        }
        match head.opcode {
            OP_PING | OP_PONG | OP_CLOSE => {
                let payload = match frames::read_small(&mut from, &head).await {
                    Ok(payload) => payload,
                    Err(e) => {
                        return format!("rendezvous: the {name}'s side failed: i/o error: {e}")
                    }
                };
                match head.opcode {
                    OP_PING => {
                        send(&back, &frames::control(OP_PONG, &payload)).await;
                    }
                    OP_CLOSE => {
                        send(&to, &frames::control(OP_CLOSE, &payload)).await;
                        return match frames::close_code(&payload) {
                            Some(code) => format!("rendezvous: the {name} closed ({code})"),
                            None => format!("rendezvous: the {name} closed"),
                        };
                    }
                    _ => {}
                }
            }
            _ => {
                // The whole frame under one lock: a pong for the other side never lands
                // inside it.
                let mut w = to.lock().await;
                let copied = tokio::time::timeout(STEP_LIMIT.max(Duration::from_secs(60)), async {
                    w.write_all(&Head::encode(head.fin, head.opcode, head.len))
                        .await?;
                    frames::copy_payload(&mut from, &mut *w, &head).await?;
                    w.flush().await
                })
                .await;
                drop(w);
                match copied {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        send(
                            &back,
                            &frames::close(CLOSE_ENTITY_GONE, "the other side went away"),
                        )
                        .await;
                        return format!(
                            "rendezvous: relaying from the {name} failed: i/o error: {e}"
                        );
                    }
                    Err(_) => {
                        send(
                            &back,
                            &frames::close(CLOSE_ENTITY_GONE, "the other side does not read"),
                        )
                        .await;
                        return format!("rendezvous: relaying from the {name} blocked");
                    }
                }
            }
        }
    }
}
