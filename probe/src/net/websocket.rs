//! The WebSocket opening handshake (RFC 6455 section 4.1) with hyper, then the socket with
//! tokio-tungstenite. hyper keeps what a refusal carries that a network team needs: the status,
//! its reason phrase (where Azure Relay puts a listener's rejection) and the start of the body.

use super::ending::hyper_outcome;
use super::io::Io;
use super::USER_AGENT;
use crate::outcome::Outcome;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::header::{self, HeaderValue};
use hyper_util::rt::TokioIo;
use relay_protocol::channel::{LISTENER_PATH_PREFIX, MAX_MESSAGE_BYTES};
use std::fmt;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

pub type Ws = WebSocketStream<Io>;

/// How much of a refusal's body is read: enough for a sentence, never a flood.
const REFUSAL_BODY_LIMIT: usize = 4096;

/// Read buffer of each WebSocket, and the most read from TLS at once. tungstenite fills the
/// whole buffer with zeros before its first read, so every connection of the idle ladder keeps
/// all of it resident (its default, 128 KiB, made a ladder of 1,000 cost the probe about
/// 170 MiB). Control messages are far smaller; a larger one grows the buffer as it arrives.
const READ_BUFFER_BYTES: usize = 1024;

/// Frame and message limits: nothing the probe reads is larger than a control message.
pub fn config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES))
}

/// A request header to send with the upgrade; `secret` ones are marked sensitive, so no debug
/// output of the request shows them.
pub struct Header<'a> {
    pub name: &'static str,
    pub value: &'a str,
    pub secret: bool,
}

/// Why an upgrade did not give a WebSocket.
#[derive(Debug, Clone, PartialEq)]
pub enum UpgradeError {
    /// The server answered with another status than 101.
    Refused {
        code: u16,
        /// The reason phrase, when it is not the status's standard one.
        reason: Option<String>,
        /// The first line of the body, cleaned.
        body: Option<String>,
    },
    /// The connection failed or the answer was not a valid upgrade.
    Failed { outcome: Outcome, why: String },
}

impl UpgradeError {
    /// What the server said with a refusal: its own reason phrase, else the body's first line.
    pub fn description(&self) -> Option<String> {
        match self {
            UpgradeError::Refused { reason, body, .. } => reason.clone().or_else(|| body.clone()),
            UpgradeError::Failed { .. } => None,
        }
    }
}

impl fmt::Display for UpgradeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpgradeError::Refused { code, .. } => match self.description() {
                Some(d) => write!(f, "answered {code} ({d})"),
                None => write!(f, "answered {code}"),
            },
            UpgradeError::Failed { why, .. } => f.write_str(why),
        }
    }
}

/// Upgrades `stream` to a WebSocket at `path` (path and query) on `authority`. The caller
/// bounds the wait.
pub async fn upgrade(
    stream: Io,
    authority: &str,
    path: &str,
    headers: &[Header<'_>],
) -> Result<Ws, UpgradeError> {
    upgrade_with_head(stream, authority, path, headers)
        .await
        .map(|(ws, _)| ws)
}

/// [`upgrade`], with the headers of the server's 101 answer (where a relay may announce its
/// own limits).
pub async fn upgrade_with_head(
    stream: Io,
    authority: &str,
    path: &str,
    headers: &[Header<'_>],
) -> Result<(Ws, http::HeaderMap), UpgradeError> {
    let failed = |outcome, why: String| UpgradeError::Failed { outcome, why };
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| failed(hyper_outcome(&e), format!("HTTP/1.1 setup failed: {e}")))?;
    tokio::spawn(conn.with_upgrades());
    let key = generate_key();
    let mut request = http::Request::get(path)
        .header(header::HOST, authority)
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_VERSION, "13")
        .header(header::SEC_WEBSOCKET_KEY, &key)
        .header(header::USER_AGENT, USER_AGENT)
        .body(Empty::<Bytes>::new())
        .map_err(|e| failed(Outcome::ProtocolError, format!("bad upgrade request: {e}")))?;
    for h in headers {
        let mut value = HeaderValue::from_str(h.value).map_err(|_| {
            failed(
                Outcome::ProtocolError,
                format!("the {} header is not a valid header value", h.name),
            )
        })?;
        value.set_sensitive(h.secret);
        request.headers_mut().insert(h.name, value);
    }
    let response = sender.send_request(request).await.map_err(|e| {
        failed(
            hyper_outcome(&e),
            format!("no answer to the WebSocket upgrade: {e}"),
        )
    })?;
    let code = response.status();
    if code != http::StatusCode::SWITCHING_PROTOCOLS {
        let reason = response
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map(|r| clean(&String::from_utf8_lossy(r.as_bytes())))
            .filter(|r| Some(r.as_str()) != code.canonical_reason() && !r.is_empty());
        let body = Limited::new(response.into_body(), REFUSAL_BODY_LIMIT)
            .collect()
            .await
            .ok()
            .map(|b| b.to_bytes())
            .and_then(|b| first_line(&b));
        return Err(UpgradeError::Refused {
            code: code.as_u16(),
            reason,
            body,
        });
    }
    let accepted = response
        .headers()
        .get(header::SEC_WEBSOCKET_ACCEPT)
        .map(|v| v.as_bytes() == derive_accept_key(key.as_bytes()).as_bytes())
        .unwrap_or(false);
    if !accepted {
        return Err(failed(
            Outcome::ProtocolError,
            "the server's 101 answer does not carry the right Sec-WebSocket-Accept".into(),
        ));
    }
    let head = response.headers().clone();
    let upgraded = hyper::upgrade::on(response)
        .await
        .map_err(|e| failed(hyper_outcome(&e), format!("the upgrade failed: {e}")))?;
    let io: Io = Box::new(TokioIo::new(upgraded));
    let ws = WebSocketStream::from_raw_socket(io, Role::Client, Some(config())).await;
    Ok((ws, head))
}

/// The first non-empty line of `body`, cleaned.
fn first_line(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let line = clean(text.lines().map(str::trim).find(|l| !l.is_empty())?);
    (!line.is_empty()).then_some(line)
}

/// Printable characters only, at most 200 of them: a far end's words, made safe to print.
fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_control())
        .take(200)
        .collect::<String>()
        .trim()
        .to_string()
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusal_bodies_give_one_clean_line() {
        assert_eq!(
            first_line(b"\n  no listener is connected\r\nmore\n").as_deref(),
            Some("no listener is connected")
        );
        assert_eq!(first_line(b"a\x1b[31mb").as_deref(), Some("a[31mb"));
        assert_eq!(first_line(b"  \n"), None);
    }
}
