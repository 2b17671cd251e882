//! One bench connection: TLS and the listener-channel WebSocket from a chosen loopback source
//! address, one hold, then the wait for its push. The client side is kept small (a 4 KiB
//! WebSocket read buffer) so that 15,000 of them stay cheap next to the relay being measured.

use futures_util::{SinkExt, StreamExt};
use relay_protocol::channel::{ClientMessage, ServerMessage};
use rustls::pki_types::ServerName;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{timeout, timeout_at, Instant};
use tokio_rustls::client::TlsStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Bound on each step of opening a connection and on the `held` answer.
pub(crate) const STEP: Duration = Duration::from_secs(20);

pub(crate) type Channel = WebSocketStream<TlsStream<TcpStream>>;

/// What one connection needs to open: where, from which source address, trusting what.
#[derive(Clone)]
pub(crate) struct Dialer {
    pub relay: SocketAddr,
    pub connector: TlsConnector,
}

impl Dialer {
    pub(crate) fn new(relay: SocketAddr, ca_pem: &str) -> Dialer {
        Dialer {
            relay,
            connector: TlsConnector::from(crate::tls_client::client_config(ca_pem)),
        }
    }

    /// TCP from `source`, TLS for `localhost`, then the WebSocket at `/$hc/NAME`.
    pub(crate) async fn open(&self, source: IpAddr, name: &str) -> Result<Channel, String> {
        let socket = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
        socket
            .bind(SocketAddr::new(source, 0))
            .map_err(|e| format!("bind {source}: {e}"))?;
        let tcp = timeout(STEP, socket.connect(self.relay))
            .await
            .map_err(|_| "tcp connect timed out".to_string())?
            .map_err(|e| format!("tcp connect: {e}"))?;
        tcp.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
        let localhost = ServerName::try_from("localhost").map_err(|e| e.to_string())?;
        let tls = timeout(STEP, self.connector.connect(localhost, tcp))
            .await
            .map_err(|_| "tls handshake timed out".to_string())?
            .map_err(|e| format!("tls: {e}"))?;
        let config = WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(0);
        let url = format!("wss://localhost/$hc/{name}");
        let (ws, _) = timeout(
            STEP,
            tokio_tungstenite::client_async_with_config(url, tls, Some(config)),
        )
        .await
        .map_err(|_| "websocket handshake timed out".to_string())?
        .map_err(|e| format!("websocket: {e}"))?;
        Ok(ws)
    }
}

/// Sends a hold and waits for `held`; returns when it came.
pub(crate) async fn hold(ws: &mut Channel, id: &str, push_after_s: f64) -> Result<Instant, String> {
    let hold = ClientMessage::Hold {
        id: id.into(),
        push_after_s,
    };
    timeout(STEP, ws.send(Message::text(hold.to_json())))
        .await
        .map_err(|_| "hold send timed out".to_string())?
        .map_err(|e| format!("hold send: {e}"))?;
    match next_message(ws, Instant::now() + STEP).await? {
        ServerMessage::Held { .. } => Ok(Instant::now()),
        other => Err(format!("expected held, got {other:?}")),
    }
}

/// Waits (until `deadline`) for the push; returns when it came and the relay's `idle_s`.
pub(crate) async fn push(ws: &mut Channel, deadline: Instant) -> Result<(Instant, f64), String> {
    match next_message(ws, deadline).await? {
        ServerMessage::Push { idle_s, .. } => Ok((Instant::now(), idle_s)),
        other => Err(format!("expected push, got {other:?}")),
    }
}

async fn next_message(ws: &mut Channel, deadline: Instant) -> Result<ServerMessage, String> {
    loop {
        let next = timeout_at(deadline, ws.next())
            .await
            .map_err(|_| "no message in time".to_string())?;
        match next {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(text.as_str())
                    .map_err(|e| format!("not a server message: {e}"))
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            Some(Ok(other)) => return Err(format!("unexpected {other:?}")),
            Some(Err(e)) => return Err(format!("channel ended: {e}")),
            None => return Err("channel closed".into()),
        }
    }
}
