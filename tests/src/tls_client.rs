//! Test clients for the mock-relay over real sockets: rustls with the relay's CA, a minimal
//! HTTP/1.1 GET, the WebSocket listener channel, and telling apart how a connection ended.

use futures_util::{SinkExt, StreamExt};
use relay_protocol::channel::{ClientMessage, ServerMessage, MAX_MESSAGE_BYTES};
use rustls::pki_types::ServerName;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{timeout, Instant};
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

/// Bound on every single network step of these helpers.
pub const STEP: Duration = Duration::from_secs(10);

/// A rustls client configuration trusting only `ca_pem` (ring provider, ALPN http/1.1).
pub fn client_config(ca_pem: &str) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.expect("CA PEM")).expect("add CA");
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// TCP connect plus TLS handshake for `name` (a DNS name or an IP address).
pub async fn connect_tls(
    addr: SocketAddr,
    ca_pem: &str,
    name: &str,
) -> io::Result<TlsStream<TcpStream>> {
    let tcp = timeout(STEP, TcpStream::connect(addr)).await??;
    tcp.set_nodelay(true)?;
    let name = ServerName::try_from(name.to_string())
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let connector = tokio_rustls::TlsConnector::from(client_config(ca_pem));
    timeout(STEP, connector.connect(name, tcp))
        .await
        .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "tls handshake timed out"))?
}

/// The rustls error inside an I/O error from a handshake, if any.
pub fn rustls_error(error: &io::Error) -> Option<&rustls::Error> {
    error
        .get_ref()
        .and_then(|e| e.downcast_ref::<rustls::Error>())
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `METHOD PATH` with `Connection: close` and reads the response to the end.
pub async fn request<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    method: &str,
    path: &str,
    extra_headers: &[(&str, &str)],
) -> io::Result<HttpResponse> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (k, v) in extra_headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    timeout(STEP, stream.write_all(head.as_bytes())).await??;
    let mut raw = Vec::new();
    match timeout(STEP, stream.read_to_end(&mut raw)).await? {
        Ok(_) => {}
        // The relay closes with close_notify; a missing one only matters to the fault tests.
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e),
    }
    parse_response(&raw)
}

/// Sends a request head the server refuses before reading it all (it answers, then closes
/// with bytes unread, which resets the connection), and returns the answer that came first.
///
/// A write cut short by that close is expected, and so is the reset after the answer: the
/// kernel hands over the answer's bytes before it reports the reset.
pub async fn refused_request<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    head: &str,
) -> io::Result<HttpResponse> {
    let _ = timeout(STEP, stream.write_all(head.as_bytes())).await;
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match timeout(STEP, stream.read(&mut buf)).await? {
            Ok(0) | Err(_) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> io::Result<HttpResponse> {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| io::Error::other(format!("no response head in {text:?}")))?;
    let mut lines = head.lines();
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line {status_line:?}")))?;
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Ok(HttpResponse {
        status,
        headers,
        body: body.to_string(),
    })
}

/// `GET PATH` over a fresh TLS connection to `localhost`.
pub async fn https_get(addr: SocketAddr, ca_pem: &str, path: &str) -> io::Result<HttpResponse> {
    let mut tls = connect_tls(addr, ca_pem, "localhost").await?;
    request(&mut tls, "GET", path, &[]).await
}

/// `GET PATH` over a fresh plain TCP connection.
pub async fn http_get(addr: SocketAddr, path: &str) -> io::Result<HttpResponse> {
    let mut tcp = timeout(STEP, TcpStream::connect(addr)).await??;
    request(&mut tcp, "GET", path, &[]).await
}

/// Opens the listener channel at `/$hc/NAME` over an established stream.
pub async fn open_channel<S>(stream: S, name: &str) -> Result<WebSocketStream<S>, WsError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let url = format!("wss://localhost/$hc/{name}");
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES))
        .max_frame_size(Some(MAX_MESSAGE_BYTES));
    let (ws, _) = timeout(
        STEP,
        tokio_tungstenite::client_async_with_config(url, stream, Some(config)),
    )
    .await
    .map_err(|_| WsError::Io(io::Error::new(io::ErrorKind::TimedOut, "ws handshake")))??;
    Ok(ws)
}

/// The listener channel over TLS to `localhost` at `addr`.
pub async fn tls_channel(
    addr: SocketAddr,
    ca_pem: &str,
    name: &str,
) -> WebSocketStream<TlsStream<TcpStream>> {
    let tls = connect_tls(addr, ca_pem, "localhost")
        .await
        .unwrap_or_else(|e| panic!("tls to {addr}: {e}"));
    open_channel(tls, name)
        .await
        .unwrap_or_else(|e| panic!("channel to {addr}: {e}"))
}

/// Sends one client message.
pub async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    message: &ClientMessage,
) {
    timeout(STEP, ws.send(Message::text(message.to_json())))
        .await
        .expect("send in time")
        .expect("send");
}

/// Sends a hold and returns once `held` came back (the instant it did).
pub async fn hold<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    id: &str,
    push_after_s: f64,
) -> Instant {
    send(
        ws,
        &ClientMessage::Hold {
            id: id.into(),
            push_after_s,
        },
    )
    .await;
    match next_message(ws, STEP).await {
        Ok(Some(ServerMessage::Held { id: held, .. })) if held == id => Instant::now(),
        other => panic!("expected held for {id}, got {other:?}"),
    }
}

/// The next protocol message within `limit`: `Ok(None)` on silence, `Err` on an ending.
pub async fn next_message<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    limit: Duration,
) -> Result<Option<ServerMessage>, Ending> {
    let deadline = Instant::now() + limit;
    loop {
        let Ok(next) = tokio::time::timeout_at(deadline, ws.next()).await else {
            return Ok(None);
        };
        match next {
            Some(Ok(Message::Text(text))) => {
                return Ok(Some(
                    serde_json::from_str(text.as_str()).expect("server message JSON"),
                ))
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(other)) => return Err(Ending::Other(format!("{other:?}"))),
            Some(Err(e)) => return Err(Ending::from_ws(e)),
            None => return Err(Ending::CleanEof),
        }
    }
}

/// How a connection ended, as the client saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// TCP RST.
    Reset,
    /// TCP FIN without a TLS close_notify.
    FinWithoutCloseNotify,
    /// A clean end of stream: TLS close_notify then FIN (or FIN on plain TCP).
    CleanEof,
    /// Nothing at all within the observation window.
    Silent,
    Other(String),
}

impl Ending {
    pub fn from_ws(error: WsError) -> Ending {
        match error {
            WsError::Io(e) => Ending::from_io(&e),
            WsError::Protocol(
                tokio_tungstenite::tungstenite::error::ProtocolError::ResetWithoutClosingHandshake,
            )
            | WsError::ConnectionClosed
            | WsError::AlreadyClosed => Ending::CleanEof,
            other => Ending::Other(other.to_string()),
        }
    }

    pub fn from_io(error: &io::Error) -> Ending {
        match error.kind() {
            io::ErrorKind::ConnectionReset => Ending::Reset,
            io::ErrorKind::UnexpectedEof => Ending::FinWithoutCloseNotify,
            _ => Ending::Other(error.to_string()),
        }
    }
}

/// Waits up to `limit` for the channel to end without any message; returns how and when
/// (measured from `since`).
pub async fn wait_for_end<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
    since: Instant,
    limit: Duration,
) -> (Ending, Duration) {
    let ending = match next_message(ws, limit).await {
        Ok(None) => Ending::Silent,
        Ok(Some(message)) => Ending::Other(format!("unexpected message {message:?}")),
        Err(ending) => ending,
    };
    (ending, since.elapsed())
}

/// Asserts `observed` is `configured_s` seconds: at most half a second early (timer and clock
/// granularity) and at most [`crate::slack::late`] 1.5 s late (a loaded machine).
pub fn assert_near(observed: Duration, configured_s: f64, what: &str) {
    let early = configured_s - observed.as_secs_f64();
    let late = -early;
    let allowed = crate::slack::late(Duration::from_millis(1500)).as_secs_f64();
    assert!(
        early <= 0.5 && late <= allowed,
        "{what}: observed {:.3} s, configured {configured_s} s (allowed: 0.5 s early, {allowed:.1} s late)",
        observed.as_secs_f64()
    );
}
