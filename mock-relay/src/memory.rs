//! Handing memory back to the system after a burst of connections.
//!
//! glibc keeps what the connections' tasks freed in its per-thread arenas: after thousands of
//! clients have come and gone, a relay with nothing open still held ten times its starting
//! size. Once enough connections have ended since the last time, `malloc_trim(0)` returns the
//! free pages of every arena. Elsewhere (other allocators, other systems) this does nothing.

use crate::stats::StatsHandle;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often the count of ended connections is looked at.
const EVERY: Duration = Duration::from_secs(2);
/// Connections that must have ended since the last trim for another one.
const ENDED_BETWEEN_TRIMS: u64 = 64;

/// Runs until `token` is cancelled.
pub(crate) async fn trim_after_bursts(stats: StatsHandle, token: CancellationToken) {
    let mut ended_at_last_trim = 0;
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tokio::time::sleep(EVERY) => {}
        }
        let now = stats.snapshot();
        let ended = now.total_connections.saturating_sub(now.open_connections);
        if ended >= ended_at_last_trim + ENDED_BETWEEN_TRIMS {
            ended_at_last_trim = ended;
            // Off the workers: walking a large heap's arenas would hold up due pushes.
            let _ = tokio::task::spawn_blocking(release_free_memory).await;
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn release_free_memory() {
    // SAFETY: malloc_trim only walks the allocator's own free lists; any pad is valid.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_memory() {}
