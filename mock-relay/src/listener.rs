//! The accept loop shared by the relay server and the middlebox (shaped like mini-redis's):
//! a semaphore caps open connections, each connection gets its own task, a cancellation token
//! stops accepting, and a task tracker lets shutdown wait for the connections to finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Shutdown and bookkeeping shared by every accept loop and connection of one server.
#[derive(Clone)]
pub(crate) struct Lifecycle {
    pub token: CancellationToken,
    pub tracker: TaskTracker,
    limit: Arc<Semaphore>,
    next_id: Arc<AtomicU64>,
}

/// One accepted connection, with its slot under the connection limit.
pub(crate) struct Accepted {
    pub stream: TcpStream,
    pub peer: SocketAddr,
    pub local: SocketAddr,
    /// Process-unique connection number, for the log lines.
    pub id: u64,
    pub _permit: OwnedSemaphorePermit,
}

impl Lifecycle {
    pub(crate) fn new(max_connections: usize) -> Lifecycle {
        Lifecycle {
            token: CancellationToken::new(),
            tracker: TaskTracker::new(),
            limit: Arc::new(Semaphore::new(
                max_connections.clamp(1, Semaphore::MAX_PERMITS),
            )),
            next_id: Arc::new(AtomicU64::new(1)),
        }
    }

    /// Cancels everything, then waits up to `grace` for the connections to finish on their own
    /// (each closes cleanly when it sees the token); stragglers are aborted with the runtime
    /// when the caller goes away.
    pub(crate) async fn shutdown(&self, grace: Duration) -> bool {
        self.token.cancel();
        self.tracker.close();
        tokio::time::timeout(grace, self.tracker.wait())
            .await
            .is_ok()
    }

    /// Runs an accept loop on `listener` until the token is cancelled, handing each
    /// connection to `handle` in a task of its own.
    pub(crate) fn spawn_accept_loop<H, F>(
        &self,
        listener: TcpListener,
        kind: &'static str,
        handle: H,
    ) where
        H: Fn(Accepted) -> F + Send + Sync + 'static,
        F: Future<Output = ()> + Send + 'static,
    {
        let this = self.clone();
        let local = listener.local_addr().ok();
        self.tracker.spawn(async move {
            let Some(local) = local else { return };
            let mut backoff = Duration::from_millis(10);
            loop {
                let permit = tokio::select! {
                    _ = this.token.cancelled() => break,
                    permit = this.limit.clone().acquire_owned() => match permit {
                        Ok(p) => p,
                        Err(_) => break,
                    },
                };
                let accepted = tokio::select! {
                    _ = this.token.cancelled() => break,
                    accepted = listener.accept() => accepted,
                };
                match accepted {
                    Ok((stream, peer)) => {
                        backoff = Duration::from_millis(10);
                        // Small messages (held, push) must leave at once: timing is measured.
                        let _ = stream.set_nodelay(true);
                        let id = this.next_id.fetch_add(1, Ordering::Relaxed);
                        let conn = Accepted {
                            stream,
                            peer,
                            local,
                            id,
                            _permit: permit,
                        };
                        this.tracker.spawn(handle(conn));
                    }
                    Err(error) => {
                        // Usually out of file descriptors: wait for some to come back.
                        tracing::warn!(listener = kind, %local, %error, ?backoff, "accept failed");
                        tokio::select! {
                            _ = this.token.cancelled() => break,
                            _ = tokio::time::sleep(backoff) => {}
                        }
                        backoff = (backoff * 2).min(Duration::from_secs(1));
                    }
                }
            }
            tracing::debug!(listener = kind, %local, "stopped accepting");
        });
    }
}

/// Binds a listening socket, naming the address in the error.
pub(crate) async fn bind(addr: SocketAddr) -> Result<TcpListener, crate::StartError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| crate::StartError::Bind { addr, source })
}
