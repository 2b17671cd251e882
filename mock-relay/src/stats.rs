//! Live counters of a serving process, read by `GET /stats` and by library users.

use crate::protocol::Stats;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, Default)]
struct Counters {
    open: AtomicU64,
    total: AtomicU64,
    held: AtomicU64,
    pushes: AtomicU64,
}

/// A cheap, cloneable handle on the server's counters.
#[derive(Debug, Clone, Default)]
pub struct StatsHandle(Arc<Counters>);

impl StatsHandle {
    /// The counters now, in the wire shape of `GET /stats`.
    pub fn snapshot(&self) -> Stats {
        Stats {
            open_connections: self.0.open.load(Ordering::Relaxed),
            total_connections: self.0.total.load(Ordering::Relaxed),
            held_connections: self.0.held.load(Ordering::Relaxed),
            pushes_sent: self.0.pushes.load(Ordering::Relaxed),
        }
    }

    /// Counts a connection as open until the returned guard is dropped.
    pub(crate) fn connection(&self) -> Gauge {
        self.0.total.fetch_add(1, Ordering::Relaxed);
        self.0.open.fetch_add(1, Ordering::Relaxed);
        Gauge {
            stats: self.clone(),
            kind: GaugeKind::Open,
        }
    }

    /// Counts a pending hold until the returned guard is dropped.
    pub(crate) fn hold(&self) -> Gauge {
        self.0.held.fetch_add(1, Ordering::Relaxed);
        Gauge {
            stats: self.clone(),
            kind: GaugeKind::Held,
        }
    }

    pub(crate) fn pushed(&self) {
        self.0.pushes.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Debug)]
enum GaugeKind {
    Open,
    Held,
}

/// Decrements its gauge on drop, so every exit path (error, panic, shutdown) is counted.
#[derive(Debug)]
pub(crate) struct Gauge {
    stats: StatsHandle,
    kind: GaugeKind,
}

impl Drop for Gauge {
    fn drop(&mut self) {
        let counter = match self.kind {
            GaugeKind::Open => &self.stats.0.open,
            GaugeKind::Held => &self.stats.0.held,
        };
        counter.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gauges_go_down_when_dropped() {
        let stats = StatsHandle::default();
        let conn = stats.connection();
        let hold = stats.hold();
        stats.pushed();
        assert_eq!(
            stats.snapshot(),
            Stats {
                open_connections: 1,
                total_connections: 1,
                held_connections: 1,
                pushes_sent: 1
            }
        );
        drop(hold);
        drop(conn);
        let after = stats.snapshot();
        assert_eq!((after.open_connections, after.held_connections), (0, 0));
        assert_eq!(after.total_connections, 1);
    }
}
