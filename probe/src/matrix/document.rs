//! Reading `probe.result/v1` documents back (for `probe report`), into the same types a run
//! writes them from. Fields added by a later minor version are ignored.

use crate::error::ConfigError;
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

/// Reads one result file; every error names the file, and the JSON line and column.
pub fn load(path: &Path) -> Result<LoadedRun, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(format!("{}: cannot read: {e}", path.display())))?;
    parse(&text, path)
}

pub fn parse(text: &str, path: &Path) -> Result<LoadedRun, ConfigError> {
    // The schema first: another document (or a later major version) gets one plain sentence
    // rather than a complaint about its first unexpected field.
    #[derive(Deserialize)]
    struct Head {
        schema: Option<serde_json::Value>,
    }
    if let Ok(head) = serde_json::from_str::<Head>(text) {
        let schema = head.schema.unwrap_or(serde_json::Value::Null);
        if schema != SCHEMA {
            return Err(ConfigError::new(format!(
                "{}: not a {} document (its schema is {schema})",
                path.display(),
                SCHEMA
            )));
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let run: RunResult = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        // Positions serde could not name (`?`) add nothing to the line and column.
        let at = e.path().to_string();
        let at = at.trim_end_matches(".?").trim_end_matches('?');
        let field = if at.is_empty() || at == "." {
            String::new()
        } else {
            format!(" (at {at})")
        };
        ConfigError::new(format!(
            "{}: line {} column {}: not a probe.result/v1 document: {}{field}",
            path.display(),
            inner.line(),
            inner.column(),
            without_position(&inner.to_string()),
        ))
    })?;
    de.end().map_err(|e| {
        ConfigError::new(format!(
            "{}: line {} column {}: unexpected data after the document",
            path.display(),
            e.line(),
            e.column()
        ))
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
        assert!(err.0.starts_with("a.json: line 3 column"), "{err}");
        assert!(err.0.contains("verdict"), "{err}");
        let err = parse("{\"schema\": \"probe.result/v2\"}", Path::new("v.json")).unwrap_err();
        assert!(err.0.contains("its schema is \"probe.result/v2\""), "{err}");
        let err = parse("{\"schema\":", Path::new("b.json")).unwrap_err();
        assert!(err.0.starts_with("b.json: line 1 column 10"), "{err}");
    }
}
