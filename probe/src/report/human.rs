//! The human report: a header, then a compact table per target.

use crate::advice::fmt_s;
use crate::outcome::{Outcome, Status, Verdict};
use crate::result::{CheckResult, IdleReport, RunResult, TargetResult};
use anstyle::{AnsiColor, Style};
use std::fmt::Write;

pub fn render(result: &RunResult, color: bool) -> String {
    let paint = Painter { color };
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
    if let Some(proxy) = &result.proxy {
        let _ = writeln!(out, "proxy {proxy}");
    }
    for note in &result.notes {
        let _ = writeln!(out, "note: {note}");
    }
    for target in &result.targets {
        out.push('\n');
        render_target(&mut out, target, &paint);
    }
    let failed: Vec<&str> = result
        .targets
        .iter()
        .filter(|t| t.verdict == Verdict::Fail)
        .map(|t| t.name.as_str())
        .collect();
    let _ = writeln!(out);
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

fn render_target(out: &mut String, t: &TargetResult, paint: &Painter) {
    let required = if t.required { "" } else { "  (optional)" };
    let _ = writeln!(out, "{}  {}{required}", paint.bold(&t.name), t.url);
    let outcome_width = t
        .checks
        .iter()
        .map(|c| c.outcome.as_str().len())
        .max()
        .unwrap_or(0);
    let check_width = t
        .checks
        .iter()
        .map(|c| c.check.as_str().len())
        .max()
        .unwrap_or(0);
    for c in &t.checks {
        let _ = writeln!(
            out,
            "  {:<cw$} {} {:<ow$} {:>9}  {}",
            c.check.as_str(),
            paint.status(c.status, &format!("{:<4}", c.status.as_str())),
            c.outcome.as_str(),
            duration(c),
            c.message,
            cw = check_width,
            ow = outcome_width
        );
    }
    if let Some(idle) = &t.idle {
        render_idle(out, idle);
    }
    if let Some(t) = &t.timings_ms {
        let phases: Vec<String> = t
            .phases
            .iter()
            .map(|(phase, p)| format!("{phase} p50 {:.1} p99 {:.1} max {:.1}", p.p50, p.p99, p.max))
            .collect();
        let _ = writeln!(
            out,
            "  timings over {} pass(es), {} failed, ms: {}",
            t.samples,
            t.failed_samples,
            phases.join("; ")
        );
    }
}

/// The ladder in one line, runs of equal outcomes folded: `30-225 s survived | 240 s reset`.
fn render_idle(out: &mut String, idle: &IdleReport) {
    let mut runs: Vec<(f64, f64, Outcome)> = Vec::new();
    for rung in idle.rungs() {
        match runs.last_mut() {
            Some(last) if last.2 == rung.outcome => last.1 = rung.idle_s,
            _ => runs.push((rung.idle_s, rung.idle_s, rung.outcome)),
        }
    }
    let rungs: Vec<String> = runs
        .iter()
        .map(|(a, b, o)| {
            if a == b {
                format!("{} s {o}", fmt_s(*a))
            } else {
                format!("{}-{} s {o}", fmt_s(*a), fmt_s(*b))
            }
        })
        .collect();
    let _ = writeln!(
        out,
        "  idle ladder (required {} s, step {} s): {}",
        fmt_s(idle.required_s),
        fmt_s(idle.step_s),
        rungs.join(" | ")
    );
    let control = match idle.control.failed_after_s {
        Some(t) => format!("{} after {} s", idle.control.outcome, fmt_s(t)),
        None => idle.control.outcome.to_string(),
    };
    let variants: Vec<String> = idle
        .variants
        .iter()
        .map(|v| {
            format!(
                "{} every {} s {}",
                v.variant.as_str(),
                fmt_s(v.interval_s),
                v.outcome
            )
        })
        .collect();
    let variants = if variants.is_empty() {
        String::new()
    } else {
        format!("; {}", variants.join(", "))
    };
    let _ = writeln!(out, "  idle control: {control}{variants}");
}

fn duration(c: &CheckResult) -> String {
    if c.status == Status::Skip {
        String::new()
    } else if c.duration_ms >= 1000.0 {
        format!("{:.1} s", c.duration_ms / 1000.0)
    } else {
        format!("{:.1} ms", c.duration_ms)
    }
}

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_string()
        }
    }

    fn bold(&self, text: &str) -> String {
        self.paint(Style::new().bold(), text)
    }

    fn status(&self, status: Status, text: &str) -> String {
        let color = match status {
            Status::Pass => AnsiColor::Green,
            Status::Warn => AnsiColor::Yellow,
            Status::Fail => AnsiColor::Red,
            Status::Skip => AnsiColor::BrightBlack,
        };
        self.paint(Style::new().fg_color(Some(color.into())).bold(), text)
    }
}
