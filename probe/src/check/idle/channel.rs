//! One idle-test connection, spoken to the way its target kind allows: a mock-relay listener
//! channel (hold, push, echo), a WebSocket (ping), or an HTTPS keep-alive connection (request).

use super::setup::SetupError;
use crate::net::body::{drain, Drained};
use crate::net::connect::SocketOptions;
use crate::net::ending::{hyper_outcome, ws_outcome};
use crate::net::tcp_info::{Handle, TcpEvidence};
use crate::net::websocket::listener_path;
use crate::net::websocket::{self, Ws};
use crate::net::{keep_alive, path, NetContext};
use crate::outcome::Outcome;
use crate::seconds::Seconds;
use crate::target::{Target, TargetKind};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::Empty;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use relay_protocol::channel::{ClientMessage, ServerMessage};
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;
use tokio::time::Instant as TokioInstant;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// What happened while a connection was left idle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Watch {
    /// The relay's push arrived.
    Push,
    /// The connection ended by itself (RST, FIN, close_notify), with that outcome.
    Ended(Outcome),
    /// Nothing happened until the deadline.
    Quiet,
}

/// Why a hold for a push was not confirmed.
#[derive(Debug, thiserror::Error)]
pub enum HoldError {
    #[error("the relay did not confirm the hold")]
    Unconfirmed,
    #[error(transparent)]
    Setup(#[from] SetupError),
    #[error("only a relay's listener channel holds")]
    NotARelay,
}

/// An open idle-test connection.
pub enum Channel {
    Ws {
        ws: Box<Ws>,
        relay: bool,
        sequence: u64,
        baseline: Duration,
        tcp: Option<Handle>,
    },
    Http {
        sender: SendRequest<Empty<Bytes>>,
        driver: JoinHandle<Result<(), hyper::Error>>,
        host: String,
        path: String,
        baseline: Duration,
        tcp: Option<Handle>,
        /// An answer's body went past [`BODY_LIMIT`]: the connection cannot be kept alive.
        oversized: bool,
    },
}

/// The most of one answer's body an idle-test request reads; a keep-alive connection needs
/// the whole body read, so a longer one ends the test of that connection.
pub const BODY_LIMIT: u64 = 1024 * 1024;

impl Channel {
    /// Opens a connection and completes its setup; for a relay with `push_after`, asks for one
    /// push after that many seconds. Idle time starts when this returns.
    pub async fn open(
        ctx: &NetContext,
        target: &Target,
        socket: &SocketOptions,
        push_after: Option<Seconds>,
    ) -> Result<Channel, SetupError> {
        let opened = path::open_tls_with(ctx, target, socket)
            .await
            .map_err(SetupError::Open)?;
        let tcp = opened.tcp;
        match &target.kind {
            TargetKind::Relay | TargetKind::Wss => {
                let relay = target.kind == TargetKind::Relay;
                let path = if relay {
                    listener_path()
                } else {
                    target.path.clone()
                };
                let upgrade_started = Instant::now();
                let mut ws = tokio::time::timeout(
                    ctx.timeout,
                    websocket::upgrade(Box::new(opened.stream), &target.authority(), &path, &[]),
                )
                .await
                .map_err(|_| SetupError::UpgradeTimeout)?
                .map_err(SetupError::Upgrade)?;
                if let (true, Some(after)) = (relay, push_after) {
                    tokio::time::timeout(ctx.timeout, hold(&mut ws, after))
                        .await
                        .map_err(|_| SetupError::HoldTimeout)??;
                }
                Ok(Channel::Ws {
                    ws: Box::new(ws),
                    relay,
                    sequence: 0,
                    baseline: upgrade_started.elapsed(),
                    tcp,
                })
            }
            TargetKind::Https { .. } => {
                let (sender, conn) =
                    hyper::client::conn::http1::handshake(TokioIo::new(opened.stream))
                        .await
                        .map_err(SetupError::Http)?;
                let driver = tokio::spawn(conn);
                let mut channel = Channel::Http {
                    sender,
                    driver,
                    host: target.host_header(),
                    path: target.path.clone(),
                    baseline: Duration::ZERO,
                    tcp,
                    oversized: false,
                };
                // One request first, so the connection is in its keep-alive state when idle
                // starts, as a real client's would be; its time is the baseline for later ones.
                let first = Instant::now();
                match channel.exchange(ctx.timeout).await {
                    Outcome::Survived => {
                        if let Channel::Http { baseline, .. } = &mut channel {
                            *baseline = first.elapsed();
                        }
                        Ok(channel)
                    }
                    other => match channel {
                        Channel::Http {
                            oversized: true, ..
                        } => Err(SetupError::EndlessFirstAnswer {
                            outcome: other,
                            limit: BODY_LIMIT,
                        }),
                        _ => Err(SetupError::FirstRequest(other)),
                    },
                }
            }
            TargetKind::Tcp | TargetKind::AdDomain => Err(SetupError::NoApplicationProtocol),
            TargetKind::Hc(_) => Err(SetupError::HybridConnection),
        }
    }

    /// A mock-relay listener channel for `probe watch`: opened without a hold; a failure comes
    /// with its phase's outcome word.
    pub async fn open_listener(
        ctx: &NetContext,
        target: &Target,
    ) -> Result<Channel, (Outcome, String)> {
        let opened = path::open_tls(ctx, target)
            .await
            .map_err(|e| (e.outcome(), e.to_string()))?;
        let tcp = opened.tcp;
        let started = Instant::now();
        let (authority, path) = (target.authority(), listener_path());
        let upgrade = websocket::upgrade(Box::new(opened.stream), &authority, &path, &[]);
        let ws = tokio::time::timeout(ctx.timeout, upgrade)
            .await
            .map_err(|_| {
                (
                    Outcome::Timeout,
                    "the WebSocket upgrade timed out".to_string(),
                )
            })?
            .map_err(|e| {
                (
                    Outcome::UpgradeRefused,
                    format!("the WebSocket upgrade failed: {e}"),
                )
            })?;
        Ok(Channel::Ws {
            ws: Box::new(ws),
            relay: true,
            sequence: 0,
            baseline: started.elapsed(),
            tcp,
        })
    }

    /// Asks a relay's listener channel for one push `after` from now; `Ok` once the relay
    /// confirmed it, within `deadline`.
    pub async fn hold_for(&mut self, after: Duration, deadline: Duration) -> Result<(), HoldError> {
        match self {
            Channel::Ws {
                ws, relay: true, ..
            } => Ok(tokio::time::timeout(deadline, hold(ws, after.into()))
                .await
                .map_err(|_| HoldError::Unconfirmed)??),
            _ => Err(HoldError::NotARelay),
        }
    }

    /// The kernel's view of the connection's TCP socket, where the platform gives one.
    pub fn tcp(&self) -> Option<Handle> {
        match self {
            Channel::Ws { tcp, .. } | Channel::Http { tcp, .. } => *tcp,
        }
    }

    /// How long the connection's setup exchange took: the yardstick for later answers.
    pub fn baseline(&self) -> Duration {
        match self {
            Channel::Ws { baseline, .. } | Channel::Http { baseline, .. } => *baseline,
        }
    }

    /// Waits until `until`, watching for the relay's push or the connection's end.
    /// With `heartbeat`, sends an application heartbeat at that interval meanwhile.
    pub async fn watch(&mut self, until: Instant, heartbeat: Option<Duration>) -> Watch {
        let until = TokioInstant::from_std(until);
        let mut next_beat = heartbeat.map(|h| TokioInstant::now() + h);
        loop {
            let beat_at = next_beat.unwrap_or(until).min(until);
            let event = match self {
                Channel::Ws { ws, .. } => {
                    tokio::select! {
                        msg = ws.next() => Some(ws_event(msg)),
                        _ = tokio::time::sleep_until(beat_at) => None,
                    }
                }
                Channel::Http { driver, .. } => {
                    tokio::select! {
                        ended = &mut *driver => Some(Some(Watch::Ended(match ended {
                            Ok(Ok(())) => Outcome::TlsCloseNotify,
                            Ok(Err(e)) => hyper_outcome(&e),
                            Err(_) => Outcome::Closed,
                        }))),
                        _ = tokio::time::sleep_until(beat_at) => None,
                    }
                }
            };
            match event {
                Some(Some(w)) => return w,
                Some(None) => continue,
                None if TokioInstant::now() >= until => return Watch::Quiet,
                None => {
                    if let Some(h) = heartbeat {
                        next_beat = Some(TokioInstant::now() + h);
                        if let Err(o) = self.heartbeat().await {
                            return Watch::Ended(o);
                        }
                    }
                }
            }
        }
    }

    /// One application round trip (echo, ping or request) within `deadline`: `Survived`, or the
    /// failure outcome (`SilentDrop` when nothing answers, even after the kernel's evidence
    /// extended the wait; see [`super::evidence`]).
    pub async fn exchange(&mut self, deadline: Duration) -> Outcome {
        self.exchange_judged(deadline).await.0
    }

    /// [`Channel::exchange`], with what the kernel said when the answer did not come.
    pub async fn exchange_judged(&mut self, deadline: Duration) -> (Outcome, Option<TcpEvidence>) {
        let tcp = self.tcp();
        super::evidence::answered(self.round_trip(), deadline, tcp).await
    }

    async fn round_trip(&mut self) -> Outcome {
        match self {
            Channel::Ws {
                ws,
                relay,
                sequence,
                ..
            } => {
                *sequence += 1;
                let id = format!("x{sequence}");
                let message = if *relay {
                    Message::text(ClientMessage::Echo { id: id.clone() }.to_json())
                } else {
                    Message::Ping(Bytes::from(id.clone()))
                };
                if let Err(e) = ws.send(message).await {
                    return ws_outcome(&e);
                }
                loop {
                    match ws.next().await {
                        Some(Ok(Message::Text(t))) if *relay => {
                            if let Ok(ServerMessage::Echo { id: got, .. }) =
                                serde_json::from_str(&t)
                            {
                                if got == id {
                                    return Outcome::Survived;
                                }
                            }
                        }
                        Some(Ok(Message::Pong(p))) if !*relay && p.as_ref() == id.as_bytes() => {
                            return Outcome::Survived
                        }
                        Some(Ok(Message::Close(_))) | None => return Outcome::TlsCloseNotify,
                        Some(Ok(_)) => {}
                        Some(Err(e)) => return ws_outcome(&e),
                    }
                }
            }
            Channel::Http {
                sender,
                driver,
                host,
                path,
                oversized,
                ..
            } => {
                if driver.is_finished() {
                    return Outcome::Closed;
                }
                let request = http::Request::get(path.as_str())
                    .header(http::header::HOST, host.as_str())
                    .header(http::header::USER_AGENT, crate::net::USER_AGENT)
                    .body(Empty::<Bytes>::new());
                let Ok(request) = request else {
                    return Outcome::ProtocolError;
                };
                let response = match keep_alive::send(sender, request).await {
                    Ok(r) => r,
                    Err(e) => return hyper_outcome(&e),
                };
                let mut body = response.into_body();
                match drain(&mut body, BODY_LIMIT).await {
                    Ok(Drained::Complete(_)) => Outcome::Survived,
                    Ok(Drained::Truncated(_)) => {
                        *oversized = true;
                        Outcome::ProtocolError
                    }
                    Err(e) => hyper_outcome(&e),
                }
            }
        }
    }

    async fn heartbeat(&mut self) -> Result<(), Outcome> {
        match self {
            // A ping is answered by the peer's WebSocket layer; the pong is read by `watch`.
            Channel::Ws { ws, .. } => ws
                .send(Message::Ping(Bytes::from_static(b"hb")))
                .await
                .map_err(|e| ws_outcome(&e)),
            Channel::Http { .. } => match self.round_trip().await {
                Outcome::Survived => Ok(()),
                other => Err(other),
            },
        }
    }

    /// Closes the connection politely (the test is over).
    pub async fn close(self) {
        match self {
            Channel::Ws { mut ws, .. } => {
                let close = WebSocketStream::close(&mut *ws, None);
                let _ = tokio::time::timeout(Duration::from_millis(200), close).await;
            }
            Channel::Http { driver, .. } => driver.abort(),
        }
    }
}

async fn hold(ws: &mut Ws, after: Seconds) -> Result<(), SetupError> {
    let id = "hold".to_string();
    ws.send(Message::text(
        ClientMessage::Hold {
            id: id.clone(),
            push_after_s: after.as_f64(),
        }
        .to_json(),
    ))
    .await
    .map_err(SetupError::SendHold)?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => match serde_json::from_str(&t) {
                Ok(ServerMessage::Held { .. }) => return Ok(()),
                Ok(ServerMessage::Error { message }) => {
                    return Err(SetupError::HoldRefused(message))
                }
                _ => {}
            },
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(SetupError::ChannelFailed(e)),
            None => return Err(SetupError::ChannelClosed),
        }
    }
}

/// `Some(watch)` when the message ends the watch, `None` to keep watching.
/// What one frame on a relay channel means to a watch (public for the property tests).
pub fn ws_event(
    msg: Option<Result<Message, tokio_tungstenite::tungstenite::Error>>,
) -> Option<Watch> {
    match msg {
        Some(Ok(Message::Text(t))) => match serde_json::from_str(&t) {
            Ok(ServerMessage::Push { .. }) => Some(Watch::Push),
            _ => None,
        },
        Some(Ok(Message::Close(_))) | None => Some(Watch::Ended(Outcome::TlsCloseNotify)),
        Some(Ok(_)) => None,
        Some(Err(e)) => Some(Watch::Ended(ws_outcome(&e))),
    }
}
