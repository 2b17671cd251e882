//! `probe report FILE...`: read the runs, merge them, write the matrix as text or HTML.

use crate::error::ConfigError;
use crate::matrix::document::{self, DocumentError};
use crate::matrix::watch_log::{self, WatchLog};
use crate::matrix::{html, merge, text, watch_html, watch_text};
use crate::output;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// probe.result/v1 JSON files (`probe run --format json`), one per run, and `probe watch`
    /// event files (`--events`, JSON lines; rotated ones too), from any number of segments.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// Output format: a text table, one self-contained HTML file with charts, or only the
    /// watch timeline as an SVG image.
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
    /// Only the timeline of `probe watch` event files (a lane per segment, incidents in red),
    /// the picture the HTML report draws, as one SVG image for a README or a wiki page.
    Svg,
}

/// Exit code 0 when the report was written; a bad input file is a configuration error (2).
pub fn command(args: &ReportArgs) -> Result<u8, ConfigError> {
    let mut runs = Vec::new();
    let mut watch = WatchLog::default();
    for path in &args.files {
        let content =
            std::fs::read_to_string(path).map_err(|source| DocumentError::Unreadable {
                file: path.clone(),
                source,
            })?;
        if watch_log::is_event_file(&content) {
            watch.add(&content, path)?;
        } else {
            runs.push(document::parse(&content, path)?);
        }
    }
    watch.finish();
    let matrix = (!runs.is_empty()).then(|| merge::build(runs));
    let watched = !watch.segments.is_empty();
    let report = match (args.format, &matrix) {
        (MatrixFormat::Svg, _) => watch_html::timeline_svg(&watch).ok_or_else(|| {
            ConfigError::Input(
                "--format svg draws the timeline of `probe watch` event files (--events): none was given"
                    .into(),
            )
        })?,
        (MatrixFormat::Text, Some(m)) if watched => {
            format!("{}\n{}", text::render(m), watch_text::render(&watch))
        }
        (MatrixFormat::Text, Some(m)) => text::render(m),
        (MatrixFormat::Text, None) => watch_text::render(&watch),
        (MatrixFormat::Html, Some(m)) if watched => {
            html::render_with(m, &watch_html::section(&watch))
        }
        (MatrixFormat::Html, Some(m)) => html::render(m),
        (MatrixFormat::Html, None) => watch_html::document(&watch),
    };
    output::write(args.output.as_deref(), "--output", report.as_bytes())?;
    Ok(0)
}
