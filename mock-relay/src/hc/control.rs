//! A listener's control channel: the service sends one JSON text frame per sender
//! (`{"accept":{...}}`) and nothing else unasked: any byte would refresh the idle timers a
//! rehearsal measures. Pings are answered; `renewToken` moves the token's expiry (a bad one
//! closes the channel with 1008, as the service does); any other message is ignored. When the
//! token expires without renewal the channel closes with 1008.

use super::service_idle::ServiceIdle;
use crate::handshake::{self, describe, Ws, STEP_LIMIT};
use crate::hc_state::{now_unix, shown, Session};
use crate::state::ConnCtx;
use futures_util::{SinkExt, StreamExt};
use relay_protocol::hc::control::{ControlError, ListenerMessage};
use relay_protocol::hc::{CLOSE_ENTITY_GONE, CLOSE_POLICY_VIOLATION};
use relay_protocol::sas;
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// Logged for each WebSocket Ping a listener sends on its control channel: the service reported
/// a listener that pinged as disconnected (azure-relay-dotnet issue 103); the SDK's keep-alive
/// is an unsolicited Pong.
pub(crate) const PING_WARNING: &str = "a listener sent a WebSocket Ping on its control channel";

/// Longest wait a token's expiry is turned into (an expiry further out never fires).
const FAR_FUTURE: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

pub(crate) async fn run(mut ws: Ws, mut session: Session, ctx: &ConnCtx) -> String {
    let shared = &ctx.shared;
    let _gauge = shared.stats.listener();
    let entity = shown(session.target.entity.as_str());
    tracing::info!(conn = ctx.id, %entity, id = %shown(&session.id), "listener opened");
    let mut expires = deadline(session.expiry);
    let mut idle = ServiceIdle::new(shared.hc.config.service_idle_limit);
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
            accept = session.accepts.recv() => {
                // The registration holds the sending side for as long as this session lives.
                let Some(accept) = accept else { return "listener unregistered".into() };
                match tokio::time::timeout(STEP_LIMIT, ws.send(Message::text(accept.to_json()))).await {
                    Ok(Ok(())) => {
                        idle.touch();
                        tracing::info!(conn = ctx.id, %entity, id = %shown(&accept.id), "accept sent");
                    }
                    Ok(Err(e)) => return describe(e),
                    Err(_) => return format!("send blocked for {} s", STEP_LIMIT.as_secs()),
                }
            }
            message = ws.next() => match message.inspect(|_| idle.touch()) {
                None => return "peer closed".into(),
                Some(Err(e)) => return describe(e),
                Some(Ok(Message::Text(text))) => match renewal(text.as_str(), &session, ctx) {
                    Renewal::NotOne => {}
                    Renewal::Renewed(expiry) => {
                        session.expiry = expiry;
                        expires = deadline(expiry);
                        tracing::info!(conn = ctx.id, %entity, expiry, "listener token renewed");
                    }
                    Renewal::Refused(why) => {
                        handshake::close(&mut ws, CLOSE_POLICY_VIOLATION, &why).await;
                        return format!("renewToken refused: {why}");
                    }
                },
                Some(Ok(Message::Ping(_))) => {
                    tracing::warn!(conn = ctx.id, %entity, "{PING_WARNING}");
                    // tungstenite queued the pong; send it now.
                    if let Ok(Err(e)) = tokio::time::timeout(STEP_LIMIT, ws.flush()).await {
                        return describe(e);
                    }
                }
                Some(Ok(Message::Close(_))) => return "peer closed".into(),
                Some(Ok(_)) => {}
            },
        }
    }
}

/// What a text frame from the listener was.
enum Renewal {
    /// Not a `renewToken` (ignored, as unknown messages are).
    NotOne,
    /// A good token, valid until this Unix time.
    Renewed(u64),
    /// A bad one, and why.
    Refused(String),
}

fn renewal(text: &str, session: &Session, ctx: &ConnCtx) -> Renewal {
    let token = match ListenerMessage::parse(text) {
        Ok(ListenerMessage::RenewToken(renew)) => renew.token,
        Ok(ListenerMessage::Unknown { .. })
        | Err(ControlError::NotJson | ControlError::NotAnObject) => return Renewal::NotOne,
        Err(e @ ControlError::BadMember { .. }) => return Renewal::Refused(e.to_string()),
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
        Ok(token) => Renewal::Renewed(token.expiry()),
        Err(e) => Renewal::Refused(e.to_string()),
    }
}

/// The instant a token expiring at `expiry` (Unix seconds) runs out.
fn deadline(expiry: u64) -> Instant {
    let left = Duration::from_secs(expiry.saturating_sub(now_unix())).min(FAR_FUTURE);
    Instant::now() + left
}
