//! A small Hybrid Connections client for the mock-relay tests: listeners, senders and accepts
//! over real TLS sockets, tokens signed with `relay_protocol::sas` (the wire itself is checked
//! independently by `tests/hc_client.py`).

use crate::tls_client::{connect_tls, STEP};
use futures_util::StreamExt;
use relay_protocol::connection_string::{ConnectionString, Credential};
use relay_protocol::hc::control::{AcceptMessage, ServiceMessage};
use relay_protocol::hc::{self, Action, EntityPath, AUTHORIZATION_HEADER};
use relay_protocol::sas;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::client::TlsStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

pub type HcWs = WebSocketStream<TlsStream<TcpStream>>;

/// Where a test's clients connect and how they sign.
#[derive(Clone)]
pub struct HcTarget {
    /// The relay's TLS address (the connection string's host may be a name).
    pub addr: SocketAddr,
    pub ca_pem: String,
    pub cs: ConnectionString,
}

/// A handshake that did not give a WebSocket: the status, or what failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    Status(u16, String),
    Failed(String),
}

impl HcTarget {
    /// A token for `entity`, valid for `lifetime_s` seconds.
    pub fn token(&self, entity: &str, lifetime_s: u64) -> String {
        let Credential::Key(key) = self.cs.credential() else {
            panic!("the relay's connection string carries a key")
        };
        let entity = EntityPath::new(entity).expect("entity");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        key.sign(
            &sas::resource_uri(self.cs.endpoint(), Some(&entity)),
            now + lifetime_s,
        )
        .expose()
        .expose()
        .to_string()
    }

    /// `/$hc/ENTITY?sb-hc-action=ACTION&sb-hc-id=ID`, as the URL for this relay.
    pub fn url(&self, entity: &str, action: Action, id: &str) -> String {
        hc::hc_url(
            self.cs.endpoint(),
            &EntityPath::new(entity).expect("entity"),
            action,
            Some(id),
        )
    }

    /// Opens a WebSocket at `url` with `token` (if any) in the ServiceBusAuthorization header.
    pub async fn open(&self, url: &str, token: Option<&str>) -> Result<HcWs, Refused> {
        let name = self
            .cs
            .endpoint()
            .host()
            .trim_matches(['[', ']'])
            .to_string();
        let tls = connect_tls(self.addr, &self.ca_pem, &name)
            .await
            .map_err(|e| Refused::Failed(e.to_string()))?;
        let mut request = url
            .into_client_request()
            .map_err(|e| Refused::Failed(e.to_string()))?;
        if let Some(token) = token {
            request.headers_mut().insert(
                AUTHORIZATION_HEADER,
                HeaderValue::from_str(token).expect("token header"),
            );
        }
        match timeout(STEP * 4, tokio_tungstenite::client_async(request, tls)).await {
            Err(_) => Err(Refused::Failed("handshake timed out".into())),
            Ok(Ok((ws, _))) => Ok(ws),
            Ok(Err(WsError::Http(resp))) => {
                let body = resp
                    .body()
                    .as_ref()
                    .map(|b| String::from_utf8_lossy(b).trim().to_string())
                    .unwrap_or_default();
                Err(Refused::Status(resp.status().as_u16(), body))
            }
            Ok(Err(e)) => Err(Refused::Failed(e.to_string())),
        }
    }

    /// A listener's control channel on `entity`.
    pub async fn listen(&self, entity: &str, id: &str) -> Result<HcWs, Refused> {
        let token = self.token(entity, 3600);
        self.open(&self.url(entity, Action::Listen, id), Some(&token))
            .await
    }

    /// A sender on `entity` (resolves once a listener decided).
    pub async fn send(&self, entity: &str, id: &str) -> Result<HcWs, Refused> {
        let token = self.token(entity, 3600);
        self.open(&self.url(entity, Action::Connect, id), Some(&token))
            .await
    }
}

/// The next `accept` on a control channel within `limit` (`None`: nothing came); panics on any
/// other message or an ending.
pub async fn next_accept(listener: &mut HcWs, limit: Duration) -> Option<AcceptMessage> {
    loop {
        match timeout(limit, listener.next()).await {
            Err(_) => return None,
            Ok(Some(Ok(Message::Text(text)))) => match ServiceMessage::parse(text.as_str()) {
                Ok(ServiceMessage::Accept(accept)) => return Some(accept),
                other => panic!("unexpected control message {other:?}"),
            },
            Ok(Some(Ok(Message::Pong(_)))) => continue,
            Ok(other) => panic!("control channel: {other:?}"),
        }
    }
}
