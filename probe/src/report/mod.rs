//! The formats of one run: one file each, all rendering the same `RunResult`. (Many runs
//! merged into a matrix: `matrix`.)

pub mod human;
pub mod json;
pub mod junit;
pub mod markup;
pub mod prometheus;
pub mod wrap;

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

/// How the human report is laid out for its destination.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Layout {
    /// ANSI styles (a terminal, without `NO_COLOR`).
    pub color: bool,
    /// Wrap lines to this many columns: the terminal's width; `None` off a terminal.
    pub width: Option<usize>,
    /// One line per skipped check (`-v`), instead of one per reason.
    pub verbose: bool,
}

/// The format and layout for a destination: what was asked for, else human on a terminal and
/// JSON into pipes and files; colour and wrapping only on a terminal (colour never with
/// `NO_COLOR` set).
pub fn for_destination(asked: Option<Format>, to_file: bool) -> (Format, Layout) {
    use std::io::IsTerminal;
    let terminal = !to_file && std::io::stdout().is_terminal();
    let format = asked.unwrap_or(if terminal {
        Format::Human
    } else {
        Format::Json
    });
    let layout = Layout {
        color: terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        width: if terminal { wrap::stdout_width() } else { None },
        verbose: false,
    };
    (format, layout)
}

/// Renders `result`; `layout` shapes the human format only.
pub fn render(result: &RunResult, format: Format, layout: Layout) -> String {
    match format {
        Format::Human => human::render(result, layout),
        Format::Json => json::render(result),
        Format::Prometheus => prometheus::render(result),
        Format::Junit => junit::render(result),
    }
}
