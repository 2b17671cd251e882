//! Live counters of a serving process, read by `GET /stats` and by library users.

use relay_protocol::channel::Stats;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[derive(Debug, Default)]
struct Counters {
    open: AtomicU64,
    total: AtomicU64,
    held: AtomicU64,
    pushes: AtomicU64,
    listeners: AtomicU64,
    senders_waiting: AtomicU64,
    rendezvous_open: AtomicU64,
    accepts_sent: AtomicU64,
    rejected: AtomicU64,
    rendezvous_total: AtomicU64,
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
            hc_listeners: self.0.listeners.load(Ordering::Relaxed),
            hc_senders_waiting: self.0.senders_waiting.load(Ordering::Relaxed),
            hc_rendezvous_open: self.0.rendezvous_open.load(Ordering::Relaxed),
            hc_accepts_sent: self.0.accepts_sent.load(Ordering::Relaxed),
            hc_rejected: self.0.rejected.load(Ordering::Relaxed),
            hc_rendezvous_total: self.0.rendezvous_total.load(Ordering::Relaxed),
        }
    }

    /// Counts a connection as open until the returned guard is dropped.
    pub(crate) fn connection(&self) -> Gauge {
        self.0.total.fetch_add(1, Ordering::Relaxed);
        self.gauge(GaugeKind::Open)
    }

    /// Counts a pending hold until the returned guard is dropped.
    pub(crate) fn hold(&self) -> Gauge {
        self.gauge(GaugeKind::Held)
    }

    pub(crate) fn pushed(&self) {
        self.0.pushes.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts an open Hybrid Connections control channel until the guard is dropped.
    pub(crate) fn listener(&self) -> Gauge {
        self.gauge(GaugeKind::Listener)
    }

    /// Counts a sender waiting for a listener's answer until the guard is dropped.
    pub(crate) fn sender_waiting(&self) -> Gauge {
        self.gauge(GaugeKind::SenderWaiting)
    }

    /// Counts an open rendezvous until the guard is dropped (and one more in the total).
    pub(crate) fn rendezvous(&self) -> Gauge {
        self.0.rendezvous_total.fetch_add(1, Ordering::Relaxed);
        self.gauge(GaugeKind::Rendezvous)
    }

    pub(crate) fn accept_sent(&self) {
        self.0.accepts_sent.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn rejected(&self) {
        self.0.rejected.fetch_add(1, Ordering::Relaxed);
    }

    fn gauge(&self, kind: GaugeKind) -> Gauge {
        kind.counter(self).fetch_add(1, Ordering::Relaxed);
        Gauge {
            stats: self.clone(),
            kind,
        }
    }
}

#[derive(Debug)]
enum GaugeKind {
    Open,
    Held,
    Listener,
    SenderWaiting,
    Rendezvous,
}

impl GaugeKind {
    fn counter<'a>(&self, stats: &'a StatsHandle) -> &'a AtomicU64 {
        let c = &stats.0;
        match self {
            GaugeKind::Open => &c.open,
            GaugeKind::Held => &c.held,
            GaugeKind::Listener => &c.listeners,
            GaugeKind::SenderWaiting => &c.senders_waiting,
            GaugeKind::Rendezvous => &c.rendezvous_open,
        }
    }
}

/// Decrements its gauge on drop, so every exit path (error, panic, shutdown) is counted.
#[derive(Debug)]
pub(crate) struct Gauge {
    stats: StatsHandle,
    kind: GaugeKind,
}

impl Drop for Gauge {
    fn drop(&mut self) {
        self.kind
            .counter(&self.stats)
            .fetch_sub(1, Ordering::Relaxed);
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
        let listener = stats.listener();
        let rendezvous = stats.rendezvous();
        stats.pushed();
        stats.accept_sent();
        assert_eq!(
            stats.snapshot(),
            Stats {
                open_connections: 1,
                total_connections: 1,
                held_connections: 1,
                pushes_sent: 1,
                hc_listeners: 1,
                hc_rendezvous_open: 1,
                hc_rendezvous_total: 1,
                hc_accepts_sent: 1,
                ..Stats::default()
            }
        );
        drop((hold, conn, listener, rendezvous));
        let after = stats.snapshot();
        assert_eq!((after.open_connections, after.held_connections), (0, 0));
        assert_eq!((after.hc_listeners, after.hc_rendezvous_open), (0, 0));
        assert_eq!((after.total_connections, after.hc_rendezvous_total), (1, 1));
    }
}
