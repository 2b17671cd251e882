//! Reading `probe.result/v1` documents back (for `probe report`), into the same types a run
//! writes them from. Fields added by a later minor version are ignored.

use crate::error::UserError;
use crate::result::{RunResult, SCHEMA};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// One run, as read from a file.
#[derive(Debug, Clone)]
pub struct LoadedRun {
    /// The file it came from.
    pub file: PathBuf,
    pub run: RunResult,
}

/// A result file that cannot be read back; every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("{}: cannot read: {source}", .file.display())]
    Unreadable {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: not a {} document (its schema is {schema})", .file.display(), SCHEMA)]
    OtherSchema {
        file: PathBuf,
        schema: serde_json::Value,
    },
    /// `at`: the field's path, when serde could name it.
    #[error("{}: line {line} column {column}: not a probe.result/v1 document: {message}{}", .file.display(), .at.as_ref().map(|a| format!(" (at {a})")).unwrap_or_default())]
    Invalid {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
        at: Option<String>,
    },
    #[error("{}: line {line} column {column}: unexpected data after the document", .file.display())]
    TrailingData {
        file: PathBuf,
        line: usize,
        column: usize,
    },
}

impl UserError for DocumentError {}

/// Reads one result file; every error names the file, and the JSON line and column.
pub fn load(path: &Path) -> Result<LoadedRun, DocumentError> {
    let text = std::fs::read_to_string(path).map_err(|source| DocumentError::Unreadable {
        file: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

pub fn parse(text: &str, path: &Path) -> Result<LoadedRun, DocumentError> {
    // The schema first: another document (or a later major version) gets one plain sentence
    // rather than a complaint about its first unexpected field.
    #[derive(Deserialize)]
    struct Head {
        schema: Option<serde_json::Value>,
    }
    if let Ok(head) = serde_json::from_str::<Head>(text) {
        let schema = head.schema.unwrap_or(serde_json::Value::Null);
        if schema != SCHEMA {
            return Err(DocumentError::OtherSchema {
                file: path.to_path_buf(),
                schema,
            });
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let run: RunResult = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        // Positions serde could not name (`?`) add nothing to the line and column.
        let at = e.path().to_string();
        let at = at.trim_end_matches(".?").trim_end_matches('?');
        DocumentError::Invalid {
            file: path.to_path_buf(),
            line: inner.line(),
            column: inner.column(),
            message: without_position(&inner.to_string()).to_string(),
            at: (!at.is_empty() && at != ".").then(|| at.to_string()),
        }
    })?;
    de.end().map_err(|e| DocumentError::TrailingData {
        file: path.to_path_buf(),
        line: e.line(),
        column: e.column(),
    })?;
    // A file is outside input: its text gets the same cleaning as a run's.
    Ok(LoadedRun {
        file: path.to_path_buf(),
        run: run.sanitized(),
    })
}

/// serde_json appends " at line L column C"; the message already starts with the position.
fn without_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) => message.get(..i).unwrap_or(message),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file_and_position() {
        let err = parse(
            "{\n  \"schema\": \"probe.result/v1\",\n  \"verdict\": 3\n}",
            Path::new("a.json"),
        )
        .unwrap_err();
        assert!(
            err.to_string().starts_with("a.json: line 3 column"),
            "{err}"
        );
        assert!(err.to_string().contains("verdict"), "{err}");
        let err = parse("{\"schema\": \"probe.result/v2\"}", Path::new("v.json")).unwrap_err();
        assert!(
            err.to_string()
                .contains("its schema is \"probe.result/v2\""),
            "{err}"
        );
        let err = parse("{\"schema\":", Path::new("b.json")).unwrap_err();
        assert!(
            err.to_string().starts_with("b.json: line 1 column 10"),
            "{err}"
        );
    }
}
