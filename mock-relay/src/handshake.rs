//! The server side of the WebSocket opening handshake (RFC 6455 section 4.2), shared by the
//! listener channel and Hybrid Connections, and the WebSocket over an upgraded connection.

use crate::response::{text, Body};
use http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode};
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use relay_protocol::channel::MAX_MESSAGE_BYTES;
use std::time::Duration;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::WebSocketStream;

/// An upgraded relay connection, before any WebSocket frame is read.
pub(crate) type Raw = TokioIo<Upgraded>;
/// A WebSocket over an upgraded relay connection.
pub(crate) type Ws = WebSocketStream<Raw>;

/// Longest wait for the upgraded stream and for any one send.
pub(crate) const STEP_LIMIT: Duration = Duration::from_secs(10);
/// Longest wait for a close frame to leave.
const CLOSE_LIMIT: Duration = Duration::from_secs(1);

/// The client's `Sec-WebSocket-Key` if the request is a valid WebSocket handshake, else why not.
pub(crate) fn websocket_key(method: &Method, headers: &HeaderMap) -> Result<String, &'static str> {
    let has_token = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
                .unwrap_or(false)
        })
    };
    if method != Method::GET {
        return Err("this is a WebSocket endpoint: use GET");
    }
    if !has_token(header::CONNECTION, "upgrade") || !has_token(header::UPGRADE, "websocket") {
        return Err(
            "this is a WebSocket endpoint: send Connection: Upgrade and Upgrade: websocket",
        );
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .map(|v| v.as_bytes())
        != Some(b"13")
    {
        return Err("only WebSocket version 13 is supported");
    }
    headers
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty() && k.len() <= 64)
        .map(str::to_string)
        .ok_or("missing Sec-WebSocket-Key")
}

/// `426 Upgrade Required`, naming what the handshake lacked.
pub(crate) fn upgrade_required(why: &str) -> Response<Body> {
    let mut resp = text(StatusCode::UPGRADE_REQUIRED, format!("{why}\n"));
    resp.headers_mut()
        .insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    resp.headers_mut().insert(
        header::SEC_WEBSOCKET_VERSION,
        HeaderValue::from_static("13"),
    );
    resp
}

/// The first subprotocol a handshake's `Sec-WebSocket-Protocol` asks for.
pub(crate) fn first_protocol(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find(|p| !p.is_empty())
        .map(str::to_string)
}

/// [`switching_protocols`], naming `protocol` in `Sec-WebSocket-Protocol` when given.
pub(crate) fn switching_protocols_with(key: &str, protocol: Option<&str>) -> Response<Body> {
    let mut resp = switching_protocols(key);
    if let Some(value) = protocol.and_then(|p| HeaderValue::from_str(p).ok()) {
        resp.headers_mut()
            .insert(header::SEC_WEBSOCKET_PROTOCOL, value);
    }
    resp
}

/// `101 Switching Protocols` for the client's `key`.
pub(crate) fn switching_protocols(key: &str) -> Response<Body> {
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    let mut resp = Response::new(crate::response::empty());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let h = resp.headers_mut();
    h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(value) = HeaderValue::from_str(&accept) {
        h.insert(header::SEC_WEBSOCKET_ACCEPT, value);
    }
    resp
}

/// Read buffer of each WebSocket, and the most read from TLS at once. tungstenite fills the
/// whole buffer with zeros before its first read, so an idle channel keeps all of it resident
/// (its default, 128 KiB, made the relay's held connections cost over 140 KiB each). Control
/// messages are far smaller; a larger message grows the buffer to its length as it arrives.
const READ_BUFFER_BYTES: usize = 1024;

/// Why an answered upgrade gave no connection.
#[derive(Debug, thiserror::Error)]
pub(crate) enum UpgradeError {
    #[error("websocket upgrade failed: {0}")]
    Failed(#[source] hyper::Error),
    #[error("websocket upgrade timed out")]
    TimedOut,
}

/// The WebSocket over an answered upgrade (messages and frames up to [`MAX_MESSAGE_BYTES`]).
pub(crate) async fn open(on_upgrade: OnUpgrade) -> Result<Ws, UpgradeError> {
    open_with_limit(on_upgrade, MAX_MESSAGE_BYTES).await
}

/// The upgraded connection of an answered upgrade (bounded wait).
pub(crate) async fn upgraded(on_upgrade: OnUpgrade) -> Result<Raw, UpgradeError> {
    match tokio::time::timeout(STEP_LIMIT, on_upgrade).await {
        Ok(Ok(upgraded)) => Ok(TokioIo::new(upgraded)),
        Ok(Err(e)) => Err(UpgradeError::Failed(e)),
        Err(_) => Err(UpgradeError::TimedOut),
    }
}

/// The WebSocket over an answered upgrade, messages and frames up to `limit` bytes.
pub(crate) async fn open_with_limit(
    on_upgrade: OnUpgrade,
    limit: usize,
) -> Result<Ws, UpgradeError> {
    let upgraded = upgraded(on_upgrade).await?;
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(Some(limit))
        .max_frame_size(Some(limit));
    Ok(WebSocketStream::from_raw_socket(upgraded, Role::Server, Some(config)).await)
}

/// Sends a close frame (bounded wait); `reason` is cut to fit a control frame.
pub(crate) async fn close(ws: &mut Ws, code: u16, reason: &str) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: fit_close_reason(reason).into(),
    };
    let _ = tokio::time::timeout(CLOSE_LIMIT, ws.close(Some(frame))).await;
}

/// At most 123 bytes (a close frame's payload is 125, two of them the code), cut on a character
/// boundary, control characters replaced.
fn fit_close_reason(reason: &str) -> String {
    let mut out = String::new();
    for c in reason.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > 123 {
            break;
        }
        out.push(c);
    }
    out
}

/// Why a WebSocket ended, for the `closed` log line.
pub(crate) fn describe(error: &WsError) -> String {
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

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        map
    }

    #[test]
    fn accepts_a_valid_handshake_and_names_what_is_missing() {
        let good = headers(&[
            ("connection", "keep-alive, Upgrade"),
            ("upgrade", "WebSocket"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ]);
        assert_eq!(
            websocket_key(&Method::GET, &good).unwrap(),
            "dGhlIHNhbXBsZSBub25jZQ=="
        );
        assert!(websocket_key(&Method::POST, &good).is_err());
        let no_upgrade = headers(&[("sec-websocket-version", "13")]);
        assert!(websocket_key(&Method::GET, &no_upgrade)
            .unwrap_err()
            .contains("Upgrade"));
    }

    #[test]
    fn the_first_requested_protocol_is_echoed() {
        let asked = headers(&[("sec-websocket-protocol", " chat.v2 , chat.v1")]);
        assert_eq!(first_protocol(&asked).as_deref(), Some("chat.v2"));
        assert_eq!(first_protocol(&HeaderMap::new()), None);
        let resp = switching_protocols_with("dGhlIHNhbXBsZSBub25jZQ==", Some("chat.v2"));
        assert_eq!(resp.headers()[header::SEC_WEBSOCKET_PROTOCOL], "chat.v2");
    }

    #[test]
    fn close_reasons_fit_a_control_frame() {
        let long = "é".repeat(100);
        let fitted = fit_close_reason(&long);
        assert!(fitted.len() <= 123 && fitted.chars().all(|c| c == 'é'));
        assert_eq!(fit_close_reason("a\nb"), "a b");
    }
}
