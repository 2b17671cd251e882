//! One target's table: a row per check, checks skipped for the same reason folded into one
//! line (one row each with `-v`), then the idle ladder and timings.

use super::paint::Painter;
use crate::outcome::{Outcome, Status};
use crate::report::wrap::hanging;
use crate::report::Layout;
use crate::result::{CheckResult, IdleReport, TargetResult};
use crate::seconds::{fmt_s, Seconds};
use std::fmt::Write;

/// What a check's line is: its own row, a line for every check skipped for its reason, or
/// nothing (folded into an earlier line).
enum Line<'a> {
    Row(&'a CheckResult),
    Folded(Vec<&'a CheckResult>),
}

/// Why a check was skipped, for folding: its message without a closing parenthetical (`not
/// run: name resolution failed (the URLs of an unverified chain are never fetched)` folds with
/// the other checks skipped because name resolution failed; `-v` shows the whole message).
fn reason(c: &CheckResult) -> &str {
    let m = c.message.as_str();
    match m
        .strip_suffix(')')
        .and_then(|s| s.rfind(" (").map(|i| &m[..i]))
    {
        Some(short) if m.starts_with("not run: ") => short,
        _ => m,
    }
}

/// The lines of `checks`: skipped checks with the same [`reason`] fold into one, at the first
/// one's place, unless `verbose`.
fn lines(checks: &[CheckResult], verbose: bool) -> Vec<Line<'_>> {
    let mut lines: Vec<Line<'_>> = Vec::new();
    for c in checks {
        let fold_into = (!verbose && c.status == Status::Skip)
            .then(|| {
                lines.iter().position(|l| match l {
                    Line::Row(r) => r.status == Status::Skip && reason(r) == reason(c),
                    Line::Folded(f) => reason(f[0]) == reason(c),
                })
            })
            .flatten();
        match fold_into {
            Some(i) => {
                let line = &mut lines[i];
                if let Line::Row(first) = line {
                    let first = *first;
                    *line = Line::Folded(vec![first]);
                }
                if let Line::Folded(f) = line {
                    f.push(c);
                }
            }
            None => lines.push(Line::Row(c)),
        }
    }
    lines
}

pub fn render(out: &mut String, t: &TargetResult, paint: &Painter, layout: Layout) {
    let required = if t.required { "" } else { "  (optional)" };
    let _ = writeln!(out, "{}  {}{required}", paint.bold(&t.name), t.url);
    let lines = lines(&t.checks, layout.verbose);
    let rows = || {
        lines.iter().filter_map(|l| match l {
            Line::Row(c) => Some(*c),
            Line::Folded(_) => None,
        })
    };
    let outcome_width = rows().map(|c| c.outcome.as_str().len()).max().unwrap_or(0);
    let check_width = rows().map(|c| c.check.as_str().len()).max().unwrap_or(0);
    for line in &lines {
        match line {
            Line::Row(c) => {
                let prefix = format!(
                    "  {:<cw$} {} {:<ow$} {:>9}  ",
                    c.check.as_str(),
                    paint.status(c.status, &format!("{:<4}", c.status.as_str())),
                    c.outcome.as_str(),
                    duration(c),
                    cw = check_width,
                    ow = outcome_width
                );
                let cols = 2 + check_width + 1 + 4 + 1 + outcome_width + 1 + 9 + 2;
                out.push_str(&hanging(&prefix, cols, &c.message, layout.width));
            }
            Line::Folded(checks) => {
                let names: Vec<&str> = checks.iter().map(|c| c.check.as_str()).collect();
                let names = names.join(" ");
                let why = reason(checks[0]);
                let why = match why.strip_prefix("not run: ") {
                    Some(why) => format!("not run, {why}"),
                    None => why.to_string(),
                };
                let prefix = format!("  {}: ", paint.status(Status::Skip, &names));
                out.push_str(&hanging(&prefix, names.len() + 4, &why, layout.width));
            }
        }
    }
    if let Some(idle) = &t.idle {
        render_idle(out, idle, layout);
    }
    if let Some(t) = &t.timings_ms {
        let phases: Vec<String> = t
            .phases
            .iter()
            .map(|(phase, p)| format!("{phase} p50 {:.1} p99 {:.1} max {:.1}", p.p50, p.p99, p.max))
            .collect();
        let prefix = format!(
            "  timings over {} pass(es), {} failed, ms: ",
            t.samples, t.failed_samples
        );
        out.push_str(&hanging(
            &prefix,
            prefix.len(),
            &phases.join("; "),
            layout.width,
        ));
    }
}

/// The ladder in one line, runs of equal outcomes folded: `30-225 s survived | 240 s reset`.
fn render_idle(out: &mut String, idle: &IdleReport, layout: Layout) {
    let mut runs: Vec<(Seconds, Seconds, Outcome)> = Vec::new();
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
    let prefix = format!(
        "  idle ladder (required {} s, step {} s): ",
        fmt_s(idle.required_s),
        fmt_s(idle.step_s),
    );
    out.push_str(&hanging(
        &prefix,
        prefix.len(),
        &rungs.join(" | "),
        layout.width,
    ));
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
    let prefix = "  idle control: ";
    out.push_str(&hanging(
        prefix,
        prefix.len(),
        &format!("{control}{variants}"),
        layout.width,
    ));
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
