//! A listener's control channel (`sb-hc-action=listen`): the WebSocket the service pushes each
//! `accept` down, as it pushes each password reset down writeback's listener. The listener
//! accepts a sender by connecting to the address in the `accept` message (no token), or rejects
//! it there with a status.

use super::handshake::{self, Refusal};
use super::keepalive::{self, Evidence};
use super::renewal::Renewal;
use crate::net::ending::ws_outcome;
use crate::net::io::Io;
use crate::net::tcp_info::{Handle, TcpEvidence};
use crate::net::websocket::Ws;
use crate::net::{Endpoint, NetContext};
use crate::outcome::Outcome;
use crate::target::HybridConnection;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use relay_protocol::hc::control::{AcceptMessage, ServiceMessage};
use relay_protocol::hc::{self, EntityPath, REJECT_COMPLETED_STATUS};
use std::time::Duration;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

/// An open control channel.
pub struct Listener {
    ws: Ws,
    /// This listener's `sb-hc-id`.
    pub id: String,
    /// The idle limit the relay announced in its upgrade answer (a mock-relay with
    /// `--service-idle-limit`), in seconds.
    pub announced_idle_limit_s: Option<f64>,
    /// The TCP connection under the channel, when the platform tells about it.
    tcp: Option<Handle>,
    /// When and how the token is renewed.
    renewal: Option<Renewal>,
}

/// What happened on a control channel while it was watched.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The service handed over a sender.
    Accept(AcceptMessage),
    /// The channel ended (RST, FIN, close_notify, or a close frame from the service).
    Ended { outcome: Outcome, detail: String },
    /// Nothing arrived before the deadline.
    Quiet,
}

impl Listener {
    /// Opens `entity`'s control channel over `stream`, a TLS connection to the namespace.
    pub async fn open(
        stream: Io,
        hc: &HybridConnection,
        entity: &EntityPath,
        deadline: Duration,
    ) -> Result<Listener, Refusal> {
        let id = super::connection_id("listener");
        let path = listen_path(hc, entity, &id);
        let token = super::token(hc, entity);
        let authority = hc.namespace.authority();
        let upgrade = handshake::upgrade(stream, &authority, &path, Some(&token));
        let (ws, head) = tokio::time::timeout(deadline, upgrade)
            .await
            .unwrap_or(Err(Refusal::Timeout))?;
        Ok(Listener {
            ws,
            id,
            announced_idle_limit_s: announced(&head),
            tcp: None,
            renewal: Renewal::new(hc, entity),
        })
    }

    /// Opens a control channel on a connection of its own (the idle ladder's listeners).
    pub async fn connect(
        net: &NetContext,
        endpoint: Endpoint<'_>,
        hc: &HybridConnection,
        entity: &EntityPath,
    ) -> Result<Listener, Refusal> {
        let id = super::connection_id("listener");
        let token = super::token(hc, entity);
        let path = listen_path(hc, entity, &id);
        let up = handshake::open_upgraded(net, endpoint, &path, Some(&token), net.timeout).await?;
        Ok(Listener {
            ws: up.ws,
            id,
            announced_idle_limit_s: announced(&up.head),
            tcp: up.tcp,
            renewal: Renewal::new(hc, entity),
        })
    }

    /// Watches the channel until `until` for the service's next `accept`; other control
    /// messages are ignored, as the protocol asks. With `keepalive`, sends an unsolicited Pong at
    /// that interval meanwhile, as the .NET SDK's listener does. A token falling due is renewed.
    pub async fn next_event(&mut self, until: Instant, keepalive: Option<Duration>) -> Event {
        let mut next_pong = keepalive.map(|k| Instant::now() + k);
        loop {
            let wake = next_pong.map_or(until, |p| p.min(until));
            let renew_at = self.renewal.as_ref().map_or(wake, |r| r.due.min(wake));
            let message = tokio::select! {
                m = self.ws.next() => m,
                _ = tokio::time::sleep_until(renew_at), if renew_at < wake => {
                    if let Err(e) = self.renew().await {
                        return ended(ws_outcome(&e), format!("renewing the token failed: {e}"));
                    }
                    continue;
                }
                _ = tokio::time::sleep_until(wake) => {
                    // A keep-alive that falls due goes out first, even at the deadline.
                    if let (Some(k), Some(due)) = (keepalive, next_pong) {
                        if Instant::now() >= due {
                            next_pong = Some(Instant::now() + k);
                            if let Err(e) = self.ws.send(Message::Pong(Bytes::new())).await {
                                return ended(ws_outcome(&e), format!("sending a keep-alive failed: {e}"));
                            }
                        }
                    }
                    if Instant::now() >= until {
                        return Event::Quiet;
                    }
                    continue;
                }
            };
            match message {
                Some(Ok(Message::Text(text))) => {
                    if let Ok(ServiceMessage::Accept(accept)) = ServiceMessage::parse(&text) {
                        return Event::Accept(accept);
                    }
                }
                Some(Ok(Message::Close(frame))) => return closed_by_service(frame),
                Some(Ok(_)) => {}
                Some(Err(e)) => return ended(ws_outcome(&e), e.to_string()),
                None => {
                    return ended(
                        Outcome::TlsCloseNotify,
                        "the service ended the channel".into(),
                    )
                }
            }
        }
    }

    /// Sends `renewToken` with a fresh token (the service answers nothing, or closes the channel
    /// with 1008 if it refuses the token).
    async fn renew(&mut self) -> Result<(), tokio_tungstenite::tungstenite::Error> {
        let Some(renewal) = self.renewal.as_mut() else {
            return Ok(());
        };
        let message = renewal.message();
        tracing::debug!(id = %self.id, "renewing the listener's token");
        self.ws
            .send(Message::text(message.expose().to_string()))
            .await
    }

    /// The listener -> service direction within `deadline`, as the SDK's own traffic allows
    /// ([`keepalive`](super::keepalive)): an unsolicited Pong, then the kernel's word that it
    /// was acknowledged, or the channel's ending. `Survived`, or how it failed (`SilentDrop`
    /// when the Pong stays unacknowledged). Without kernel evidence, only an ending within the
    /// deadline counts.
    pub async fn pong_check(
        &mut self,
        deadline: Duration,
    ) -> (Outcome, Option<TcpEvidence>, Evidence) {
        if let Err(e) = self.ws.send(Message::Pong(Bytes::new())).await {
            return (ws_outcome(&e), None, Evidence::NoEnding);
        }
        let tcp = self.tcp;
        let ending = async {
            loop {
                match self.ws.next().await {
                    Some(Ok(Message::Close(_))) | None => return Outcome::TlsCloseNotify,
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return ws_outcome(&e),
                }
            }
        };
        let watch = async {
            match keepalive::acknowledged(tcp, deadline).await {
                Some((outcome, evidence)) => (outcome, Some(evidence), Evidence::Acknowledged),
                None => {
                    tokio::time::sleep(deadline.min(Duration::from_secs(1))).await;
                    (Outcome::Survived, None, Evidence::NoEnding)
                }
            }
        };
        tokio::select! {
            biased;
            outcome = ending => (outcome, None, Evidence::NoEnding),
            judged = watch => judged,
        }
    }

    /// Closes the channel politely.
    pub async fn close(mut self) {
        let _ = tokio::time::timeout(Duration::from_millis(500), self.ws.close(None)).await;
    }
}

/// Accepts `accept` by opening a WebSocket to its address; the result is the listener's end of
/// the rendezvous, a message pipe to the sender.
pub async fn accept(
    net: &NetContext,
    hc: &HybridConnection,
    direct: bool,
    accept: &AcceptMessage,
) -> Result<Ws, Refusal> {
    let (host, port, path) = rendezvous_address(hc, &accept.address)?;
    let endpoint = Endpoint {
        host: &host,
        port,
        direct,
    };
    handshake::open(net, endpoint, &path, None, net.timeout).await
}

/// Rejects `accept` with `status` and `description`; the service answers 410 Gone when the
/// rejection was delivered to the sender.
pub async fn reject(
    net: &NetContext,
    hc: &HybridConnection,
    direct: bool,
    accept: &AcceptMessage,
    status: u16,
    description: &str,
) -> Result<(), Refusal> {
    let address = hc::reject_url(&accept.address, status, description);
    let (host, port, path) = rendezvous_address(hc, &address)?;
    let endpoint = Endpoint {
        host: &host,
        port,
        direct,
    };
    match handshake::open(net, endpoint, &path, None, net.timeout).await {
        Err(Refusal::Status { code, .. }) if code == REJECT_COMPLETED_STATUS => Ok(()),
        Err(other) => Err(other),
        Ok(_) => Err(Refusal::Failed {
            outcome: Outcome::ProtocolError,
            why: "the service opened a rendezvous for a rejection instead of answering 410".into(),
        }),
    }
}

/// The host, port and path of a rendezvous address. Only `wss://` addresses on the namespace's
/// own host or a sibling of it (the service's gateways, `g3-prod-sb.servicebus.windows.net`
/// beside `contoso.servicebus.windows.net`) are followed: the address comes from the far end.
fn rendezvous_address(
    hc: &HybridConnection,
    address: &str,
) -> Result<(String, u16, String), Refusal> {
    let refused = |why: &str| Refusal::Failed {
        outcome: Outcome::ProtocolError,
        why: format!("the service sent an unusable rendezvous address: {why}"),
    };
    let url = url::Url::parse(address).map_err(|_| refused("not a URL"))?;
    if url.scheme() != "wss" {
        return Err(refused("not wss://"));
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(url::Host::Ipv4(a)) => a.to_string(),
        Some(url::Host::Ipv6(a)) => a.to_string(),
        None => return Err(refused("no host")),
    };
    let namespace = hc
        .namespace
        .host()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    let sibling = match (namespace.split_once('.'), host.split_once('.')) {
        (Some((_, parent)), Some((_, theirs))) => parent == theirs && parent.contains('.'),
        _ => false,
    };
    if host != namespace && !sibling {
        return Err(refused("its host is outside the namespace's domain"));
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_string(),
    };
    Ok((host, port, path))
}

fn listen_path(hc: &HybridConnection, entity: &EntityPath, id: &str) -> String {
    let url = hc::listener_url(&hc.namespace, entity, id);
    let authority = format!("wss://{}", hc.namespace.authority());
    url.strip_prefix(&authority).unwrap_or(&url).to_string()
}

/// The idle limit a relay's upgrade answer announces, if any.
fn announced(head: &http::HeaderMap) -> Option<f64> {
    head.get(hc::SERVICE_IDLE_LIMIT_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(hc::parse_service_idle_limit)
}

fn ended(outcome: Outcome, detail: String) -> Event {
    Event::Ended { outcome, detail }
}

/// A close frame from the service: 1001 (entity deleted or disabled), 1008 (token expired),
/// 1011 (service error), or its daily recycling of listeners.
fn closed_by_service(frame: Option<CloseFrame>) -> Event {
    let detail = match frame {
        Some(f) => {
            let reason: String = f
                .reason
                .chars()
                .filter(|c| !c.is_control())
                .take(200)
                .collect();
            format!(
                "the service closed the channel ({} {reason})",
                u16::from(f.code)
            )
        }
        None => "the service closed the channel".into(),
    };
    ended(Outcome::TlsCloseNotify, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use relay_protocol::connection_string::ConnectionString;

    fn hc(endpoint: &str) -> HybridConnection {
        let cs = ConnectionString::parse(&format!(
            "Endpoint=sb://{endpoint}/;SharedAccessKeyName=k;SharedAccessKey=x=;EntityPath=hc1"
        ))
        .unwrap();
        HybridConnection {
            namespace: cs.endpoint().clone(),
            entity: cs.entity_path().unwrap().clone(),
            more_entities: Vec::new(),
            credential: cs.credential().clone(),
            token_lifetime: relay_protocol::hc::SDK_TOKEN_LIFETIME,
        }
    }

    #[test]
    fn rendezvous_addresses_stay_in_the_namespace_domain() {
        let ns = hc("contoso.servicebus.windows.net");
        let (host, port, path) = rendezvous_address(
            &ns,
            "wss://g3-prod-sb.servicebus.windows.net:443/$hc/hc1?sb-hc-action=accept&sb-hc-id=1",
        )
        .unwrap();
        assert_eq!(
            (host.as_str(), port),
            ("g3-prod-sb.servicebus.windows.net", 443)
        );
        assert_eq!(path, "/$hc/hc1?sb-hc-action=accept&sb-hc-id=1");
        assert!(rendezvous_address(&ns, "wss://evil.example.com/$hc/x").is_err());
        assert!(rendezvous_address(&ns, "https://contoso.servicebus.windows.net/").is_err());
        let lab = hc("127.0.0.1:8443");
        assert!(rendezvous_address(&lab, "wss://127.0.0.1:8443/$hc/hc1?x=1").is_ok());
        assert!(rendezvous_address(&lab, "wss://127.0.0.2:8443/$hc/hc1").is_err());
    }

    #[test]
    fn the_listen_path_carries_the_action_and_id() {
        let ns = hc("relay.lab:8443");
        let path = listen_path(&ns, ns.entity(), "L1");
        assert_eq!(path, "/$hc/hc1?sb-hc-action=listen&sb-hc-id=L1");
    }
}
