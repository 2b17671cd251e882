//! What `probe watch --listen` serves: `/metrics`, `/events` and an index, read from the board.

use super::watcher::SharedBoard;
use super::{event, metrics, sink};
use crate::exporter::{Pages, METRICS_TYPE};
use hyper::StatusCode;
use std::sync::PoisonError;
use std::time::Instant;

/// `/metrics`, `/events` and an index.
pub struct WatchPages {
    pub board: SharedBoard,
    pub segment: String,
}

impl Pages for WatchPages {
    fn page(&self, path: &str) -> (StatusCode, &'static str, String) {
        let board = self.board.lock().unwrap_or_else(PoisonError::into_inner);
        match path {
            "/metrics" => (
                StatusCode::OK,
                METRICS_TYPE,
                metrics::render(&board.stats, &self.segment, Instant::now()),
            ),
            "/events" => (
                StatusCode::OK,
                "application/x-ndjson; charset=utf-8",
                board.sink.recent_lines(),
            ),
            "/" => (
                StatusCode::OK,
                "text/plain; charset=utf-8",
                format!(
                    "probe watch\n/metrics  Prometheus exposition (probe_watch_*)\n/events   the latest {} events, JSON lines ({})\n",
                    sink::RECENT,
                    event::SCHEMA
                ),
            ),
            _ => (
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                "not found: try /metrics or /events\n".into(),
            ),
        }
    }
}
