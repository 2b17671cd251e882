//! Where reports go: standard output and error (a closed pipe ends quietly), files (replaced atomically,
//! so a reader never sees half of one), and the Prometheus textfile.

mod atomic;

use crate::error::UserError;
use crate::report::prometheus;
use crate::result::RunResult;
use std::io::Write;
use std::path::{Path, PathBuf};

/// A report that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write the report: {0}")]
    Stdout(std::io::Error),
    #[error("{flag} {}: cannot write: {source}", .path.display())]
    File {
        flag: String,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl UserError for OutputError {}

/// Writes to stdout; a closed pipe (`probe ... | head`) is not an error worth a panic.
pub fn write_stdout(bytes: &[u8]) -> Result<(), OutputError> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(OutputError::Stdout(e)),
    }
}

/// One line on stderr (a status line of `probe serve`); a closed stderr ends it quietly.
pub fn stderr_line(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(line.as_bytes());
    let _ = stderr.write_all(b"\n");
}

/// Writes `text` to `path` (named by `flag` in errors), or to stdout without one.
pub fn write(path: Option<&Path>, flag: &str, text: &[u8]) -> Result<(), OutputError> {
    match path {
        Some(path) => write_file(path, flag, text),
        None => write_stdout(text),
    }
}

/// Replaces `path` atomically with `text`; errors name `flag` and the path.
pub fn write_file(path: &Path, flag: &str, text: &[u8]) -> Result<(), OutputError> {
    atomic::write(path, text).map_err(|source| OutputError::File {
        flag: flag.to_string(),
        path: path.to_path_buf(),
        source,
    })
}

/// `--prometheus-textfile`: the exposition, replaced atomically for node_exporter's textfile
/// collector.
pub fn write_textfile(path: &Path, result: &RunResult) -> Result<(), OutputError> {
    write_file(
        path,
        "--prometheus-textfile",
        prometheus::render(result).as_bytes(),
    )
}
