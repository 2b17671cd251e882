//! Why a server or middlebox could not start (all of these are configuration errors: exit 2).

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    #[error(transparent)]
    Fault(#[from] crate::fault::FaultError),
    #[error("cannot resolve upstream `{upstream}`: {reason}")]
    Upstream { upstream: String, reason: String },
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Gateway(#[from] crate::hc_state::gateway::GatewayError),
}
