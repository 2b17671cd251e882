//! websocket: the upgrade handshake (tokio-tungstenite) that the relay's listener channel uses;
//! for a mock-relay target, also one echo over its listener channel.

use super::{Ctx, Session};
use crate::net::io::Io;
use crate::net::path::{self, PathError};
use crate::outcome::{Outcome, Status};
use crate::result::{millis, CheckName, CheckResult, Details, WebsocketDetails};
use crate::target::{Target, TargetKind};
use futures_util::{SinkExt, StreamExt};
use mock_relay::protocol::{ClientMessage, ServerMessage, LISTENER_PATH_PREFIX};
use std::time::Instant;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

pub async fn run(ctx: &Ctx<'_>, target: &Target, session: &mut Session) -> CheckResult {
    let net = ctx.net;
    let started = Instant::now();
    // After a failed phase, nothing more goes on the wire for this target.
    if let Some(failed) = session.failed {
        return CheckResult::skipped(CheckName::Websocket, failed);
    }
    let (stream, path) = match target.kind {
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
    let upgrade = tokio::time::timeout(net.timeout, upgrade(stream, target, &path)).await;
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
        Ok(Err(tungstenite::Error::Http(response))) => {
            let code = response.status().as_u16();
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
        Ok(Err(e)) => {
            let outcome = crate::net::ending::ws_outcome(&e);
            return CheckResult::new(
                CheckName::Websocket,
                Status::Fail,
                outcome,
                format!("the WebSocket upgrade of {path} failed: {e}"),
                elapsed,
            )
            .with(Details::Websocket(details));
        }
        Ok(Ok((ws, code))) => {
            details.status_code = Some(code);
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
        Ok(Err((outcome, e))) => CheckResult::new(
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
    use crate::net::connect::ConnectFailure;
    use crate::net::proxy::ConnectRefusal;
    use crate::net::tls::TlsFailure;
    match e {
        PathError::ResolveTimeout
        | PathError::TlsTimeout
        | PathError::Proxy(ConnectRefusal::Timeout)
        | PathError::Connect(_, ConnectFailure::Timeout) => Outcome::Timeout,
        PathError::Connect(_, ConnectFailure::Reset) | PathError::Tls(TlsFailure::Reset) => {
            Outcome::Reset
        }
        _ => Outcome::Closed,
    }
}

/// A fresh listener path, unique per connection, in the relay's `/$hc/<path>` shape.
pub fn listener_path() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{LISTENER_PATH_PREFIX}probe-{}-{nanos:08x}",
        std::process::id()
    )
}

pub type Ws = WebSocketStream<TlsStream<Io>>;

/// Upgrades `stream` to a WebSocket at `path`; returns the socket and the status code (101).
pub async fn upgrade(
    stream: TlsStream<Io>,
    target: &Target,
    path: &str,
) -> Result<(Ws, u16), tungstenite::Error> {
    let mut request = format!("wss://{}{}", target.authority(), path).into_client_request()?;
    request.headers_mut().insert(
        http::header::USER_AGENT,
        http::HeaderValue::from_static(crate::net::USER_AGENT),
    );
    let config = tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(mock_relay::protocol::MAX_MESSAGE_BYTES))
        .max_frame_size(Some(mock_relay::protocol::MAX_MESSAGE_BYTES));
    let (ws, response) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
    Ok((ws, response.status().as_u16()))
}

/// Sends one echo and waits for its answer (the caller bounds the wait).
pub async fn echo_once(ws: &mut Ws) -> Result<(), (Outcome, String)> {
    let id = "echo-check".to_string();
    ws.send(Message::text(
        ClientMessage::Echo { id: id.clone() }.to_json(),
    ))
    .await
    .map_err(|e| (crate::net::ending::ws_outcome(&e), e.to_string()))?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(text))) => match serde_json::from_str::<ServerMessage>(&text) {
                Ok(ServerMessage::Echo { id: got, .. }) if got == id => return Ok(()),
                Ok(_) => continue,
                Err(e) => return Err((Outcome::ProtocolError, format!("unexpected message: {e}"))),
            },
            Some(Ok(Message::Close(_))) | None => {
                return Err((Outcome::Closed, "the relay closed the channel".into()))
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err((crate::net::ending::ws_outcome(&e), e.to_string())),
        }
    }
}
