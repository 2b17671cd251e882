//! Inline SVG charts of one run for the HTML report: the idle ladder and the phase timings.
//! Plain SVG elements only (no script, no external fonts), so the file renders anywhere.

use crate::matrix::document::LoadedRun;
use crate::outcome::Outcome;
use crate::report::markup::{attr, text};
use crate::result::{Direction, IdleReport, Phase, RunResult, TargetResult};
use crate::seconds::{fmt_s, Seconds};
use std::fmt::Write;

const WIDTH: f64 = 760.0;
const LEFT: f64 = 190.0;
const RIGHT: f64 = 30.0;
const LANE: f64 = 44.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 46.0;
/// Tick marks on an axis: `nice_step` aims at 5 to 10.
const MAX_TICKS: u32 = 20;

/// The colour of an idle probe's outcome (also used by the legend).
pub fn outcome_color(o: Outcome) -> &'static str {
    match o {
        Outcome::Survived => "#2e7d32",
        Outcome::Reset => "#c62828",
        Outcome::SilentDrop => "#6a1b9a",
        Outcome::Closed => "#ef6c00",
        Outcome::TlsCloseNotify => "#8d6e63",
        _ => "#607d8b",
    }
}

/// The idle ladder of every target of `run` that had one: a lane per target, x the idle
/// seconds, one mark per probe coloured by outcome (server push above the lane's line, client
/// send below), the required threshold as a dashed line.
pub fn idle_ladder(loaded: &LoadedRun) -> String {
    let run = &loaded.run;
    let lanes: Vec<(&TargetResult, &IdleReport)> = run
        .targets
        .iter()
        .filter_map(|t| t.idle.as_ref().map(|idle| (t, idle)))
        .collect();
    if lanes.is_empty() {
        return format!(
            "<svg class=\"idle-ladder\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"40\" viewBox=\"0 0 {WIDTH} 40\" role=\"img\" aria-label=\"idle ladder\"><text x=\"8\" y=\"24\" class=\"muted\">no idle check in this run (--quick, or no idle requirement)</text></svg>"
        );
    }
    let max_x = lanes
        .iter()
        .map(|(_, idle)| *idle)
        .flat_map(|i| i.probes.iter().map(|p| p.idle_s).chain([i.required_s]))
        .map(Seconds::as_f64)
        .fold(1.0_f64, f64::max)
        * 1.08;
    let plot = WIDTH - LEFT - RIGHT;
    let x = |s: f64| LEFT + s / max_x * plot;
    let height = TOP + LANE * lanes.len() as f64 + BOTTOM;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"idle-ladder\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"idle ladder of {}\">",
        attr(&loaded.file.display().to_string())
    );
    let bottom = TOP + LANE * lanes.len() as f64;
    // Axis with ticks.
    let step = nice_step(max_x);
    let _ = write!(
        out,
        "<line x1=\"{LEFT}\" y1=\"{bottom}\" x2=\"{}\" y2=\"{bottom}\" stroke=\"#888\"/>",
        WIDTH - RIGHT
    );
    // At most MAX_TICKS marks, whatever the numbers of the file (huge, tiny, not finite).
    for t in (0..=MAX_TICKS)
        .map(|i| step * f64::from(i))
        .take_while(|t| *t <= max_x)
    {
        let _ = write!(
            out,
            "<line x1=\"{0:.1}\" y1=\"{1}\" x2=\"{0:.1}\" y2=\"{2}\" stroke=\"#888\"/><text x=\"{0:.1}\" y=\"{3}\" text-anchor=\"middle\" font-size=\"11\">{4}</text>",
            x(t),
            bottom,
            bottom + 4.0,
            bottom + 16.0,
            fmt_s(Seconds::from_f64(t))
        );
    }
    let _ = write!(
        out,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\">idle seconds</text>",
        LEFT + plot / 2.0,
        bottom + 32.0
    );
    for (i, (target, idle)) in lanes.iter().enumerate() {
        let mid = TOP + LANE * i as f64 + LANE / 2.0;
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"12\">{}</text><line x1=\"{LEFT}\" y1=\"{mid}\" x2=\"{}\" y2=\"{mid}\" stroke=\"#ddd\"/>",
            LEFT - 8.0,
            mid + 4.0,
            text(&shorten(&target.name, 26)),
            WIDTH - RIGHT
        );
        let rx = x(idle.required_s.as_f64());
        let _ = write!(
            out,
            "<line class=\"threshold\" x1=\"{rx:.1}\" y1=\"{:.1}\" x2=\"{rx:.1}\" y2=\"{:.1}\" stroke=\"#1565c0\" stroke-width=\"2\" stroke-dasharray=\"5 3\"><title>required {} s</title></line>",
            mid - LANE / 2.0 + 2.0,
            mid + LANE / 2.0 - 2.0,
            fmt_s(idle.required_s)
        );
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"#1565c0\">required {} s</text>",
            rx + 4.0,
            mid - LANE / 2.0 + 10.0,
            fmt_s(idle.required_s)
        );
        for p in &idle.probes {
            let dy = if p.direction == Direction::ServerPush {
                -7.0
            } else {
                7.0
            };
            let _ = write!(
                out,
                "<circle class=\"probe {}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"{}\"><title>{} s {}: {}</title></circle>",
                p.outcome,
                x(p.idle_s.as_f64()),
                mid + dy,
                outcome_color(p.outcome),
                fmt_s(p.idle_s),
                p.direction.as_str(),
                p.outcome
            );
        }
    }
    let _ = write!(
        out,
        "<text x=\"{LEFT}\" y=\"16\" font-size=\"11\" fill=\"#1565c0\">dashed: required idle; marks above a lane: server push, below: client send</text>"
    );
    out.push_str("</svg>");
    out
}

/// Phase timings of the first pass, one stacked bar per target.
pub fn phase_timings(run: &RunResult) -> String {
    const PHASES: [(Phase, &str); 6] = [
        (Phase::Resolve, "#90caf9"),
        (Phase::Connect, "#42a5f5"),
        (Phase::ProxyConnect, "#ab47bc"),
        (Phase::Tls, "#26a69a"),
        (Phase::Processing, "#ffa726"),
        (Phase::Transfer, "#8d6e63"),
    ];
    let bar = 18.0;
    let total = |t: &TargetResult| {
        PHASES
            .iter()
            .filter_map(|(p, _)| t.phases_ms.get(*p))
            .sum::<f64>()
    };
    let max = run.targets.iter().map(total).fold(0.001_f64, f64::max);
    let plot = WIDTH - LEFT - RIGHT - 70.0;
    let height = TOP + (bar + 10.0) * run.targets.len() as f64 + 10.0;
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg class=\"phase-timings\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\" aria-label=\"phase timings\">"
    );
    let mut lx = LEFT;
    for (name, color) in PHASES {
        let _ = write!(
            out,
            "<rect x=\"{lx:.1}\" y=\"6\" width=\"10\" height=\"10\" fill=\"{color}\"/><text x=\"{:.1}\" y=\"15\" font-size=\"11\">{name}</text>",
            lx + 13.0
        );
        lx += 20.0 + name.as_str().len() as f64 * 6.5;
    }
    for (i, target) in run.targets.iter().enumerate() {
        let y = TOP + (bar + 10.0) * i as f64;
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"12\">{}</text>",
            LEFT - 8.0,
            y + 13.0,
            text(&shorten(&target.name, 26))
        );
        let mut at = LEFT;
        for (name, color) in PHASES {
            let Some(ms) = target.phases_ms.get(name) else {
                continue;
            };
            let w = (ms / max * plot).max(1.0);
            let _ = write!(
                out,
                "<rect x=\"{at:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{bar}\" fill=\"{color}\"><title>{name} {ms:.1} ms</title></rect>"
            );
            at += w;
        }
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{:.1} ms</text>",
            at + 6.0,
            y + 13.0,
            total(target)
        );
    }
    out.push_str("</svg>");
    out
}

/// A round tick step giving about 5 to 10 ticks over `span`.
fn nice_step(span: f64) -> f64 {
    let raw = span / 8.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    step.max(0.001)
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max - 1).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tick_steps_are_round() {
        assert_eq!(nice_step(240.0), 50.0);
        assert_eq!(nice_step(8.0), 1.0);
        assert_eq!(nice_step(3.2), 0.5);
    }

    #[test]
    fn absurd_numbers_draw_a_bounded_chart() {
        let mut run = crate::result::tests::sample();
        for n in [
            1.7e308,
            f64::MAX,
            f64::INFINITY,
            f64::NAN,
            -1e308,
            1e-300,
            0.0,
        ] {
            if let Some(idle) = run.targets[0].idle.as_mut() {
                idle.required_s = Seconds::from_f64(n);
                idle.step_s = Seconds::from_f64(n);
                for p in &mut idle.probes {
                    p.idle_s = Seconds::from_f64(n);
                }
            }
            let loaded = crate::matrix::document::LoadedRun {
                file: "absurd.json".into(),
                run: run.clone(),
            };
            let svg = idle_ladder(&loaded);
            assert!(svg.len() < 64 * 1024, "{n}: {} bytes", svg.len());
            assert!(phase_timings(&loaded.run).len() < 64 * 1024);
        }
    }
}
