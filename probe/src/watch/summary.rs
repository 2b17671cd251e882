//! What a stopped watch prints: per target, the measured headline ("3 of 120 pushes failed
//! (2.5 %), 2 incidents, the longest 12 min from about 02:14 UTC") and its incidents.

use super::event::Incident;
use crate::seconds::Seconds;
use std::fmt::Write;
use time::OffsetDateTime;

/// One target's figures at the stop.
pub struct TargetSummary<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub pushes: u64,
    pub failed: u64,
    pub reopens: u64,
    pub incidents: u64,
    pub longest: Option<(Seconds, OffsetDateTime)>,
    /// The latest incidents (the open one last, if any).
    pub recent: &'a [Incident],
}

/// "N of M pushes failed (x %), K incidents, the longest D from about HH:MM UTC".
pub fn headline(
    pushes: u64,
    failed: u64,
    incidents: u64,
    longest: Option<(Seconds, OffsetDateTime)>,
) -> String {
    let share = if pushes == 0 {
        0.0
    } else {
        failed as f64 * 100.0 / pushes as f64
    };
    let mut s = format!(
        "{failed} of {pushes} push{} failed ({share:.1} %)",
        if pushes == 1 { "" } else { "es" }
    );
    match (incidents, longest) {
        (0, _) | (_, None) => s.push_str(", no incident"),
        (1, Some((d, at))) => {
            let _ = write!(
                s,
                ", 1 incident, {} from about {}",
                duration_words(d),
                clock(at, d)
            );
        }
        (n, Some((d, at))) => {
            let _ = write!(
                s,
                ", {n} incidents, the longest {} from about {}",
                duration_words(d),
                clock(at, d)
            );
        }
    }
    s
}

/// The summary printed when the watch stops.
pub fn render(targets: &[TargetSummary<'_>], why: &str, ran: Seconds) -> String {
    let mut out = format!(
        "probe watch: stopped ({why}) after {}\n",
        duration_words(ran)
    );
    for t in targets {
        let _ = writeln!(
            out,
            "{}  {}\n  {}; {} reopen{}",
            t.name,
            t.url,
            headline(t.pushes, t.failed, t.incidents, t.longest),
            t.reopens,
            if t.reopens == 1 { "" } else { "s" }
        );
        let shown = t.recent.len();
        if (shown as u64) < t.incidents {
            let _ = writeln!(out, "  (the latest {shown} incidents)");
        }
        for i in t.recent {
            let end = match i.end {
                Some(e) => hms(e),
                None => "still on at the stop".into(),
            };
            let _ = writeln!(
                out,
                "  incident {}: {} -> {} ({}), {}, {} failed push{}, {} reopen{}; began after {}",
                i.id,
                hms(i.start_before),
                end,
                duration_words(Seconds::from_f64(i.duration_s)),
                i.cause,
                i.failed_pushes,
                if i.failed_pushes == 1 { "" } else { "es" },
                i.reopens,
                if i.reopens == 1 { "" } else { "s" },
                i.start_after.map_or("the start".into(), hms),
            );
        }
    }
    out
}

/// 42 s, 12 min, 3.5 h, 2.1 d.
pub fn duration_words(span: Seconds) -> String {
    let s = span.as_f64();
    if s < 120.0 {
        format!("{s:.0} s")
    } else if s < 120.0 * 60.0 {
        format!("{:.0} min", s / 60.0)
    } else if s < 48.0 * 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else {
        format!("{:.1} d", s / 86400.0)
    }
}

/// `02:14 UTC`, or to the second for an incident under two minutes.
fn clock(at: OffsetDateTime, duration: Seconds) -> String {
    if duration < Seconds::new(120) {
        hms(at)
    } else {
        format!("{:02}:{:02} UTC", at.hour(), at.minute())
    }
}

fn hms(at: OffsetDateTime) -> String {
    format!("{:02}:{:02}:{:02} UTC", at.hour(), at.minute(), at.second())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_headline_is_measured_words() {
        let at = time::macros::datetime!(2026-12-06 02:14:33 UTC);
        assert_eq!(
            headline(120, 3, 3, Some((Seconds::new(720), at))),
            "3 of 120 pushes failed (2.5 %), 3 incidents, the longest 12 min from about 02:14 UTC"
        );
        assert_eq!(
            headline(10, 1, 1, Some((Seconds::from_millis(4200), at))),
            "1 of 10 pushes failed (10.0 %), 1 incident, 4 s from about 02:14:33 UTC"
        );
        assert_eq!(
            headline(1, 0, 0, None),
            "0 of 1 push failed (0.0 %), no incident"
        );
    }
}
