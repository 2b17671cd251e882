//! Report formats: one file each, all rendering the same `RunResult`.

pub mod human;
pub mod json;

use crate::runner::RunResult;
use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A compact table per target, for people.
    Human,
    /// The `probe.result/v1` document, for machines.
    Json,
}

/// Renders `result`; `color` adds ANSI styles (human format only).
pub fn render(result: &RunResult, format: Format, color: bool) -> String {
    match format {
        Format::Human => human::render(result, color),
        Format::Json => json::render(result),
    }
}
