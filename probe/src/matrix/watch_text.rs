//! The text form of a watch log: availability per segment and day, then the incident table.

use super::watch_log::WatchLog;
use crate::seconds::Seconds;
use time::OffsetDateTime;

pub fn render(log: &WatchLog) -> String {
    let mut out = String::from("Watch: pushes delivered per segment and day (UTC)\n");
    let days = log.days();
    let mut rows: Vec<Vec<String>> = vec![std::iter::once("segment".to_string())
        .chain(days.iter().map(|d| d.to_string()))
        .collect()];
    for s in &log.segments {
        let mut row = vec![s.segment.clone()];
        for d in &days {
            row.push(
                match s
                    .days
                    .get(d)
                    .and_then(|t| t.availability_pct().map(|p| (p, t)))
                {
                    Some((p, t)) => format!("{} % ({}/{})", pct(p), t.delivered, t.pushes),
                    None => "-".into(),
                },
            );
        }
        rows.push(row);
    }
    table(&mut out, &rows);
    let total: usize = log.segments.iter().map(|s| s.incidents.len()).sum();
    out.push_str(&format!("\nIncidents: {total}\n"));
    if total > 0 {
        let mut rows = vec![[
            "segment",
            "target",
            "cause",
            "began",
            "ended",
            "lasted",
            "failed pushes",
            "writeback",
        ]
        .map(String::from)
        .to_vec()];
        for s in &log.segments {
            for r in &s.incidents {
                let i = &r.incident;
                let began = match i.start_after {
                    Some(after) => format!("{} - {}", clock(after), clock(i.start_before)),
                    None => format!("by {}", clock(i.start_before)),
                };
                let lasted = match i.duration_max_s {
                    Some(max) => between(i.duration_s, max),
                    None => minutes(i.duration_s),
                };
                rows.push(vec![
                    s.segment.clone(),
                    r.target.clone(),
                    i.cause.to_string(),
                    began,
                    i.end.map_or("(open at the stop)".into(), clock),
                    lasted,
                    i.failed_pushes.to_string(),
                    i.writeback.clone(),
                ]);
            }
        }
        table(&mut out, &rows);
    }
    out
}

/// `98.6`, `100`.
pub fn pct(p: f64) -> String {
    if p >= 99.995 {
        "100".into()
    } else {
        format!("{p:.1}")
    }
}

/// `2026-12-06 02:14:03`.
pub fn clock(t: OffsetDateTime) -> String {
    format!(
        "{} {:02}:{:02}:{:02}",
        t.date(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `12 min`, `45 s`.
pub fn minutes(s: f64) -> String {
    if s >= 120.0 {
        format!("{} min", Seconds::from_f64((s / 60.0).round()))
    } else {
        format!("{} s", Seconds::from_f64(s.round()))
    }
}

/// `12-206 min`, `45 s-3 min`, `7 s` (the least and the most an incident lasted).
pub fn between(least: f64, most: f64) -> String {
    let (a, b) = (minutes(least), minutes(most));
    match (a.strip_suffix(" min"), b.strip_suffix(" min")) {
        _ if a == b => a,
        (Some(a), Some(_)) => format!("{a}-{b}"),
        _ => format!("{a}-{b}"),
    }
}

fn table(out: &mut String, rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|v| v.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(c, v)| format!("{v:<w$}", w = widths[c]))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::watch_log::tests::sample;

    #[test]
    fn availability_and_incidents_as_text() {
        let text = render(&sample());
        assert!(text.contains("segment  2026-12-05   2026-12-06"), "{text}");
        assert!(
            text.contains("dmz      100 % (2/2)  33.3 % (2/6)"),
            "{text}"
        );
        assert!(text.contains("branch   -            100 % (2/2)"), "{text}");
        assert!(text.contains("Incidents: 1"), "{text}");
        assert!(
            text.contains("dmz      relay.lab  silent_drop  by 2026-12-06 02:14:00  2026-12-06 02:24:00  10 min"),
            "{text}"
        );
    }
}
