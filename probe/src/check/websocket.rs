//! websocket: the upgrade handshake (tokio-tungstenite) that the relay's listener channel uses;
//! for a mock-relay target, also one echo over its listener channel.

use super::{Check, Ctx, Session};
use crate::net::path::{self, PathError};
use crate::net::websocket::{listener_path, upgrade, UpgradeError, Ws};
use crate::outcome::{Failure, Outcome, Status};
use crate::result::{millis, CheckName, CheckResult, Details, WebsocketDetails};
use crate::target::{Target, TargetKind};
use futures_util::{SinkExt, StreamExt};
use relay_protocol::channel::{ClientMessage, ServerMessage};
use std::time::Instant;
use tokio_tungstenite::tungstenite::Message;

/// This check, as the registry (`result/registry.rs`) finds it.
pub const CHECK: Check = Check {
    name: CheckName::Websocket,
    // A relay's second connection (resolve, connect, proxy, TLS), the upgrade, the echo.
    phase_deadlines: 6,
    failed: "the WebSocket upgrade failed",
    failed_with: &[],
    run: |ctx, target, session| Box::pin(run(ctx, target, session)),
};

pub async fn run(ctx: &Ctx<'_>, target: &Target, session: &mut Session) -> CheckResult {
    let net = ctx.net;
    let started = Instant::now();
    // After a failed phase, nothing more goes on the wire for this target.
    if let Some(failed) = session.failed {
        return CheckResult::skipped(CheckName::Websocket, failed);
    }
    let (stream, path) = match &target.kind {
        // The relay's http check used the first connection: the listener channel gets its own.
        TargetKind::Relay => match path::open_tls(net, target).await {
            Ok(opened) => (opened.stream, listener_path()),
            Err(e) => {
                return CheckResult::new(
                    CheckName::Websocket,
                    Status::Fail,
                    second_connection_outcome(&e),
                    format!("could not open a second connection for the listener channel: {e}"),
                    started.elapsed(),
                )
            }
        },
        _ => match session.tls.take() {
            Some(s) => (s, target.path.clone()),
            None => {
                return CheckResult::skipped(
                    CheckName::Websocket,
                    session.failed.unwrap_or("no TLS session"),
                )
            }
        },
    };
    let mut details = WebsocketDetails {
        path: path.clone(),
        status_code: None,
        echo_ms: None,
    };
    let upgrade = tokio::time::timeout(
        net.timeout,
        upgrade(Box::new(stream), &target.authority(), &path, &[]),
    )
    .await;
    let elapsed = started.elapsed();
    let mut ws = match upgrade {
        Err(_) => {
            return CheckResult::new(
                CheckName::Websocket,
                Status::Fail,
                Outcome::Timeout,
                format!(
                    "no answer to the WebSocket upgrade of {path} within {} s",
                    net.timeout.as_secs_f64()
                ),
                elapsed,
            )
            .with(Details::Websocket(details))
        }
        Ok(Err(UpgradeError::Refused { code, .. })) => {
            details.status_code = Some(code);
            let expected = target.expect_status.contains(&code);
            let status = if expected { Status::Pass } else { Status::Fail };
            let message = if expected {
                format!("the upgrade of {path} was answered {code}, as expected without credentials: upgrades reach the service")
            } else {
                format!("the WebSocket upgrade of {path} was refused with {code}: a proxy or firewall that strips `Upgrade` headers, or blocks WebSockets, breaks the relay listener; allow WebSocket upgrades to this host")
            };
            return CheckResult::new(
                CheckName::Websocket,
                status,
                Outcome::UpgradeRefused,
                message,
                elapsed,
            )
            .with(Details::Websocket(details));
        }
        Ok(Err(UpgradeError::Failed { outcome, why })) => {
            return CheckResult::new(
                CheckName::Websocket,
                Status::Fail,
                outcome,
                format!("the WebSocket upgrade of {path} failed: {why}"),
                elapsed,
            )
            .with(Details::Websocket(details));
        }
        Ok(Ok(ws)) => {
            details.status_code = Some(101);
            ws
        }
    };
    if target.kind != TargetKind::Relay {
        let _ = ws.close(None).await;
        return CheckResult::new(
            CheckName::Websocket,
            Status::Pass,
            Outcome::Upgraded,
            format!("WebSocket upgrade of {path} accepted (101)"),
            elapsed,
        )
        .with(Details::Websocket(details));
    }
    let echo_started = Instant::now();
    let echo = tokio::time::timeout(net.timeout, echo_once(&mut ws)).await;
    let total = started.elapsed();
    match echo {
        Ok(Ok(())) => {
            details.echo_ms = Some(millis(echo_started.elapsed()));
            let _ = ws.close(None).await;
            CheckResult::new(
                CheckName::Websocket,
                Status::Pass,
                Outcome::Upgraded,
                format!("listener channel {path} open and answering echoes"),
                total,
            )
            .with(Details::Websocket(details))
        }
        Ok(Err(Failure { outcome, detail: e })) => CheckResult::new(
            CheckName::Websocket,
            Status::Fail,
            outcome,
            format!("the listener channel {path} opened but the echo failed: {e}"),
            total,
        )
        .with(Details::Websocket(details)),
        Err(_) => CheckResult::new(
            CheckName::Websocket,
            Status::Fail,
            Outcome::Timeout,
            format!(
                "the listener channel {path} opened but no echo came back within {} s",
                net.timeout.as_secs_f64()
            ),
            total,
        )
        .with(Details::Websocket(details)),
    }
}

/// The websocket vocabulary's word for a second connection that could not be opened although
/// the first one could: the path broke in between.
fn second_connection_outcome(e: &PathError) -> Outcome {
    match e.outcome() {
        Outcome::Timeout => Outcome::Timeout,
        Outcome::Reset => Outcome::Reset,
        _ => Outcome::Closed,
    }
}

/// Sends one echo and waits for its answer (the caller bounds the wait).
pub async fn echo_once(ws: &mut Ws) -> Result<(), Failure> {
    let id = "echo-check".to_string();
    ws.send(Message::text(
        ClientMessage::Echo { id: id.clone() }.to_json(),
    ))
    .await
    .map_err(|e| Failure::new(crate::net::ending::ws_outcome(&e), e.to_string()))?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerMessage>(&text) {
                Ok(ServerMessage::Echo { id: got, .. }) if got == id => return Ok(()),
                Ok(_) => continue,
                Err(e) => return Err(Failure::new(Outcome::ProtocolError, format!("unexpected message: {e}"))),
            },
            Some(Ok(Message::Close(_))) | None => {
                return Err(Failure::new(Outcome::Closed, "the relay closed the channel"))
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(Failure::new(crate::net::ending::ws_outcome(&e), e.to_string())),
        }
    }
}
