//! `probe report`: many runs (segments, days) read back from their `probe.result/v1` files and
//! merged into one matrix of targets by segments, rendered as a text table or one HTML file.
//! The formats of a single run are in `report`.

pub mod document;
pub mod html;
pub mod merge;
pub mod svg;
pub mod text;

#[cfg(test)]
mod consistency;
