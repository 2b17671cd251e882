//! From individual probe records to a bracket, a failure class and a verdict.

use super::report::{IdleVerdict, ProbeRecord};
use crate::outcome::Outcome;

/// What the ladder showed, before advice is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Bracket {
    pub survived_s: Option<f64>,
    pub failed_s: Option<f64>,
    pub failure: Option<Outcome>,
}

/// How telling a failure outcome is: a RST or FIN names its sender's kind, silence does not.
fn weight(o: Outcome) -> u8 {
    match o {
        Outcome::Reset => 4,
        Outcome::Closed => 3,
        Outcome::TlsCloseNotify => 2,
        Outcome::SilentDrop => 1,
        _ => 0,
    }
}

/// The outcome of one connection over all its directions: survived only if every direction
/// survived; otherwise the most telling failure.
pub fn connection_outcome<'a>(records: impl Iterator<Item = &'a ProbeRecord>) -> Outcome {
    records
        .map(|r| r.outcome)
        .filter(|o| *o != Outcome::Survived)
        .max_by_key(|o| weight(*o))
        .unwrap_or(Outcome::Survived)
}

/// Brackets the cutoff: the longest idle that survived and the shortest that failed.
pub fn bracket(records: &[ProbeRecord]) -> Bracket {
    let mut idles: Vec<f64> = records.iter().map(|r| r.idle_s).collect();
    idles.sort_by(f64::total_cmp);
    idles.dedup();
    let mut survived_s = None;
    let mut failed: Option<(f64, Outcome)> = None;
    for idle in idles {
        let outcome = connection_outcome(records.iter().filter(|r| r.idle_s == idle));
        if outcome == Outcome::Survived {
            survived_s = Some(idle);
        } else if failed.is_none() {
            failed = Some((idle, outcome));
        }
    }
    Bracket {
        survived_s,
        failed_s: failed.map(|f| f.0),
        failure: failed.map(|f| f.1),
    }
}

/// pass: every connection idle up to the requirement survived, and one at least that long did;
/// fail: one idle no longer than the requirement died; inconclusive: the control died, or the
/// ladder never reached the requirement.
pub fn verdict(b: &Bracket, required_s: f64, control_ok: bool) -> IdleVerdict {
    if !control_ok {
        return IdleVerdict::Inconclusive;
    }
    if b.failed_s.is_some_and(|f| f <= required_s + 1e-9) {
        return IdleVerdict::Fail;
    }
    if b.survived_s.is_some_and(|s| s >= required_s - 1e-9) {
        IdleVerdict::Pass
    } else {
        IdleVerdict::Inconclusive
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::idle::report::Direction;

    fn rec(idle_s: f64, direction: Direction, outcome: Outcome) -> ProbeRecord {
        ProbeRecord {
            idle_s,
            direction,
            outcome,
            detected_after_s: Some(idle_s),
            unprompted: false,
            round: 1,
        }
    }

    #[test]
    fn brackets_the_cutoff_and_prefers_the_telling_failure() {
        use Direction::*;
        let records = vec![
            rec(2.0, ServerPush, Outcome::Survived),
            rec(2.0, ClientSend, Outcome::Survived),
            rec(3.0, ServerPush, Outcome::Survived),
            rec(3.0, ClientSend, Outcome::Survived),
            rec(4.0, ServerPush, Outcome::SilentDrop),
            rec(4.0, ClientSend, Outcome::Reset),
            rec(5.0, ServerPush, Outcome::SilentDrop),
        ];
        let b = bracket(&records);
        assert_eq!(b.survived_s, Some(3.0));
        assert_eq!(b.failed_s, Some(4.0));
        assert_eq!(b.failure, Some(Outcome::Reset));
        assert_eq!(verdict(&b, 3.0, true), IdleVerdict::Pass);
        assert_eq!(verdict(&b, 4.0, true), IdleVerdict::Fail);
        assert_eq!(verdict(&b, 4.0, false), IdleVerdict::Inconclusive);
        assert_eq!(verdict(&b, 10.0, true), IdleVerdict::Fail);
    }

    #[test]
    fn a_ladder_below_the_requirement_cannot_pass() {
        let b = bracket(&[rec(2.0, Direction::ClientSend, Outcome::Survived)]);
        assert_eq!(verdict(&b, 180.0, true), IdleVerdict::Inconclusive);
    }
}
