//! The HTML form of a watch log: the availability table, and a timeline per segment (inline
//! SVG, one shared time axis) with the watched span in green and each incident drawn on it in
//! red, its window and cause in a tooltip.

use super::watch_log::WatchLog;
use super::watch_text::{clock, minutes, pct};
use crate::report::markup::{attr, text};
use std::fmt::Write;

const WIDTH: f64 = 760.0;
const LEFT: f64 = 150.0;
const RIGHT: f64 = 20.0;
const LANE: f64 = 30.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 30.0;

/// The watch section (`<section id="watch">`), to put in the report's body.
pub fn section(log: &WatchLog) -> String {
    let mut out =
        String::from("<section id=\"watch\">\n<h2>Watch: pushes through the relay</h2>\n");
    let days = log.days();
    out.push_str("<table class=\"availability\">\n<thead><tr><th>segment</th>");
    for d in &days {
        let _ = write!(out, "<th>{d}</th>");
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for s in &log.segments {
        let _ = write!(out, "<tr><th scope=\"row\">{}</th>", text(&s.segment));
        for d in &days {
            match s
                .days
                .get(d)
                .and_then(|t| t.availability_pct().map(|p| (p, t)))
            {
                Some((p, t)) => {
                    let class = if t.delivered == t.pushes {
                        "pass"
                    } else {
                        "fail"
                    };
                    let _ = write!(
                        out,
                        "<td class=\"{class}\">{} % ({}/{})</td>",
                        pct(p),
                        t.delivered,
                        t.pushes
                    );
                }
                None => out.push_str("<td class=\"none\">-</td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
    out.push_str(&timeline(log));
    out.push_str("</section>\n");
    out
}

/// A standalone document holding only the watch section.
pub fn document(log: &WatchLog) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>probe report</title>\n<style>{}</style>\n</head>\n<body>\n<h1>probe report</h1>\n{}</body>\n</html>\n",
        super::html::STYLE,
        section(log)
    )
}

/// The timeline alone, as a standalone SVG image (`probe report --format svg`): the same
/// drawing the HTML report embeds; `None` when the log holds no event.
pub fn timeline_svg(log: &WatchLog) -> Option<String> {
    let svg = timeline(log);
    (!svg.is_empty()).then(|| format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{svg}"))
}

/// One lane per segment on a shared time axis.
fn timeline(log: &WatchLog) -> String {
    let Some((first, last)) = log.span() else {
        return String::new();
    };
    let span_s = (last - first).as_seconds_f64().max(1.0);
    let plot = WIDTH - LEFT - RIGHT;
    let x = |t: time::OffsetDateTime| {
        LEFT + plot * ((t - first).as_seconds_f64() / span_s).clamp(0.0, 1.0)
    };
    let height = TOP + LANE * log.segments.len() as f64 + BOTTOM;
    // A white page under the drawing: its black labels stay legible where the SVG is shown
    // alone on a dark page (a README in GitHub's dark theme).
    let mut out = format!(
        "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" role=\"img\"><title>{}</title>\n<rect class=\"page\" width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n",
        text("Timeline per segment: watched (green) and incidents (red)")
    );
    for (i, s) in log.segments.iter().enumerate() {
        let y = TOP + LANE * i as f64;
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"12\">{}</text>\n<rect class=\"watched\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#c8e6c9\"><title>{}</title></rect>\n",
            LEFT - 8.0,
            y + LANE / 2.0 + 4.0,
            text(&s.segment),
            x(s.first),
            y + 6.0,
            (x(s.last) - x(s.first)).max(1.0),
            LANE - 12.0,
            attr(&format!("{}: watched {} - {}", s.segment, clock(s.first), clock(s.last)))
        );
        for r in &s.incidents {
            let i = &r.incident;
            let start = i.start_after.unwrap_or(i.start_before);
            let end = r.end_or(s.last);
            let tip = format!(
                "{} {}: incident {} ({}), began {}{}, ended {}, lasted {}; {} failed push(es). {}",
                s.segment,
                r.target,
                i.id,
                i.cause,
                i.start_after
                    .map_or(String::new(), |a| format!("after {} and ", clock(a))),
                format_args!("by {}", clock(i.start_before)),
                i.end.map_or("(open at the stop)".into(), clock),
                minutes(i.duration_s),
                i.failed_pushes,
                i.writeback
            );
            let _ = writeln!(
                out,
                "<rect class=\"incident\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#c62828\"><title>{}</title></rect>",
                x(start),
                y + 3.0,
                (x(end) - x(start)).max(2.0),
                LANE - 6.0,
                attr(&tip)
            );
        }
    }
    // The axis: the first and last time, and midnight (UTC) of each day between.
    let axis_y = TOP + LANE * log.segments.len() as f64;
    let _ = writeln!(
        out,
        "<line x1=\"{LEFT}\" y1=\"{axis_y:.1}\" x2=\"{:.1}\" y2=\"{axis_y:.1}\" stroke=\"#777\"/>",
        WIDTH - RIGHT
    );
    for (t, anchor) in [(first, "start"), (last, "end")] {
        let _ = writeln!(
            out,
            "<text class=\"muted\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\" font-size=\"11\">{}</text>",
            x(t),
            axis_y + 24.0,
            clock(t)
        );
    }
    for day in log.days().iter().skip(1) {
        let midnight = day.midnight().assume_utc();
        if midnight > first && midnight < last {
            let _ = writeln!(
                out,
                "<line x1=\"{0:.1}\" y1=\"{TOP}\" x2=\"{0:.1}\" y2=\"{1:.1}\" stroke=\"#bbb\" stroke-dasharray=\"3 3\"/><text class=\"muted\" x=\"{0:.1}\" y=\"{2:.1}\" text-anchor=\"middle\" font-size=\"11\">{day}</text>",
                x(midnight),
                axis_y + 4.0,
                axis_y + 12.0
            );
        }
    }
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::watch_log::tests::sample;

    #[test]
    fn a_lane_per_segment_with_its_incidents() {
        let html = document(&sample());
        assert_eq!(html.matches("<rect class=\"watched\"").count(), 2, "{html}");
        assert_eq!(
            html.matches("<rect class=\"incident\"").count(),
            1,
            "{html}"
        );
        assert!(
            html.contains("dmz relay.lab: incident 1 (silent_drop)"),
            "{html}"
        );
        assert!(
            html.contains("<td class=\"fail\">33.3 % (2/6)</td>"),
            "{html}"
        );
        // Midnight between the two days is marked.
        assert!(html.contains(">2026-12-06</text>"), "{html}");
        // The incident lies inside its segment's watched span.
        let num = |s: &str, key: &str| -> f64 {
            let at = s.find(key).unwrap() + key.len();
            s[at..].split('"').next().unwrap().parse().unwrap()
        };
        let watched = &html[html.find("<rect class=\"watched\"").unwrap()..];
        let incident = &html[html.find("<rect class=\"incident\"").unwrap()..];
        let (wx, ww) = (num(watched, " x=\""), num(watched, "width=\""));
        let (ix, iw) = (num(incident, " x=\""), num(incident, "width=\""));
        assert!(ix >= wx && ix + iw <= wx + ww + 0.1, "{wx} {ww} {ix} {iw}");
    }

    #[test]
    fn the_svg_is_the_timeline_the_html_embeds() {
        let log = sample();
        let svg = timeline_svg(&log).expect("an image");
        let body = svg
            .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
            .expect("an XML declaration");
        assert!(
            body.starts_with("<svg ") && body.ends_with("</svg>\n"),
            "{svg}"
        );
        assert!(document(&log).contains(body));
        assert_eq!(timeline_svg(&WatchLog::default()), None);
    }
}
