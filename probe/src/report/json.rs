//! The `probe.result/v1` JSON document (schema: `probe/schema/result-v1.json`).

use crate::result::RunResult;

pub fn render(result: &RunResult) -> String {
    let mut text = serde_json::to_string_pretty(result).expect("results always serialise");
    text.push('\n');
    text
}
