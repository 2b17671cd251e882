//! The connection a target's checks pass along, phase by phase, and what they leave behind for
//! the target's result (phase timings, the idle ladder's findings).

use crate::net::hc::Listener;
use crate::net::io::Io;
use crate::net::proxy::block_page::FirstBytes;
use crate::net::resolve::Resolution;
use crate::result::{CertInfo, IdleReport, Phases};
use std::net::SocketAddr;
use tokio_rustls::client::TlsStream;

/// State handed from one check to the next. A check takes what it needs (`take()`), so a phase
/// that failed leaves nothing for the next one, which then reports itself skipped.
#[derive(Default)]
pub struct Session {
    pub resolution: Option<Resolution>,
    pub tcp: Option<(SocketAddr, Io)>,
    /// What the proxy tunnel delivered first, when the connection goes through one.
    pub tunnel_bytes: Option<FirstBytes>,
    pub tls: Option<TlsStream<Io>>,
    /// The presented chain, once verified (empty when verification failed): the revocation
    /// check fetches only the URLs of a chain the probe trusts.
    pub chain: Vec<CertInfo>,
    pub phases: Phases,
    /// Why the first failed check failed, for the skip messages of the later ones.
    pub failed: Option<&'static str>,
    /// A hybrid connection's open listener, from the listener check to the rendezvous check.
    pub listener: Option<Listener>,
    /// The idle limit the relay announced to that listener (a mock-relay's
    /// `--service-idle-limit`), in seconds.
    pub relay_idle_limit: Option<crate::seconds::Seconds>,
    /// The idle ladder's findings, when the idle check ran.
    pub idle: Option<IdleReport>,
}
