//! What the tasks of one relay server share: [`Shared`] across every connection of the server,
//! [`ConnCtx`] across the request handlers and the channel of one connection.
//!
//! It sits below the modules that use it (`server` builds it, `connection`, `routes`, `channel`
//! and `hc` read it), so none of them imports another for its state.

use crate::fault::Faults;
use crate::hc_state;
use crate::stats::StatsHandle;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// State shared by every connection of one server.
pub(crate) struct Shared {
    pub stats: StatsHandle,
    pub faults: Faults,
    pub max_idle: Duration,
    pub handshake_timeout: Duration,
    pub request_timeout: Duration,
    /// Longest a write may stay blocked on a peer that does not read.
    pub write_timeout: Duration,
    pub token: CancellationToken,
    /// Hybrid Connections: keys, entities, and the listeners and senders of the moment.
    pub hc: hc_state::Service,
}

/// A WebSocket upgrade answered with 101, waiting for the connection task to take it over.
pub(crate) struct PendingUpgrade {
    pub on_upgrade: hyper::upgrade::OnUpgrade,
    pub kind: UpgradeKind,
}

/// What the upgraded connection becomes.
pub(crate) enum UpgradeKind {
    /// The project's own listener channel at `/$hc/<path>`.
    Channel { path: String },
    /// A Hybrid Connections control channel, sender or rendezvous.
    Hc(hc_state::Upgrade),
}

/// What the routes know of the connection a request came on.
pub(crate) struct ConnCtx {
    pub shared: Arc<Shared>,
    pub peer: SocketAddr,
    pub id: u64,
    /// Filled by a successful upgrade; the connection task runs the channel after hyper is done.
    pub upgrade: Mutex<Option<PendingUpgrade>>,
    /// Set once the connection is long-lived (a WebSocket, or a sender waiting for a listener):
    /// from then on it may idle up to `--max-idle` instead of the keep-alive timeout.
    pub upgraded: Arc<AtomicBool>,
}

impl ConnCtx {
    /// Parks an answered upgrade for the connection task, and lifts the keep-alive timeout.
    pub(crate) fn park(&self, upgrade: PendingUpgrade) {
        if let Ok(mut slot) = self.upgrade.lock() {
            *slot = Some(upgrade);
        }
        self.long_lived();
    }

    /// From now on the connection may stay quiet up to `--max-idle`.
    pub(crate) fn long_lived(&self) {
        self.upgraded.store(true, Ordering::Relaxed);
    }
}
