//! Who is connected: each entity's listeners in the order they came, and the senders waiting
//! for a listener's decision, by accept id. Every entry is owned by a guard
//! ([`Registration`], [`Waiting`]) that removes it when its connection ends, so nothing a client
//! left behind stays in memory.
//!
//! Senders go to an entity's listeners in turn, oldest listener first (deterministic round
//! robin; the service itself distributes "in random order" per the protocol guide). A listener
//! whose accept queue is full is passed over.
//!
//! Relayed HTTP requests go to the listeners in the same turn, and wait under their request id
//! ([`WaitingRequest`]) for a rendezvous at their address.
//!
//! Accept ids are the sender's `sb-hc-id` (or a generated GUID) plus `_G` and a number unique
//! to this process, as the service appends gateway suffixes (`_G0_G1`): listeners match an
//! accept to their sender by prefix, and an id is never handed out twice.

use super::relayed::{ControlItem, PendingRequest};
use super::target::Target;
use crate::handshake::Raw;
use relay_protocol::hc::control::AcceptMessage;
use relay_protocol::hc::MAX_LISTENERS_PER_ENTITY;
use relay_protocol::hc::{append_query, hc_url, Action, EntityPath, Namespace, Rejection};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

/// Accept messages that may wait for one listener's control channel to send them.
const ACCEPT_QUEUE: usize = 16;

/// A listener's decision on a sender.
pub(crate) enum Decision {
    /// Joined: the sender's connection hands its WebSocket to the listener's rendezvous.
    Accept(oneshot::Sender<Handover>),
    /// Turned away with this status and description.
    Reject(Rejection),
}

/// The sender's connection (upgraded, frames not yet read), handed to the listener's
/// rendezvous, and where to say how it ended.
pub(crate) struct Handover {
    pub io: Raw,
    pub ended: oneshot::Sender<String>,
}

/// A sender waiting for a listener, under its accept id.
pub(crate) struct Pending {
    /// The entity and the sender's suffix, lower case: the address names them.
    pub path_key: String,
    pub created: Instant,
    pub decision: oneshot::Sender<Decision>,
}

/// The entity already has [`MAX_LISTENERS_PER_ENTITY`] listeners.
#[derive(Debug)]
pub(crate) struct TooManyListeners;

/// Why a sender could not be handed to a listener.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NotDispatched {
    NoListener,
    /// Every listener's accept queue is full.
    Busy,
}

/// A sender handed to a listener: its accept id, and where the decision will come.
pub(crate) struct Dispatched {
    pub id: String,
    pub decision: oneshot::Receiver<Decision>,
    pub waiting: Waiting,
}

#[derive(Clone, Default)]
pub(crate) struct Registry(Arc<Mutex<Inner>>);

#[derive(Default)]
struct Inner {
    /// `--gateway` hosts, named in addresses in turn; empty: the listener's own host.
    gateways: Vec<String>,
    entities: HashMap<String, Entity>,
    pending: HashMap<String, Pending>,
    requests: HashMap<String, PendingRequest>,
    next_listener: u64,
    next_accept: u64,
}

#[derive(Default)]
struct Entity {
    /// Oldest first.
    listeners: Vec<Listener>,
    /// Index of the listener the next sender goes to.
    turn: usize,
}

struct Listener {
    key: u64,
    /// The namespace and entity as the listener named them: accept addresses point back here,
    /// under the name the listener connected with, so certificate names hold.
    namespace: Namespace,
    entity: EntityPath,
    accepts: mpsc::Sender<ControlItem>,
}

/// A listener's place in the registry; dropping it removes the listener.
pub(crate) struct Registration {
    registry: Registry,
    entity_key: String,
    key: u64,
}

/// A waiting sender's place in the registry; dropping it forgets the sender (its address is no
/// longer valid).
pub(crate) struct Waiting {
    registry: Registry,
    id: String,
}

/// A relayed request's place in the registry; dropping it forgets the request.
pub(crate) struct WaitingRequest {
    registry: Registry,
    pub id: String,
}

impl Registry {
    /// A registry whose addresses name these gateway hosts in turn (none: the host each
    /// listener connected with).
    pub(crate) fn with_gateways(gateways: Vec<String>) -> Registry {
        let registry = Registry::default();
        registry.lock().gateways = gateways;
        registry
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // No code panics while holding the lock; recover the data if one ever did.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a listener for `target`; accepts for it arrive on the returned receiver.
    pub(crate) fn listen(
        &self,
        target: &Target,
    ) -> Result<(Registration, mpsc::Receiver<ControlItem>), TooManyListeners> {
        let mut inner = self.lock();
        let key = inner.next_listener;
        let entity = inner.entities.entry(target.key.clone()).or_default();
        if entity.listeners.len() >= MAX_LISTENERS_PER_ENTITY {
            return Err(TooManyListeners);
        }
        let (tx, rx) = mpsc::channel(ACCEPT_QUEUE);
        entity.listeners.push(Listener {
            key,
            namespace: target.namespace.clone(),
            entity: target.entity.clone(),
            accepts: tx,
        });
        inner.next_listener += 1;
        let registration = Registration {
            registry: self.clone(),
            entity_key: target.key.clone(),
            key,
        };
        Ok((registration, rx))
    }

    /// Hands a sender to the next listener of `target`'s entity: sends it the accept message and
    /// records the sender as waiting.
    pub(crate) fn dispatch(
        &self,
        target: &Target,
        sender_id: Option<&str>,
        connect_headers: BTreeMap<String, String>,
        remote: Option<relay_protocol::hc::RemoteEndpoint>,
    ) -> Result<Dispatched, NotDispatched> {
        let mut inner = self.lock();
        let id = next_id(&mut inner, sender_id);
        hand_out(&mut inner, target, Action::Accept, &id, |address| {
            ControlItem::Accept(AcceptMessage {
                address,
                id: id.clone(),
                connect_headers: connect_headers.clone(),
                remote_endpoint: remote.clone(),
            })
        })?;
        let (tx, rx) = oneshot::channel();
        inner.pending.insert(
            id.clone(),
            Pending {
                path_key: target.path_key(),
                created: Instant::now(),
                decision: tx,
            },
        );
        Ok(Dispatched {
            waiting: Waiting {
                registry: self.clone(),
                id: id.clone(),
            },
            id,
            decision: rx,
        })
    }

    /// Hands a relayed HTTP request to the next listener of `target`'s entity: `make` builds
    /// the control-channel item from the request's address and id; `pending` (given the
    /// address) is kept under the id for a rendezvous at that address.
    pub(crate) fn dispatch_request(
        &self,
        target: &Target,
        sender_id: Option<&str>,
        make: impl Fn(String, &str) -> ControlItem,
        pending: impl FnOnce(String, &str) -> PendingRequest,
    ) -> Result<WaitingRequest, NotDispatched> {
        let mut inner = self.lock();
        let id = next_id(&mut inner, sender_id);
        let mut chosen = String::new();
        hand_out(&mut inner, target, Action::Request, &id, |address| {
            chosen.clone_from(&address);
            make(address, &id)
        })?;
        let entry = pending(chosen, &id);
        inner.requests.insert(id.clone(), entry);
        Ok(WaitingRequest {
            registry: self.clone(),
            id,
        })
    }

    /// A tracking id for a refusal: `id` (or a GUID) with a gateway suffix, never repeated.
    pub(crate) fn tracking_id(&self, id: Option<&str>) -> String {
        next_id(&mut self.lock(), id)
    }

    /// Takes the request waiting under `id`: its address is good for one rendezvous.
    pub(crate) fn take_request(&self, id: &str) -> Option<PendingRequest> {
        self.lock().requests.remove(id)
    }

    /// Takes the sender waiting under accept `id` (an address is good once).
    pub(crate) fn take(&self, id: &str) -> Option<Pending> {
        self.lock().pending.remove(id)
    }

    /// Listeners of an entity now, and senders waiting now (for tests).
    #[cfg(test)]
    fn counts(&self, entity_key: &str) -> (usize, usize) {
        let inner = self.lock();
        let listeners = inner
            .entities
            .get(entity_key)
            .map_or(0, |e| e.listeners.len());
        (listeners, inner.pending.len())
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let mut inner = self.registry.lock();
        let Some(entity) = inner.entities.get_mut(&self.entity_key) else {
            return;
        };
        if let Some(index) = entity.listeners.iter().position(|l| l.key == self.key) {
            entity.listeners.remove(index);
            // Keep the turn on the listener that was next.
            if index < entity.turn {
                entity.turn -= 1;
            }
            if entity.turn >= entity.listeners.len() {
                entity.turn = 0;
            }
        }
        if entity.listeners.is_empty() {
            inner.entities.remove(&self.entity_key);
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.registry.lock().pending.remove(&self.id);
    }
}

impl Drop for WaitingRequest {
    fn drop(&mut self) {
        self.registry.lock().requests.remove(&self.id);
    }
}

/// The next id: the sender's own (or a generated GUID) plus `_G` and a number unique to the
/// process.
fn next_id(inner: &mut Inner, sender_id: Option<&str>) -> String {
    let id = format!(
        "{}_G{}",
        sender_id.map_or_else(generated_id, str::to_string),
        inner.next_accept
    );
    inner.next_accept += 1;
    id
}

/// Sends `make(address)` to the entity's next listener whose queue has room, and moves the turn
/// past it. The address names the host the listener connected with, the sender's path (entity
/// and suffix) and query, then `sb-hc-action` and `sb-hc-id`.
fn hand_out(
    inner: &mut Inner,
    target: &Target,
    action: Action,
    id: &str,
    mut make: impl FnMut(String) -> ControlItem,
) -> Result<(), NotDispatched> {
    let entity = inner
        .entities
        .get_mut(&target.key)
        .filter(|e| !e.listeners.is_empty())
        .ok_or(NotDispatched::NoListener)?;
    let count = entity.listeners.len();
    for step in 0..count {
        let index = (entity.turn + step) % count;
        let listener = &entity.listeners[index];
        let gateway = match inner.gateways.len() {
            0 => None,
            n => usize::try_from(inner.next_accept)
                .ok()
                .map(|turn| inner.gateways[turn % n].as_str()),
        };
        let item = make(address(listener, gateway, target, action, id));
        if listener.accepts.try_send(item).is_ok() {
            entity.turn = (index + 1) % count;
            return Ok(());
        }
    }
    Err(NotDispatched::Busy)
}

/// `wss://HOST/$hc/ENTITY[/suffix]?[query&]sb-hc-action=ACTION&sb-hc-id=ID`, HOST being the
/// gateway when there is one, else the listener's own host; with the port the listener used.
fn address(
    listener: &Listener,
    gateway: Option<&str>,
    target: &Target,
    action: Action,
    id: &str,
) -> String {
    let path = if target.suffix.is_empty() {
        listener.entity.clone()
    } else {
        EntityPath::new(&format!("{}/{}", listener.entity.as_str(), target.suffix))
            .unwrap_or_else(|_| listener.entity.clone())
    };
    // Always with the port, as the service writes its addresses (`wss://g63-...:443/$hc/...`).
    let port = Some(listener.namespace.effective_port());
    let host = gateway
        .and_then(|g| Namespace::new(g, port).ok())
        .or_else(|| Namespace::new(listener.namespace.host(), port).ok())
        .unwrap_or_else(|| listener.namespace.clone());
    let bare = hc_url(&host, &path, action, None);
    let (base, own) = bare.split_once('?').unwrap_or((&bare, ""));
    let mut url = base.to_string();
    for (name, value) in &target.query {
        url = append_query(&url, name, value);
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    append_query(
        &format!("{url}{separator}{own}"),
        relay_protocol::hc::QUERY_ID,
        id,
    )
}

/// A fresh GUID-shaped id for a sender that sent no `sb-hc-id` (as the service generates one).
fn generated_id() -> String {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut bytes = [0u8; 16];
    // Not a secret: an id is only unique. Without a random source, fall back to the clock.
    if SystemRandom::new().fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes = nanos.to_le_bytes();
    }
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(entity: &str) -> Target {
        Target {
            entity: EntityPath::new(entity).unwrap(),
            key: entity.to_lowercase(),
            suffix: String::new(),
            query: Vec::new(),
            namespace: Namespace::parse("relay.lab:8443").unwrap(),
        }
    }

    fn accept_on(rx: &mut mpsc::Receiver<ControlItem>) -> Option<AcceptMessage> {
        match rx.try_recv().ok()? {
            ControlItem::Accept(accept) => Some(accept),
            ControlItem::Request(_) => None,
        }
    }

    #[test]
    fn senders_go_round_robin_oldest_first() {
        let registry = Registry::default();
        let hc1 = target("hc1");
        let (first, mut a) = registry.listen(&hc1).unwrap();
        let (_second, mut b) = registry.listen(&hc1).unwrap();
        let mut order = Vec::new();
        let mut keep = Vec::new();
        for n in 0..4 {
            let d = registry
                .dispatch(&hc1, Some(&format!("s{n}")), BTreeMap::new(), None)
                .unwrap();
            keep.push(d);
            if let Some(m) = accept_on(&mut a) {
                order.push(("a", m.id));
            }
            if let Some(m) = accept_on(&mut b) {
                order.push(("b", m.id));
            }
        }
        assert_eq!(
            order,
            vec![
                ("a", "s0_G0".to_string()),
                ("b", "s1_G1".into()),
                ("a", "s2_G2".into()),
                ("b", "s3_G3".into())
            ]
        );
        drop(first);
        let d = registry
            .dispatch(&hc1, Some("s4"), BTreeMap::new(), None)
            .unwrap();
        let m = accept_on(&mut b).unwrap();
        assert_eq!(m.id, d.id);
        assert_eq!(
            m.address,
            "wss://relay.lab:8443/$hc/hc1?sb-hc-action=accept&sb-hc-id=s4_G4"
        );
        assert_eq!(registry.counts("hc1"), (1, 5));
        drop(keep);
        drop(d);
        assert_eq!(registry.counts("hc1"), (1, 0));
    }

    #[test]
    fn at_most_25_listeners_and_they_leave_no_trace() {
        let registry = Registry::default();
        let hc1 = target("hc1");
        let held: Vec<_> = (0..MAX_LISTENERS_PER_ENTITY)
            .map(|_| registry.listen(&hc1).unwrap())
            .collect();
        assert!(registry.listen(&hc1).is_err());
        assert!(registry.listen(&target("hc2")).is_ok());
        drop(held);
        assert_eq!(registry.counts("hc1"), (0, 0));
        assert!(!registry.lock().entities.contains_key("hc1"));
        assert_eq!(
            registry
                .dispatch(&hc1, None, BTreeMap::new(), None)
                .err()
                .unwrap(),
            NotDispatched::NoListener
        );
    }

    #[test]
    fn the_address_carries_the_senders_suffix_and_query() {
        let registry = Registry::default();
        let mut hc1 = target("hc1");
        let (_l, mut rx) = registry.listen(&hc1).unwrap();
        hc1.suffix = "a b/c".into();
        hc1.query = vec![("x".into(), "1 2".into())];
        let d = registry
            .dispatch(&hc1, Some("s"), BTreeMap::new(), None)
            .unwrap();
        let m = accept_on(&mut rx).unwrap();
        assert_eq!(
            m.address,
            format!(
                "wss://relay.lab:8443/$hc/hc1/a%20b/c?x=1%202&sb-hc-action=accept&sb-hc-id={}",
                d.id
            )
        );
        assert_eq!(registry.take(&d.id).unwrap().path_key, "hc1/a b/c");
    }

    #[test]
    fn gateways_are_named_in_turn_with_the_listeners_port() {
        let registry =
            Registry::with_gateways(vec!["g1-prod-sb.lab".into(), "g2-prod-sb.lab".into()]);
        let hc1 = target("hc1");
        let (_l, mut rx) = registry.listen(&hc1).unwrap();
        let mut hosts = Vec::new();
        let mut kept = Vec::new();
        for _ in 0..3 {
            kept.push(
                registry
                    .dispatch(&hc1, Some("s"), BTreeMap::new(), None)
                    .unwrap(),
            );
            let address = accept_on(&mut rx).unwrap().address;
            hosts.push(address.split('/').nth(2).unwrap().to_string());
        }
        assert_eq!(
            hosts,
            [
                "g2-prod-sb.lab:8443",
                "g1-prod-sb.lab:8443",
                "g2-prod-sb.lab:8443"
            ]
        );
    }

    #[test]
    fn an_address_is_good_once() {
        let registry = Registry::default();
        let hc1 = target("hc1");
        let (_l, _rx) = registry.listen(&hc1).unwrap();
        let d = registry
            .dispatch(&hc1, None, BTreeMap::new(), None)
            .unwrap();
        assert!(d.id.ends_with("_G0") && d.id.len() == 36 + 3, "{}", d.id);
        assert!(registry.take(&d.id).is_some());
        assert!(registry.take(&d.id).is_none());
    }

    #[test]
    fn a_full_queue_passes_the_listener_over() {
        let registry = Registry::default();
        let hc1 = target("hc1");
        let (_l, _rx) = registry.listen(&hc1).unwrap();
        let kept: Vec<_> = (0..ACCEPT_QUEUE)
            .map(|_| {
                registry
                    .dispatch(&hc1, None, BTreeMap::new(), None)
                    .unwrap()
            })
            .collect();
        assert_eq!(
            registry
                .dispatch(&hc1, None, BTreeMap::new(), None)
                .err()
                .unwrap(),
            NotDispatched::Busy
        );
        drop(kept);
    }
}
