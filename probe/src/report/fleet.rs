//! `probe report FILE...`: read the runs, merge them, write the matrix as text or HTML.

use crate::error::ConfigError;
use crate::report::{atomic, html, matrix_text, merge};
use clap::ValueEnum;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MatrixFormat {
    /// A plain text table: rows targets, columns segments.
    Text,
    /// One self-contained HTML file: the matrix and, per run, SVG charts of the idle ladder
    /// and the phase timings.
    Html,
}

/// Exit code 0 when the report was written; a bad input file is a configuration error (2).
pub fn command(args: &crate::cli::ReportArgs) -> Result<u8, ConfigError> {
    let matrix = merge::load(&args.files)?;
    let text = match args.format {
        MatrixFormat::Text => matrix_text::render(&matrix),
        MatrixFormat::Html => html::render(&matrix),
    };
    match &args.output {
        Some(path) => atomic::write(path, text.as_bytes()).map_err(|e| {
            ConfigError::new(format!("--output {}: cannot write: {e}", path.display()))
        })?,
        None => crate::app::write_stdout(text.as_bytes())?,
    }
    Ok(0)
}
