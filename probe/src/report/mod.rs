//! Report formats: one file each, all rendering the same `RunResult`.

pub mod document;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod markup;
pub mod matrix_text;
pub mod merge;
pub mod prometheus;
pub mod svg;

use crate::result::RunResult;
use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A compact table per target, for people.
    Human,
    /// The `probe.result/v1` document, for machines.
    Json,
    /// Prometheus text exposition (blackbox_exporter-style names), e.g. for node_exporter's
    /// textfile collector.
    Prometheus,
    /// JUnit XML: a test suite per target, a test case per check, for a CI's test view.
    Junit,
}

/// The format and colouring for a destination: what was asked for, else human on a terminal
/// and JSON into pipes and files; colour only on a terminal, and never with `NO_COLOR` set.
pub fn for_destination(asked: Option<Format>, to_file: bool) -> (Format, bool) {
    use std::io::IsTerminal;
    let terminal = !to_file && std::io::stdout().is_terminal();
    let format = asked.unwrap_or(if terminal {
        Format::Human
    } else {
        Format::Json
    });
    let color = terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    (format, color)
}

/// Renders `result`; `color` adds ANSI styles (human format only).
pub fn render(result: &RunResult, format: Format, color: bool) -> String {
    match format {
        Format::Human => human::render(result, color),
        Format::Json => json::render(result),
        Format::Prometheus => prometheus::render(result),
        Format::Junit => junit::render(result),
    }
}
