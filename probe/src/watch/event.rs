//! What a watch writes: one JSON line per event (`--events FILE`, `/events`), read back by
//! `probe report`. The format is a public contract, `probe.watch-event/v1`:
//!
//! ```text
//! {"schema":"probe.watch-event/v1","time":"2026-12-06T02:14:03.120Z","target":"relay.lab","url":"relay://relay.lab/","segment":"branch-7","host":"ws01","event":"push","seq":41,"outcome":"delivered","latency_ms":3.2,"idle_s":281.0,"listener_age_s":9120.4}
//! {"schema":"probe.watch-event/v1","time":"...","target":"relay.lab",...,"event":"push","seq":42,"outcome":"silent_drop","idle_s":301.5,"listener_age_s":9421.9,"evidence":{"unacked":1,"retransmits":4,"total_retransmits":4,"last_ack_ms":3120}}
//! {"schema":"probe.watch-event/v1","time":"...","target":"relay.lab",...,"event":"reopen","reason":"silent_drop","attempt":1,"backoff_s":0.0,"took_ms":41.0,"ok":true,"down_s":6.2}
//! {"schema":"probe.watch-event/v1","time":"...","target":"relay.lab",...,"event":"incident","id":1,"cause":"silent_drop","start_after":"...","start_before":"...","end":"...","duration_s":702.4,"duration_max_s":988.0,"failed_pushes":2,"reopens":1,"writeback":"..."}
//! ```
//!
//! Every line carries the schema, its time (RFC 3339, UTC), the target's name (unique within
//! the watch) and URL, and the segment and host labels when known; `event` says which of the
//! kinds below the rest of the line is. Push outcomes are `delivered` or the idle check's words
//! for a failure (`reset`, `silent_drop`, `closed`, `tls_close_notify`, `timeout`, ...).
//! Readers ignore fields they do not know; a new field is not a new version, a renamed or
//! retyped one is.

use crate::outcome::Outcome;
use crate::result::TcpEvidence;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use time::OffsetDateTime;

/// Identifies an event line; bump on any incompatible change.
pub const SCHEMA: &str = "probe.watch-event/v1";

/// One line of the event stream.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub schema: String,
    /// When it happened (a push: when it was due; an incident: when it ended, or the watch
    /// stopped).
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    /// The target's name, unique within the watch.
    pub target: String,
    /// The target's URL (credentials never appear in it).
    pub url: String,
    /// The network segment's label (`--segment`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<String>,
    /// The watching machine's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(flatten)]
    pub body: Body,
}

/// What kind of event a line is, and what only that kind says.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Body {
    /// The watch began on this target.
    Started(Started),
    /// One push through the relay to the listener (or, for an `https://` target, one light
    /// check).
    Push(Push),
    /// One attempt to reopen a failed listener.
    Reopen(Reopen),
    /// Consecutive failed pushes, written when the first good delivery ends them (or the watch
    /// stops during one: `end` null).
    Incident(Incident),
    /// The watch stopped; its totals for this target.
    Stopped(Stopped),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Started {
    /// The mean gap between pushes, seconds.
    pub push_every_s: f64,
    /// The listener's keep-alive interval, seconds; null: held completely idle.
    pub keepalive_s: Option<f64>,
    /// The probe's version.
    pub probe_version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Push {
    /// The push's number on this target, from 1.
    pub seq: u64,
    pub outcome: PushOutcome,
    /// Delivered: how long the push took to reach the listener, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
    /// How long the listener had been idle (no push) before this one, seconds.
    pub idle_s: f64,
    /// How long the listener's connection had been open, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_age_s: Option<f64>,
    /// Failed: the kernel's last word on the listener's connection (Linux `TCP_INFO`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<TcpEvidence>,
    /// Failed: what happened, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// An `https://` target's light check: each phase's outcome and time.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phases: Vec<Phase>,
}

/// One phase of a light check (`dns`, `tcp`, `tls`, `http`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Phase {
    pub name: String,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reopen {
    /// Why the listener was reopened: the failure's outcome word (`reset`, `silent_drop`, ...).
    pub reason: Outcome,
    /// The attempt's number in this reopen, from 1.
    pub attempt: u32,
    /// The SDK's backoff waited before this attempt, seconds (0, 1, 2, 5, 10, 30).
    pub backoff_s: f64,
    /// How long the attempt took, milliseconds.
    pub took_ms: f64,
    pub ok: bool,
    /// Failed: why, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Succeeded: how long the listener was down, from the failure seen to listening again,
    /// seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down_s: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    /// The incident's number on this target, from 1.
    pub id: u64,
    /// The first failure's outcome word.
    pub cause: Outcome,
    /// The last good exchange before it: the incident began after this...
    #[serde(with = "time::serde::rfc3339::option")]
    pub start_after: Option<OffsetDateTime>,
    /// ...and no later than the first failed push.
    #[serde(with = "time::serde::rfc3339")]
    pub start_before: OffsetDateTime,
    /// The first good delivery after it; null when the watch stopped during it.
    #[serde(with = "time::serde::rfc3339::option")]
    pub end: Option<OffsetDateTime>,
    /// From the first failed push to `end` (or the stop), seconds: the measured least.
    pub duration_s: f64,
    /// From the last good exchange to `end` (or the stop), seconds: the most it can have been.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_max_s: Option<f64>,
    pub failed_pushes: u64,
    pub reopens: u64,
    /// What password writeback would have seen in this window, in words.
    pub writeback: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stopped {
    pub pushes: u64,
    pub failed: u64,
    pub incidents: u64,
    pub reopens: u64,
    /// How long the watch ran, seconds.
    pub ran_s: f64,
}

/// A push's outcome: `delivered`, or the failure's outcome word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PushOutcome {
    Delivered,
    Failed(Outcome),
}

impl PushOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            PushOutcome::Delivered => "delivered",
            PushOutcome::Failed(o) => o.as_str(),
        }
    }

    pub fn is_delivered(self) -> bool {
        self == PushOutcome::Delivered
    }
}

impl fmt::Display for PushOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for PushOutcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for PushOutcome {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let word = String::deserialize(d)?;
        if word == "delivered" {
            return Ok(PushOutcome::Delivered);
        }
        Outcome::ALL
            .iter()
            .find(|o| o.as_str() == word)
            .map(|o| PushOutcome::Failed(*o))
            .ok_or_else(|| serde::de::Error::custom(format!("unknown push outcome `{word}`")))
    }
}

impl Event {
    /// The event as one JSON line, without its newline.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).expect("events always serialise")
    }

    /// Reads one line; `None` for a line that is not a `probe.watch-event/v1` event.
    pub fn from_line(line: &str) -> Option<Event> {
        let event: Event = serde_json::from_str(line).ok()?;
        (event.schema == SCHEMA).then_some(event)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> OffsetDateTime {
        OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap()
    }

    fn event(body: Body) -> Event {
        Event {
            schema: SCHEMA.into(),
            time: at("2026-12-06T02:14:03.12Z"),
            target: "relay.lab".into(),
            url: "relay://relay.lab/".into(),
            segment: Some("branch-7".into()),
            host: None,
            body,
        }
    }

    #[test]
    fn every_kind_round_trips_through_one_line() {
        let push = Push {
            seq: 42,
            outcome: PushOutcome::Failed(Outcome::SilentDrop),
            latency_ms: None,
            idle_s: 301.5,
            listener_age_s: Some(9421.9),
            evidence: Some(TcpEvidence {
                unacked: 1,
                retransmits: 4,
                total_retransmits: 4,
                last_ack_ms: 3120,
            }),
            detail: Some("no push, and the echo went unanswered".into()),
            phases: vec![],
        };
        let incident = Incident {
            id: 1,
            cause: Outcome::Reset,
            start_after: Some(at("2026-12-06T02:10:00Z")),
            start_before: at("2026-12-06T02:14:03Z"),
            end: None,
            duration_s: 12.5,
            duration_max_s: None,
            failed_pushes: 3,
            reopens: 1,
            writeback: "resets fail".into(),
        };
        for body in [
            Body::Push(push),
            Body::Incident(incident),
            Body::Reopen(Reopen {
                reason: Outcome::Reset,
                attempt: 2,
                backoff_s: 1.0,
                took_ms: 12.0,
                ok: false,
                error: Some("refused".into()),
                down_s: None,
            }),
        ] {
            let e = event(body);
            let line = e.to_line();
            assert!(!line.contains('\n'));
            assert_eq!(Event::from_line(&line), Some(e), "{line}");
        }
    }

    #[test]
    fn the_line_names_its_schema_kind_and_outcome_in_plain_words() {
        let line = event(Body::Push(Push {
            seq: 1,
            outcome: PushOutcome::Delivered,
            latency_ms: Some(3.2),
            idle_s: 1.0,
            listener_age_s: None,
            evidence: None,
            detail: None,
            phases: vec![],
        }))
        .to_line();
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["schema"], "probe.watch-event/v1");
        assert_eq!(v["event"], "push");
        assert_eq!(v["outcome"], "delivered");
        assert_eq!(v["time"], "2026-12-06T02:14:03.12Z");
        let failed = line.replace("\"delivered\"", "\"silent_drop\"");
        assert!(matches!(
            Event::from_line(&failed).unwrap().body,
            Body::Push(p) if p.outcome == PushOutcome::Failed(Outcome::SilentDrop)
        ));
        assert!(Event::from_line(&line.replace("\"delivered\"", "\"melted\"")).is_none());
        assert!(Event::from_line(&line.replace("watch-event/v1", "watch-event/v9")).is_none());
    }
}
