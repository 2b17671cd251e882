//! Where reports go: standard output and error (a closed pipe ends quietly), files (replaced atomically,
//! so a reader never sees half of one), and the Prometheus textfile.

mod atomic;

use crate::error::ConfigError;
use crate::report::prometheus;
use crate::result::RunResult;
use std::io::Write;
use std::path::Path;

/// Writes to stdout; a closed pipe (`probe ... | head`) is not an error worth a panic.
pub fn write_stdout(bytes: &[u8]) -> Result<(), ConfigError> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|_| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(ConfigError::new(format!("cannot write the report: {e}"))),
    }
}

/// One line on stderr (a status line of `probe serve`); a closed stderr ends it quietly.
pub fn stderr_line(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(line.as_bytes());
    let _ = stderr.write_all(b"\n");
}

/// Writes `text` to `path` (named by `flag` in errors), or to stdout without one.
pub fn write(path: Option<&Path>, flag: &str, text: &[u8]) -> Result<(), ConfigError> {
    match path {
        Some(path) => write_file(path, flag, text),
        None => write_stdout(text),
    }
}

/// Replaces `path` atomically with `text`; errors name `flag` and the path.
pub fn write_file(path: &Path, flag: &str, text: &[u8]) -> Result<(), ConfigError> {
    atomic::write(path, text)
        .map_err(|e| ConfigError::new(format!("{flag} {}: cannot write: {e}", path.display())))
}

/// `--prometheus-textfile`: the exposition, replaced atomically for node_exporter's textfile
/// collector.
pub fn write_textfile(path: &Path, result: &RunResult) -> Result<(), ConfigError> {
    write_file(
        path,
        "--prometheus-textfile",
        prometheus::render(result).as_bytes(),
    )
}
