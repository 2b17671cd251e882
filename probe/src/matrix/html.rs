//! `probe report --format html`: one self-contained HTML file (inline CSS and SVG, no script,
//! no external asset) with the matrix and, per run, the idle ladder and phase timing charts.

use crate::matrix::document::LoadedRun;
use crate::matrix::merge::{idle_bracket, segment_of, Matrix};
use crate::matrix::svg;
use crate::outcome::{Outcome, Verdict};
use crate::report::markup::{attr, text};
use crate::result::diagnose;
use crate::seconds::fmt_s;
use std::fmt::Write;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.35em .7em;text-align:left;vertical-align:top}\
th{background:#f3f3f3}td.pass{background:#e8f5e9}td.fail{background:#ffebee}td.none{color:#999}\
.verdict{font-weight:bold}.diagnosis{border-left:4px solid #c62828;padding-left:.7em}.muted{fill:#777;color:#777}section.run{border-top:1px solid #ccc;margin-top:2em}\
.legend span{display:inline-block;margin-right:1em}.swatch{display:inline-block;width:.8em;height:.8em;margin-right:.3em;border-radius:50%}";

pub fn render(m: &Matrix) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>probe report</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>probe report</h1>\n<p>{} run(s), {} segment(s), {} target(s). Each cell: the latest run's verdict, the first failed check, and the bracket in which idle connections die (survived-failed; &gt;=N s when none failed).</p>\n",
        m.runs.len(),
        m.segments.len(),
        m.targets.len()
    );
    render_matrix(&mut out, m);
    render_legend(&mut out);
    for (i, run) in m.runs.iter().enumerate() {
        render_run(&mut out, i, run);
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn render_matrix(out: &mut String, m: &Matrix) {
    out.push_str("<table id=\"matrix\" class=\"matrix\">\n<thead><tr><th>target</th>");
    for s in &m.segments {
        let _ = write!(out, "<th>{}</th>", text(s));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (r, target) in m.targets.iter().enumerate() {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", text(target));
        for c in 0..m.segments.len() {
            match m.cells.get(&(r, c)) {
                None => out.push_str("<td class=\"none\">-</td>"),
                Some(cell) => {
                    let class = match cell.verdict {
                        Verdict::Pass => "pass",
                        Verdict::Fail => "fail",
                    };
                    let run = &m.runs[cell.run];
                    let _ = write!(
                        out,
                        "<td class=\"{class}\" title=\"{}\"><a href=\"#run-{}\"><span class=\"verdict\">{}</span></a>",
                        attr(&format!(
                            "{} ({} run(s) covered this cell; showing {})",
                            run.file.display(),
                            cell.runs,
                            run.run.started_at
                        )),
                        cell.run + 1,
                        cell.verdict.as_str().to_uppercase()
                    );
                    if let Some((check, outcome)) = &cell.failed_check {
                        let _ = write!(out, " {check} {outcome}");
                    }
                    if let Some(idle) = &cell.idle {
                        let _ = write!(out, "<br>idle {}", text(&idle_bracket(idle)));
                    }
                    out.push_str("</td>");
                }
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

fn render_legend(out: &mut String) {
    out.push_str("<p class=\"legend\">idle probes: ");
    for o in [
        Outcome::Survived,
        Outcome::Reset,
        Outcome::SilentDrop,
        Outcome::Closed,
        Outcome::TlsCloseNotify,
    ] {
        let _ = write!(
            out,
            "<span><span class=\"swatch\" style=\"background:{}\"></span>{o}</span>",
            svg::outcome_color(o)
        );
    }
    out.push_str("</p>\n");
}

fn render_run(out: &mut String, i: usize, loaded: &LoadedRun) {
    let run = &loaded.run;
    let _ = write!(
        out,
        "<section class=\"run\" id=\"run-{}\">\n<h2>run {}: segment {} &middot; {}</h2>\n<p>{} &middot; scenario {} &middot; verdict <span class=\"verdict\">{}</span></p>\n",
        i + 1,
        i + 1,
        text(&segment_of(run)),
        text(&run.started_at),
        text(&loaded.file.display().to_string()),
        text(&run.scenario),
        run.verdict.as_str()
    );
    // A document from a probe older than the field gets the same reading now.
    if let Some(d) = run.diagnosis.clone().or_else(|| diagnose(run)) {
        let _ = writeln!(
            out,
            "<p class=\"diagnosis\"><strong>diagnosis:</strong> {}<br><strong>next step:</strong> {}</p>",
            text(&d.summary()),
            text(&d.next_step)
        );
    }
    let _ = writeln!(out, "<h3>idle ladder</h3>\n{}", svg::idle_ladder(loaded));
    for t in &run.targets {
        if let Some(idle) = &t.idle {
            let _ = writeln!(
                out,
                "<p>{}: idle {} (required {} s): {}</p>",
                text(&t.name),
                idle.verdict,
                fmt_s(idle.required_s),
                text(&idle_bracket(idle))
            );
        }
    }
    let _ = writeln!(
        out,
        "<h3>phase timings</h3>\n{}\n</section>",
        svg::phase_timings(run)
    );
}
