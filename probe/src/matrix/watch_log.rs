//! `probe report` over `probe watch` event files (`probe.watch-event/v1` JSON lines) from many
//! segments: availability per segment and day, and the incidents. The rendering is in
//! [`super::watch_text`] and [`super::watch_html`].

use crate::error::UserError;
use crate::watch::event::{Body, Event, Incident, SCHEMA};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use time::{Date, OffsetDateTime};

/// Label of events without a segment.
pub const NO_SEGMENT: &str = "(no segment)";

/// Every event file read, by segment (in the order the files name them).
#[derive(Debug, Default)]
pub struct WatchLog {
    pub segments: Vec<SegmentLog>,
}

#[derive(Debug)]
pub struct SegmentLog {
    pub segment: String,
    /// Pushes and deliveries per UTC day.
    pub days: BTreeMap<Date, Tally>,
    pub incidents: Vec<IncidentRow>,
    /// The first and last event's time: the span the segment was watched.
    pub first: OffsetDateTime,
    pub last: OffsetDateTime,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub pushes: u64,
    pub delivered: u64,
}

impl Tally {
    /// Delivered pushes in percent; `None` without pushes.
    pub fn availability_pct(&self) -> Option<f64> {
        (self.pushes > 0).then(|| 100.0 * self.delivered as f64 / self.pushes as f64)
    }
}

#[derive(Debug, Clone)]
pub struct IncidentRow {
    pub target: String,
    pub incident: Incident,
}

impl IncidentRow {
    /// When it ended, or the segment's last event for one still open at the stop.
    pub fn end_or(&self, last: OffsetDateTime) -> OffsetDateTime {
        self.incident.end.unwrap_or(last)
    }
}

/// A line of an event file that is not an event.
#[derive(Debug, thiserror::Error)]
#[error("{}: line {line}: not a {SCHEMA} event", .file.display())]
pub struct NotAnEvent {
    pub file: PathBuf,
    pub line: usize,
}

impl UserError for NotAnEvent {}

/// Whether `text` is an event file: its first line is a `probe.watch-event/v1` event.
pub fn is_event_file(text: &str) -> bool {
    text.lines()
        .find(|l| !l.trim().is_empty())
        .is_some_and(|l| Event::from_line(l).is_some())
}

impl WatchLog {
    /// Adds one file's events; a line that is not an event names the file and line.
    pub fn add(&mut self, text: &str, path: &Path) -> Result<(), NotAnEvent> {
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let event = Event::from_line(line).ok_or_else(|| NotAnEvent {
                file: path.to_path_buf(),
                line: n + 1,
            })?;
            self.record(event);
        }
        Ok(())
    }

    fn record(&mut self, event: Event) {
        let segment = event.segment.clone().unwrap_or_else(|| NO_SEGMENT.into());
        let log = match self.segments.iter().position(|s| s.segment == segment) {
            Some(i) => &mut self.segments[i],
            None => {
                self.segments.push(SegmentLog {
                    segment,
                    days: BTreeMap::new(),
                    incidents: Vec::new(),
                    first: event.time,
                    last: event.time,
                });
                self.segments.last_mut().expect("just pushed")
            }
        };
        log.first = log.first.min(event.time);
        log.last = log.last.max(event.time);
        match event.body {
            Body::Push(push) => {
                let tally = log.days.entry(event.time.date()).or_default();
                tally.pushes += 1;
                tally.delivered += u64::from(push.outcome.is_delivered());
            }
            Body::Incident(incident) => {
                // The same incident twice (a file given twice, or rotated copies): keep one.
                let seen = log.incidents.iter().any(|r| {
                    r.target == event.target
                        && r.incident.id == incident.id
                        && r.incident.start_before == incident.start_before
                });
                if !seen {
                    log.incidents.push(IncidentRow {
                        target: event.target,
                        incident,
                    });
                }
            }
            Body::Started(_) | Body::Reopen(_) | Body::Stopped(_) => {}
        }
    }

    /// Incidents sorted by start within each segment, and the whole span of the log.
    pub fn finish(&mut self) {
        for s in &mut self.segments {
            s.incidents.sort_by_key(|r| r.incident.start_before);
        }
    }

    /// The earliest and latest event of every segment.
    pub fn span(&self) -> Option<(OffsetDateTime, OffsetDateTime)> {
        let first = self.segments.iter().map(|s| s.first).min()?;
        let last = self.segments.iter().map(|s| s.last).max()?;
        Some((first, last))
    }

    /// Every day any segment has pushes on, in order.
    pub fn days(&self) -> Vec<Date> {
        let mut days: Vec<Date> = self
            .segments
            .iter()
            .flat_map(|s| s.days.keys().copied())
            .collect();
        days.sort();
        days.dedup();
        days
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn line(segment: &str, time: &str, body: &str) -> String {
        format!(
            r#"{{"schema":"probe.watch-event/v1","time":"{time}","target":"relay.lab","url":"relay://relay.lab:8443","segment":"{segment}",{body}}}"#
        )
    }

    pub fn push(segment: &str, time: &str, outcome: &str) -> String {
        line(
            segment,
            time,
            &format!(r#""event":"push","seq":1,"outcome":"{outcome}","idle_s":60.0"#),
        )
    }

    pub fn incident(segment: &str, id: u64, start: &str, end: &str) -> String {
        line(
            segment,
            end,
            &format!(
                r#""event":"incident","id":{id},"cause":"silent_drop","start_after":null,"start_before":"{start}","end":"{end}","duration_s":600.0,"failed_pushes":2,"reopens":1,"writeback":"resets pushed in this window fail""#
            ),
        )
    }

    pub fn sample() -> WatchLog {
        let a = [
            push("dmz", "2026-12-05T23:50:00Z", "delivered"),
            push("dmz", "2026-12-06T02:14:00Z", "silent_drop"),
            push("dmz", "2026-12-06T02:20:00Z", "silent_drop"),
            incident("dmz", 1, "2026-12-06T02:14:00Z", "2026-12-06T02:24:00Z"),
            push("dmz", "2026-12-06T02:24:00Z", "delivered"),
        ]
        .join("\n");
        let b = [
            push("branch", "2026-12-06T01:00:00Z", "delivered"),
            push("branch", "2026-12-06T03:00:00Z", "delivered"),
        ]
        .join("\n");
        let mut log = WatchLog::default();
        log.add(&a, Path::new("dmz.jsonl")).unwrap();
        log.add(&b, Path::new("branch.jsonl")).unwrap();
        // The same file twice counts its incident once.
        log.add(&a, Path::new("dmz.jsonl")).unwrap();
        log.finish();
        log
    }

    #[test]
    fn availability_per_segment_and_day() {
        let log = sample();
        assert_eq!(
            log.segments
                .iter()
                .map(|s| s.segment.as_str())
                .collect::<Vec<_>>(),
            ["dmz", "branch"]
        );
        let dmz = &log.segments[0];
        let day =
            |s: &str| Date::parse(s, &time::format_description::well_known::Iso8601::DATE).unwrap();
        // Pushes count twice (the file was given twice): the share stays.
        assert_eq!(
            dmz.days[&day("2026-12-05")],
            Tally {
                pushes: 2,
                delivered: 2
            }
        );
        assert_eq!(
            dmz.days[&day("2026-12-06")],
            Tally {
                pushes: 6,
                delivered: 2
            }
        );
        assert_eq!(
            dmz.days[&day("2026-12-06")]
                .availability_pct()
                .map(|p| p.round()),
            Some(33.0)
        );
        assert_eq!(dmz.incidents.len(), 1);
        assert_eq!(log.days().len(), 2);
        assert!(log.segments[1].incidents.is_empty());
    }

    #[test]
    fn a_foreign_line_names_the_file_and_line() {
        let mut log = WatchLog::default();
        let text = format!(
            "{}\n{{\"schema\":\"other\"}}\n",
            push("a", "2026-12-06T00:00:00Z", "delivered")
        );
        assert!(is_event_file(&text));
        let e = log.add(&text, Path::new("x.jsonl")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "x.jsonl: line 2: not a probe.watch-event/v1 event"
        );
        assert!(!is_event_file("{\"schema\":\"probe.result/v1\"}"));
    }
}
