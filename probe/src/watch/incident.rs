//! From pushes to incidents: consecutive failed pushes on one target are one incident. It began
//! after the last good exchange and no later than the first failed push, it ends at the first
//! good delivery, and its cause is the first failure's outcome. Pure bookkeeping, so the rule
//! is tested on its own.

use super::event::Incident;
use crate::outcome::Outcome;
use crate::seconds::Seconds;
use time::OffsetDateTime;

/// The incidents of one target.
#[derive(Debug, Default)]
pub struct Tracker {
    /// The last delivered push, or the listener's opening, while no incident is open.
    last_good: Option<OffsetDateTime>,
    open: Option<Open>,
    /// Incidents begun (the open one included).
    pub count: u64,
    /// The longest incident so far (ended, or the open one at [`Tracker::finish`]): its
    /// duration and its start.
    pub longest: Option<(Seconds, OffsetDateTime)>,
}

#[derive(Debug)]
struct Open {
    id: u64,
    cause: Outcome,
    start_after: Option<OffsetDateTime>,
    start_before: OffsetDateTime,
    failed: u64,
    reopens: u64,
}

impl Tracker {
    /// The listener opened (first, or again outside an incident): a good exchange.
    pub fn listening(&mut self, at: OffsetDateTime) {
        if self.open.is_none() {
            self.last_good = Some(at);
        }
    }

    /// A push was delivered at `at`: the open incident, if any, ends here.
    pub fn delivered(&mut self, at: OffsetDateTime) -> Option<Incident> {
        self.last_good = Some(at);
        let open = self.open.take()?;
        Some(self.close(open, Some(at), at))
    }

    /// A push failed at `at` with `outcome`; `true` when this began an incident.
    pub fn failed(&mut self, at: OffsetDateTime, outcome: Outcome) -> bool {
        if let Some(open) = &mut self.open {
            open.failed += 1;
            return false;
        }
        self.count += 1;
        self.open = Some(Open {
            id: self.count,
            cause: outcome,
            start_after: self.last_good,
            start_before: at,
            failed: 1,
            reopens: 0,
        });
        true
    }

    /// The listener was reopened (counted in the open incident, if any).
    pub fn reopened(&mut self) {
        if let Some(open) = &mut self.open {
            open.reopens += 1;
        }
    }

    /// The watch stopped at `at`: the open incident, if any, as it stands (no end).
    pub fn finish(&mut self, at: OffsetDateTime) -> Option<Incident> {
        let open = self.open.take()?;
        Some(self.close(open, None, at))
    }

    fn close(&mut self, open: Open, end: Option<OffsetDateTime>, at: OffsetDateTime) -> Incident {
        let secs = |from: OffsetDateTime| ((at - from).as_seconds_f64() * 1000.0).round() / 1000.0;
        let duration_s = secs(open.start_before).max(0.0);
        let duration = Seconds::from_f64(duration_s);
        if self.longest.is_none_or(|(d, _)| duration > d) {
            self.longest = Some((duration, open.start_before));
        }
        Incident {
            id: open.id,
            cause: open.cause,
            start_after: open.start_after,
            start_before: open.start_before,
            end,
            duration_s,
            duration_max_s: open.start_after.map(secs),
            failed_pushes: open.failed,
            reopens: open.reopens,
            writeback: writeback(open.cause).into(),
        }
    }
}

/// What password writeback would have seen in an incident with this cause.
pub fn writeback(cause: Outcome) -> &'static str {
    match cause {
        Outcome::SilentDrop => "writeback's listener would have looked connected while the relay's pushes were lost: password resets in this window fail until a keep-alive or the service notices the dead connection",
        Outcome::Reset | Outcome::Closed | Outcome::TlsCloseNotify => "the path ended writeback's listener connection: password resets fail until it has reconnected (the SDK retries at once, then after 1, 2, 5, 10 and 30 s)",
        Outcome::NoListener => "the relay had no listener to hand resets to: password resets in this window fail",
        _ => "writeback could not reach the relay to listen: every password reset in this window fails",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn t(s: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + Duration::seconds(1_800_000_000 + s)
    }

    #[test]
    fn consecutive_failures_are_one_incident_bracketed_by_good_exchanges() {
        let mut tr = Tracker::default();
        tr.listening(t(0));
        assert!(tr.delivered(t(10)).is_none());
        assert!(tr.failed(t(20), Outcome::SilentDrop));
        tr.reopened();
        assert!(!tr.failed(t(30), Outcome::Refused));
        assert_eq!(tr.open.as_ref().map(|o| o.start_before), Some(t(20)));
        // A reopen inside the incident is not a good exchange.
        tr.listening(t(35));
        let inc = tr.delivered(t(50)).expect("the delivery ends it");
        assert_eq!(inc.id, 1);
        assert_eq!(inc.cause, Outcome::SilentDrop);
        assert_eq!(inc.start_after, Some(t(10)));
        assert_eq!(inc.start_before, t(20));
        assert_eq!(inc.end, Some(t(50)));
        assert_eq!((inc.duration_s, inc.duration_max_s), (30.0, Some(40.0)));
        assert_eq!((inc.failed_pushes, inc.reopens), (2, 1));
        assert!(tr.delivered(t(60)).is_none());
        assert!(tr.failed(t(70), Outcome::Reset));
        let open = tr.finish(t(100)).expect("open at the stop");
        assert_eq!((open.id, open.end, open.duration_s), (2, None, 30.0));
        assert_eq!(open.start_after, Some(t(60)));
        assert_eq!(tr.count, 2);
        assert_eq!(tr.longest, Some((Seconds::new(30), t(20))));
    }

    #[test]
    fn a_failure_before_any_good_exchange_has_an_open_bracket() {
        let mut tr = Tracker::default();
        tr.failed(t(5), Outcome::Refused);
        let inc = tr.delivered(t(9)).unwrap();
        assert_eq!((inc.start_after, inc.duration_max_s), (None, None));
        assert!(inc.writeback.contains("could not reach"));
    }
}
