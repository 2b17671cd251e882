//! `probe report`: many runs (segments, days) read back from their `probe.result/v1` files and
//! merged into one matrix of targets by segments, rendered as a text table or one HTML file;
//! and `probe watch` event files from many segments (`watch_log`), as availability and
//! incidents (`watch_text`, `watch_html`).
//! The formats of a single run are in `report`.

pub mod document;
pub mod html;
pub mod merge;
pub mod svg;
pub mod text;
pub mod watch_html;
pub mod watch_log;
pub mod watch_text;

#[cfg(test)]
mod consistency;
