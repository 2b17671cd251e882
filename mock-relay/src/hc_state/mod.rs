//! What the relay's Hybrid Connections service knows, below the request handlers that change it
//! (`crate::hc`): its configuration, who is connected ([`registry`]), whom a request is for and
//! whether its token may have it ([`target`]), how it refuses ([`answer`]), and what an answered
//! upgrade becomes.

pub(crate) mod answer;
pub(crate) mod gateway;
pub mod ip_filter;
pub(crate) mod registry;
pub(crate) mod relayed;
pub(crate) mod target;

use registry::{Handover, Registration};
use relay_protocol::hc::{EntityPath, Namespace};
use relay_protocol::sas::SasKey;
use std::time::Duration;
use target::Target;
use tokio::sync::{mpsc, oneshot};

/// What the relay knows of its Hybrid Connections namespace.
#[derive(Debug, Clone)]
pub(crate) struct HcConfig {
    /// The keys tokens may be signed with (one, from `--sas-key-name`/`--sas-key`).
    pub keys: Vec<SasKey>,
    /// The namespace the connection string names; tokens are checked against the host a
    /// request names (`Host`), this one when it names none.
    pub namespace: Namespace,
    /// The entities that exist (case-insensitive); `None`: every entity exists.
    pub entities: Option<Vec<EntityPath>>,
    /// How long a sender waits for a listener's decision, and how long an accept address lives.
    pub accept_timeout: Duration,
    /// Listeners idle this long are forgotten, as the service's load balancers forget them.
    pub service_idle_limit: Option<Duration>,
    /// How long a relayed HTTP request waits for its listener's `response` (and how long its
    /// rendezvous address lives).
    pub response_timeout: Duration,
    /// Largest WebSocket frame a rendezvous (or a request rendezvous) takes from a client;
    /// messages of any size cross in their frames, streamed.
    pub frame_limit: usize,
    /// Entities whose senders need no token (`--anonymous`).
    pub anonymous: Vec<String>,
    /// The IP filter: clients from these blocks are refused (`--deny-ip`).
    pub deny: Vec<ip_filter::Cidr>,
    /// Gateway hosts named in accept and request addresses (`--gateway`); empty: the host each
    /// listener connected with.
    pub gateways: Vec<String>,
}

impl HcConfig {
    /// The service's refusal of a client from `addr`, if the IP filter denies it.
    pub(crate) fn denied(&self, addr: std::net::IpAddr) -> Option<answer::Refusal> {
        self.deny
            .iter()
            .any(|block| block.contains(addr))
            .then(|| answer::Refusal::new(ip_filter::DENIED_STATUS, ip_filter::DENIED))
    }
}

/// The Hybrid Connections side of one server: its configuration and who is connected.
pub(crate) struct Service {
    pub config: HcConfig,
    pub registry: registry::Registry,
}

impl Service {
    pub(crate) fn new(config: HcConfig) -> Service {
        Service {
            registry: registry::Registry::with_gateways(config.gateways.clone()),
            config,
        }
    }
}

/// What an answered Hybrid Connections upgrade becomes.
pub(crate) enum Upgrade {
    /// A listener's control channel.
    Listener(Session),
    /// A sender a listener accepted: its WebSocket goes to the listener's rendezvous.
    Sender(SenderEnd),
    /// A listener's accept: the rendezvous that relays to the sender.
    Rendezvous(ListenerEnd),
    /// A listener's rendezvous for a relayed HTTP request.
    Request(Box<relayed::PendingRequest>),
}

/// A registered listener, waiting for its control channel to open.
pub(crate) struct Session {
    pub target: Target,
    /// The listener's `sb-hc-id`, for the logs.
    pub id: String,
    /// When its token expires (Unix seconds); `renewToken` moves it.
    pub expiry: u64,
    pub accepts: mpsc::Receiver<relayed::ControlItem>,
    pub _registration: Registration,
}

/// The sender's side, before its upgrade completes.
pub(crate) struct SenderEnd {
    pub handover: oneshot::Sender<Handover>,
    pub id: String,
}

/// The listener's side, before its upgrade completes.
pub(crate) struct ListenerEnd {
    pub joined: oneshot::Receiver<Handover>,
    pub id: String,
}

/// Seconds since 1970, for token expiry.
pub(crate) fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// A client-chosen text (id, entity) made safe and short for a log line.
pub(crate) fn shown(text: &str) -> String {
    text.chars()
        .take(relay_protocol::hc::MAX_ID_BYTES)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}
