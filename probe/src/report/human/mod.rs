//! The human report: a header and the diagnosis, a compact table per target, then the
//! diagnosis again with its next step, and the verdict. A network engineer reads the first and
//! the last lines, so both say what is wrong when one cause explains every failure.

mod paint;
mod target;
#[cfg(test)]
mod tests;

use super::wrap::hanging;
use super::Layout;
use crate::outcome::{Status, Verdict};
use crate::result::{Diagnosis, RunResult};
use paint::Painter;
use std::fmt::Write;

pub fn render(result: &RunResult, layout: Layout) -> String {
    let paint = Painter {
        color: layout.color,
    };
    let mut out = String::new();
    let segment = result
        .segment
        .as_deref()
        .map(|s| format!("  segment {s}"))
        .unwrap_or_default();
    let _ = writeln!(
        out,
        "{}  cloud {}{segment}  {}",
        paint.bold(&format!("probe {}", result.scenario)),
        result.cloud,
        result.started_at
    );
    // The report is rendered after the run: the cause can open it, right under the header.
    if let Some(d) = &result.diagnosis {
        out.push_str(&labelled(&paint, "diagnosis", &d.summary(), layout));
    }
    if let Some(proxy) = &result.proxy {
        let _ = writeln!(out, "proxy {proxy}");
    }
    for note in &result.notes {
        out.push_str(&hanging("note: ", 6, note, layout.width));
    }
    for target in &result.targets {
        out.push('\n');
        target::render(&mut out, target, &paint, layout);
    }
    out.push('\n');
    if let Some(d) = &result.diagnosis {
        render_diagnosis(&mut out, d, &paint, layout);
    }
    let failed: Vec<&str> = result
        .targets
        .iter()
        .filter(|t| t.verdict == Verdict::Fail)
        .map(|t| t.name.as_str())
        .collect();
    let verdict = match result.verdict {
        Verdict::Pass => paint.status(Status::Pass, "PASS"),
        Verdict::Fail => paint.status(Status::Fail, "FAIL"),
    };
    let _ = write!(out, "verdict: {verdict}");
    if failed.is_empty() {
        let _ = writeln!(out, " ({} target(s) checked)", result.targets.len());
    } else {
        let _ = writeln!(out, " (failed: {})", failed.join(", "));
    }
    out
}

/// The end of the report: the common cause once, and what to do.
fn render_diagnosis(out: &mut String, d: &Diagnosis, paint: &Painter, layout: Layout) {
    out.push_str(&labelled(paint, "diagnosis", &d.summary(), layout));
    out.push_str(&labelled(paint, "next step", &d.next_step, layout));
}

/// `LABEL: text`, the label in bold, continuation lines under the text.
fn labelled(paint: &Painter, label: &str, text: &str, layout: Layout) -> String {
    let prefix = format!("{}: ", paint.bold(label));
    hanging(&prefix, label.len() + 2, text, layout.width)
}
