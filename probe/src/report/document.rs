//! Reading `probe.result/v1` documents back (for `probe report`): only the fields the matrix
//! and the charts use, so a later minor addition to the document never breaks reading.

use crate::error::ConfigError;
use crate::outcome::{Outcome, Status, Verdict};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One run, as read from a file.
#[derive(Debug, Clone, Deserialize)]
pub struct RunDoc {
    pub schema: String,
    pub started_at: String,
    pub finished_at: String,
    pub segment: Option<String>,
    pub scenario: String,
    pub verdict: Verdict,
    pub targets: Vec<TargetDoc>,
    /// The file it came from (not part of the document).
    #[serde(skip)]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TargetDoc {
    pub name: String,
    pub url: String,
    pub verdict: Verdict,
    #[serde(default = "yes")]
    pub required: bool,
    pub checks: Vec<CheckDoc>,
    #[serde(default)]
    pub phases_ms: BTreeMap<String, f64>,
    #[serde(default)]
    pub idle: Option<IdleDoc>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
pub struct CheckDoc {
    pub check: String,
    pub status: Status,
    pub outcome: Outcome,
    pub message: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IdleDoc {
    pub required_s: f64,
    pub survived_s: Option<f64>,
    pub failed_s: Option<f64>,
    pub failure: Option<Outcome>,
    /// `pass`, `fail` or `inconclusive`.
    pub verdict: String,
    pub probes: Vec<ProbeDoc>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProbeDoc {
    pub idle_s: f64,
    /// `server_push` or `client_send`.
    pub direction: String,
    pub outcome: Outcome,
}

/// Reads one result file; every error names the file, and the JSON line and column.
pub fn load(path: &Path) -> Result<RunDoc, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ConfigError::new(format!("{}: cannot read: {e}", path.display())))?;
    parse(&text, path)
}

pub fn parse(text: &str, path: &Path) -> Result<RunDoc, ConfigError> {
    // The schema first: another document (or a later major version) gets one plain sentence
    // rather than a complaint about its first unexpected field.
    #[derive(Deserialize)]
    struct Head {
        schema: Option<serde_json::Value>,
    }
    if let Ok(head) = serde_json::from_str::<Head>(text) {
        let schema = head.schema.unwrap_or(serde_json::Value::Null);
        if schema != crate::runner::SCHEMA {
            return Err(ConfigError::new(format!(
                "{}: not a {} document (its schema is {schema})",
                path.display(),
                crate::runner::SCHEMA
            )));
        }
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let mut doc: RunDoc = serde_path_to_error::deserialize(&mut de).map_err(|e| {
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
    doc.file = path.to_path_buf();
    Ok(doc)
}

/// serde_json appends " at line L column C"; the message already starts with the position.
fn without_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) => &message[..i],
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
