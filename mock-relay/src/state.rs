//! What the tasks of one relay server share: [`Shared`] across every connection of the server,
//! [`ConnCtx`] across the request handlers and the channel of one connection.
//!
//! It sits below the modules that use it (`server` builds it, `connection`, `routes` and
//! `channel` read it), so none of them imports another for its state.

use crate::fault::Faults;
use crate::stats::StatsHandle;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
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
    pub token: CancellationToken,
}

/// A WebSocket upgrade answered with 101, waiting for the connection task to take it over.
pub(crate) struct PendingUpgrade {
    pub on_upgrade: hyper::upgrade::OnUpgrade,
    pub path: String,
}

/// What the routes know of the connection a request came on.
pub(crate) struct ConnCtx {
    pub shared: Arc<Shared>,
    pub peer: SocketAddr,
    pub id: u64,
    /// Filled by a successful upgrade; the connection task runs the channel after hyper is done.
    pub upgrade: Mutex<Option<PendingUpgrade>>,
    /// Set once the connection is a WebSocket: from then on it may idle up to `--max-idle`.
    pub upgraded: Arc<AtomicBool>,
}
