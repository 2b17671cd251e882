//! The engine of `probe watch` (its flags and entry: `cmd/watch.rs`): a listener that lives like writeback's, for days, pushed at random times
//! through the relay; every delivery is recorded, consecutive failures become incidents, and
//! the figures are served to Prometheus and written as JSON lines.
//!
//! ```text
//! watcher     one target: listener, pushes, reopens (link: the listener; light: https://)
//! incident    consecutive failures -> incidents (pure)
//! schedule    random push times, the SDK's reopen backoff
//! event       the JSON lines (probe.watch-event/v1); sink: memory and rotated file
//! metrics     probe_watch_* families; summary: what a stopped watch prints
//! ```

pub mod event;
pub mod incident;
mod light;
mod link;
pub mod metrics;
pub mod pages;
pub mod schedule;
pub mod sink;
pub mod summary;
pub mod watcher;
