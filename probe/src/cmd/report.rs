//! `probe report FILE...`: read the runs, merge them, write the matrix as text or HTML.

use crate::error::ConfigError;
use crate::matrix::{html, merge, text};
use crate::output;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// probe.result/v1 JSON files (`probe run --format json`), one per run.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Output format: a text table, or one self-contained HTML file with charts.
    #[arg(long, value_enum, default_value_t = MatrixFormat::Text)]
    pub format: MatrixFormat,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MatrixFormat {
    /// A plain text table: rows targets, columns segments.
    Text,
    /// One self-contained HTML file: the matrix and, per run, SVG charts of the idle ladder
    /// and the phase timings.
    Html,
}

/// Exit code 0 when the report was written; a bad input file is a configuration error (2).
pub fn command(args: &ReportArgs) -> Result<u8, ConfigError> {
    let matrix = merge::load(&args.files)?;
    let text = match args.format {
        MatrixFormat::Text => text::render(&matrix),
        MatrixFormat::Html => html::render(&matrix),
    };
    output::write(args.output.as_deref(), "--output", text.as_bytes())?;
    Ok(0)
}
