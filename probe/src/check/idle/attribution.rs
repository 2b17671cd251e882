//! From individual probe records to a bracket, a finding and a verdict: pure functions, so the
//! rule that decides a path's fate is tested on its own.

use crate::outcome::{Outcome, Status};
use crate::result::{rungs, ControlReport, IdleVerdict, ProbeRecord};

/// What the ladder showed, before advice is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Bracket {
    pub survived_s: Option<f64>,
    pub failed_s: Option<f64>,
    pub failure: Option<Outcome>,
}

/// Brackets the cutoff: the longest idle that survived and the shortest that failed.
pub fn bracket(records: &[ProbeRecord]) -> Bracket {
    let rungs = rungs(records);
    let survived_s = rungs
        .iter()
        .filter(|r| r.outcome == Outcome::Survived)
        .map(|r| r.idle_s)
        .next_back();
    let failed = rungs.iter().find(|r| r.outcome != Outcome::Survived);
    Bracket {
        survived_s,
        failed_s: failed.map(|r| r.idle_s),
        failure: failed.map(|r| r.outcome),
    }
}

/// What the idle check concluded, and why: the typed cause its message is written from.
#[derive(Debug, Clone, PartialEq)]
pub enum Finding {
    /// Every connection idle up to the requirement survived, and one at least that long did.
    Holds,
    /// A connection idle no longer than the requirement died.
    CutOff,
    /// The far end (not ours) closed idle connections itself, cleanly, by `after_s`: a server
    /// keep-alive limit that says nothing about the path.
    EndpointLimit { after_s: f64 },
    /// No test connection could be opened at all.
    NothingOpened,
    /// The control connection, active all along, died too: the path or the server broke.
    ControlFailed,
    /// The far end (not ours) closed even the active control connection, cleanly: a server
    /// limit ended the test, not the path.
    ControlClosedByEndpoint,
    /// The far end announces an idle limit below the requirement (`Keep-Alive: timeout=N`), so
    /// the ladder stopped there.
    EndpointCapped { limit_s: f64 },
    /// The ladder stopped short of the requirement.
    LadderTooShort,
}

/// What the far end is, for judging what it does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FarEnd {
    /// A mock-relay (or a hybrid connection's relay): its clean closes are rehearsed faults or
    /// the path's doing, judged like any other failure.
    pub ours: bool,
    /// The idle limit it announced, which capped the ladder.
    pub cap_s: Option<f64>,
}

/// The finding for a ladder's `bracket`.
pub fn judge(
    bracket: &Bracket,
    required_s: f64,
    control: &ControlReport,
    tested_any: bool,
    far_end: FarEnd,
) -> Finding {
    let far_end_is_ours = far_end.ours;
    if !tested_any {
        return Finding::NothingOpened;
    }
    if control.outcome == Outcome::TlsCloseNotify && !far_end_is_ours {
        return Finding::ControlClosedByEndpoint;
    }
    if control.outcome != Outcome::Survived {
        return Finding::ControlFailed;
    }
    if let Some(failed_s) = bracket.failed_s.filter(|f| *f <= required_s + 1e-9) {
        if bracket.failure == Some(Outcome::TlsCloseNotify) && !far_end_is_ours {
            return Finding::EndpointLimit { after_s: failed_s };
        }
        return Finding::CutOff;
    }
    if bracket.survived_s.is_some_and(|s| s >= required_s - 1e-9) {
        return Finding::Holds;
    }
    match far_end.cap_s {
        Some(limit_s) if limit_s < required_s + 1.0 => Finding::EndpointCapped { limit_s },
        _ => Finding::LadderTooShort,
    }
}

impl Finding {
    pub fn verdict(&self) -> IdleVerdict {
        match self {
            Finding::Holds => IdleVerdict::Pass,
            Finding::CutOff => IdleVerdict::Fail,
            _ => IdleVerdict::Inconclusive,
        }
    }

    /// The check's status and outcome word. Survival past the requirement but short of the
    /// recommendation (`recommended_s`) passes with a warning.
    pub fn status(&self, bracket: &Bracket, recommended_s: Option<f64>) -> (Status, Outcome) {
        let short = recommended_s.is_some_and(|r| bracket.survived_s.is_none_or(|s| s < r - 1e-9));
        match self {
            Finding::Holds if bracket.failed_s.is_some() || short => {
                (Status::Warn, Outcome::Survived)
            }
            Finding::Holds => (Status::Pass, Outcome::Survived),
            Finding::CutOff => (Status::Fail, bracket.failure.unwrap_or(Outcome::SilentDrop)),
            Finding::EndpointLimit { .. } => (Status::Warn, Outcome::TlsCloseNotify),
            Finding::ControlClosedByEndpoint | Finding::EndpointCapped { .. } => {
                (Status::Warn, Outcome::Inconclusive)
            }
            Finding::NothingOpened | Finding::ControlFailed | Finding::LadderTooShort => {
                (Status::Fail, Outcome::Inconclusive)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::Direction;

    fn rec(idle_s: f64, direction: Direction, outcome: Outcome) -> ProbeRecord {
        ProbeRecord {
            idle_s,
            direction,
            outcome,
            detected_after_s: Some(idle_s),
            unprompted: false,
            round: 1,
            entity: None,
            sender: None,
        }
    }

    fn control(outcome: Outcome) -> ControlReport {
        ControlReport {
            interval_s: 1.0,
            outcome,
            failed_after_s: None,
        }
    }

    const OURS: FarEnd = FarEnd {
        ours: true,
        cap_s: None,
    };
    const THEIRS: FarEnd = FarEnd {
        ours: false,
        cap_s: None,
    };

    fn verdict(b: &Bracket, required_s: f64, control_ok: bool) -> IdleVerdict {
        let c = control(if control_ok {
            Outcome::Survived
        } else {
            Outcome::Reset
        });
        judge(b, required_s, &c, true, OURS).verdict()
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

    #[test]
    fn survival_short_of_the_recommendation_passes_with_a_warning() {
        let b = bracket(&[
            rec(180.0, Direction::ClientSend, Outcome::Survived),
            rec(240.0, Direction::ClientSend, Outcome::Survived),
        ]);
        let f = judge(&b, 180.0, &control(Outcome::Survived), true, OURS);
        assert_eq!(f.verdict(), IdleVerdict::Pass);
        assert_eq!(f.status(&b, Some(360.0)), (Status::Warn, Outcome::Survived));
        assert_eq!(f.status(&b, Some(240.0)), (Status::Pass, Outcome::Survived));
        assert_eq!(f.status(&b, None), (Status::Pass, Outcome::Survived));
    }

    #[test]
    fn a_clean_close_by_a_far_end_not_ours_limits_the_test_instead_of_failing_it() {
        let b = bracket(&[
            rec(2.0, Direction::ClientSend, Outcome::Survived),
            rec(3.0, Direction::ClientSend, Outcome::TlsCloseNotify),
        ]);
        let ok = control(Outcome::Survived);
        let theirs = judge(&b, 3.0, &ok, true, THEIRS);
        assert_eq!(theirs, Finding::EndpointLimit { after_s: 3.0 });
        assert_eq!(
            theirs.status(&b, None),
            (Status::Warn, Outcome::TlsCloseNotify)
        );
        let ours = judge(&b, 3.0, &ok, true, OURS);
        assert_eq!(
            ours.status(&b, None),
            (Status::Fail, Outcome::TlsCloseNotify)
        );
        assert_eq!(judge(&b, 3.0, &ok, false, OURS), Finding::NothingOpened);
    }
}
