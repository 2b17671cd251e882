//! A sender (`sb-hc-action=connect`): the client side of a hybrid connection. Its handshake
//! completes only once a listener has accepted it; a listener's rejection or the service's
//! "no listener" comes back as the handshake's HTTP status.

use super::handshake::{self, Refusal};
use crate::net::websocket::Ws;
use crate::net::{Endpoint, NetContext};
use crate::target::HybridConnection;
use relay_protocol::hc::{self, EntityPath};
use std::time::Duration;

/// Connects a sender with `id` to `entity`; waits at most `deadline` for a listener to take it.
pub async fn connect(
    net: &NetContext,
    endpoint: Endpoint<'_>,
    hc: &HybridConnection,
    entity: &EntityPath,
    id: &str,
    deadline: Duration,
) -> Result<Ws, Refusal> {
    let url = hc::sender_url(&hc.namespace, entity, id);
    let authority = format!("wss://{}", hc.namespace.authority());
    let path = url.strip_prefix(&authority).unwrap_or(&url);
    let token = super::token(hc, entity);
    handshake::open(net, endpoint, path, Some(&token), deadline).await
}
