//! The socket of `--listen`, for `probe serve` and `probe watch`.

use crate::error::UserError;
use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Why `--listen` could not be had.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("--listen {addr}: cannot listen: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("--listen {addr}: {source}")]
    LocalAddr {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

impl UserError for ListenError {}

/// Listens on `addr`; returns the listener and the address it got (port 0: the port chosen).
pub async fn listen(addr: SocketAddr) -> Result<(TcpListener, SocketAddr), ListenError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ListenError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| ListenError::LocalAddr { addr, source })?;
    Ok((listener, bound))
}
