//! From individual probe records to a bracket, a finding and a verdict: pure functions, so the
//! rule that decides a path's fate is tested on its own.

use crate::outcome::{Outcome, Status};
use crate::result::{connection_outcome, rungs, ControlReport, IdleVerdict, ProbeRecord};
use crate::seconds::Seconds;

/// What the ladder showed, before advice is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Bracket {
    /// The longest idle period that survived, below the cut.
    pub survived_s: Option<Seconds>,
    /// The shortest idle period that failed, above the cut.
    pub failed_s: Option<Seconds>,
    /// How that one failed.
    pub failure: Option<Outcome>,
    /// Connections that contradict the cut: `(idle period, outcome)` of failures below it and
    /// survivals above it.
    pub unstable: Vec<(Seconds, Outcome)>,
}

/// Brackets the cutoff. An idle timer kills every connection idle past it and none below, so
/// the cut is placed where the fewest connections contradict it (ties go to the longer cut: a
/// lone failure amid survivals, on a lossy path, must not accuse the path); the bracket is the
/// longest survival below it and the shortest failure above it, never inverted, and the
/// contradicting connections are named.
pub fn bracket(records: &[ProbeRecord]) -> Bracket {
    let rungs = rungs(records);
    let mut cuts: Vec<Seconds> = rungs.iter().map(|r| r.idle_s).collect();
    cuts.dedup();
    // Cut `None`: everything should fail; `Some(v)`: survive up to v, fail beyond.
    let candidates = std::iter::once(None).chain(cuts.into_iter().map(Some));
    let contradictions = |cut: Option<Seconds>| {
        rungs
            .iter()
            .filter(|r| {
                let below = cut.is_some_and(|c| r.idle_s <= c);
                (r.outcome == Outcome::Survived) != below
            })
            .count()
    };
    let mut best: (Option<Seconds>, usize) = (None, contradictions(None));
    for cut in candidates.skip(1) {
        let n = contradictions(cut);
        if n <= best.1 {
            best = (cut, n);
        }
    }
    let cut = best.0;
    let below = |idle: Seconds| cut.is_some_and(|c| idle <= c);
    let survived_s = rungs
        .iter()
        .filter(|r| r.outcome == Outcome::Survived && below(r.idle_s))
        .map(|r| r.idle_s)
        .next_back();
    let failed_s = rungs
        .iter()
        .find(|r| r.outcome != Outcome::Survived && !below(r.idle_s))
        .map(|r| r.idle_s);
    let failure = failed_s.map(|f| {
        connection_outcome(
            records
                .iter()
                .filter(|r| r.idle_s == f && r.outcome != Outcome::Survived),
        )
    });
    let unstable = rungs
        .iter()
        .filter(|r| (r.outcome == Outcome::Survived) != below(r.idle_s))
        .map(|r| (r.idle_s, r.outcome))
        .collect();
    Bracket {
        survived_s,
        failed_s,
        failure,
        unstable,
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
    EndpointLimit { after_s: Seconds },
    /// No test connection could be opened at all.
    NothingOpened,
    /// The control connection, active all along, died too: the path or the server broke.
    ControlFailed,
    /// The far end (not ours) closed even the active control connection, cleanly: a server
    /// limit ended the test, not the path.
    ControlClosedByEndpoint,
    /// The far end announces an idle limit below the requirement (`Keep-Alive: timeout=N`), so
    /// the ladder stopped there.
    EndpointCapped { limit_s: Seconds },
    /// The ladder stopped short of the relay's own idle limit on listeners (a hybrid
    /// connection's service, or a mock-relay's `--service-idle-limit`), and no cut was found
    /// below it; `holds` when the requirement itself was tested and survived.
    RelayCapped { limit_s: Seconds, holds: bool },
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
    pub cap_s: Option<Seconds>,
    /// `cap_s` is the relay's own limit on idle listeners: a ladder it capped never fails on
    /// the rungs it left out.
    pub relay: bool,
}

/// The finding for a ladder's `bracket`.
pub fn judge(
    bracket: &Bracket,
    required_s: Seconds,
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
    if let Some(failed_s) = bracket.failed_s.filter(|f| *f <= required_s) {
        if bracket.failure == Some(Outcome::TlsCloseNotify) && !far_end_is_ours {
            return Finding::EndpointLimit { after_s: failed_s };
        }
        return Finding::CutOff;
    }
    let holds = bracket.survived_s.is_some_and(|s| s >= required_s);
    if let (true, Some(limit_s)) = (far_end.relay, far_end.cap_s) {
        return Finding::RelayCapped { limit_s, holds };
    }
    if holds {
        return Finding::Holds;
    }
    match far_end.cap_s {
        Some(limit_s) if limit_s < required_s + Seconds::new(1) => {
            Finding::EndpointCapped { limit_s }
        }
        _ => Finding::LadderTooShort,
    }
}

impl Finding {
    pub fn verdict(&self) -> IdleVerdict {
        match self {
            Finding::Holds | Finding::RelayCapped { holds: true, .. } => IdleVerdict::Pass,
            Finding::CutOff => IdleVerdict::Fail,
            _ => IdleVerdict::Inconclusive,
        }
    }

    /// The check's status and outcome word. Survival past the requirement but short of the
    /// recommendation (`recommended_s`) passes with a warning.
    pub fn status(&self, bracket: &Bracket, recommended_s: Option<Seconds>) -> (Status, Outcome) {
        let short = recommended_s.is_some_and(|r| bracket.survived_s.is_none_or(|s| s < r));
        match self {
            Finding::Holds if bracket.failed_s.is_some() || short => {
                (Status::Warn, Outcome::Survived)
            }
            Finding::Holds => (Status::Pass, Outcome::Survived),
            Finding::CutOff => (Status::Fail, bracket.failure.unwrap_or(Outcome::SilentDrop)),
            Finding::EndpointLimit { .. } => (Status::Warn, Outcome::TlsCloseNotify),
            Finding::RelayCapped { holds: true, .. } => (Status::Warn, Outcome::Survived),
            Finding::RelayCapped { holds: false, .. } => (Status::Warn, Outcome::Inconclusive),
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

    fn s(v: f64) -> Seconds {
        Seconds::from_f64(v)
    }

    fn rec(idle_s: f64, direction: Direction, outcome: Outcome) -> ProbeRecord {
        ProbeRecord {
            idle_s: s(idle_s),
            direction,
            outcome,
            detected_after_s: Some(s(idle_s)),
            unprompted: false,
            round: 1,
            entity: None,
            sender: None,
            tcp: None,
        }
    }

    fn control(outcome: Outcome) -> ControlReport {
        ControlReport {
            interval_s: Seconds::new(1),
            outcome,
            failed_after_s: None,
        }
    }

    const OURS: FarEnd = FarEnd {
        ours: true,
        cap_s: None,
        relay: false,
    };
    const THEIRS: FarEnd = FarEnd {
        ours: false,
        cap_s: None,
        relay: false,
    };

    #[test]
    fn a_ladder_capped_by_the_relay_warns_and_a_cut_below_it_still_fails() {
        let relay = FarEnd {
            ours: true,
            cap_s: Some(s(240.0)),
            relay: true,
        };
        let ok = control(Outcome::Survived);
        let below = bracket(&[
            rec(180.0, Direction::ClientSend, Outcome::Survived),
            rec(225.0, Direction::ClientSend, Outcome::Survived),
        ]);
        let f = judge(&below, s(180.0), &ok, true, relay);
        assert_eq!(
            f,
            Finding::RelayCapped {
                limit_s: s(240.0),
                holds: true
            }
        );
        assert_eq!(
            f.status(&below, Some(s(360.0))),
            (Status::Warn, Outcome::Survived)
        );
        assert_eq!(f.verdict(), IdleVerdict::Pass);
        let short = judge(&below, s(300.0), &ok, true, relay);
        assert_eq!(
            short.status(&below, None),
            (Status::Warn, Outcome::Inconclusive)
        );
        let cut = bracket(&[
            rec(60.0, Direction::ClientSend, Outcome::Survived),
            rec(120.0, Direction::ServerPush, Outcome::SilentDrop),
        ]);
        let f = judge(&cut, s(180.0), &ok, true, relay);
        assert_eq!(f, Finding::CutOff);
        assert_eq!(f.status(&cut, None), (Status::Fail, Outcome::SilentDrop));
    }

    fn verdict(b: &Bracket, required: f64, control_ok: bool) -> IdleVerdict {
        let c = control(if control_ok {
            Outcome::Survived
        } else {
            Outcome::Reset
        });
        judge(b, s(required), &c, true, OURS).verdict()
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
        assert_eq!(b.survived_s, Some(s(3.0)));
        assert_eq!(b.failed_s, Some(s(4.0)));
        assert_eq!(b.failure, Some(Outcome::Reset));
        assert_eq!(verdict(&b, 3.0, true), IdleVerdict::Pass);
        assert_eq!(verdict(&b, 4.0, true), IdleVerdict::Fail);
        assert_eq!(verdict(&b, 4.0, false), IdleVerdict::Inconclusive);
        assert_eq!(verdict(&b, 10.0, true), IdleVerdict::Fail);
    }

    #[test]
    fn a_lone_failure_amid_survivals_is_unstable_not_the_cut() {
        use Direction::*;
        // A lossy path: the firewall cuts at 19 s, one connection at 13 s lost its answer.
        let mut records = Vec::new();
        for idle in 10..=25 {
            let idle = f64::from(idle);
            let outcome = match idle {
                13.0 => Outcome::SilentDrop,
                i if i >= 19.0 => Outcome::Reset,
                _ => Outcome::Survived,
            };
            records.push(rec(idle, ClientSend, outcome));
        }
        let b = bracket(&records);
        assert_eq!((b.survived_s, b.failed_s), (Some(s(18.0)), Some(s(19.0))));
        assert_eq!(b.failure, Some(Outcome::Reset));
        assert_eq!(b.unstable, vec![(s(13.0), Outcome::SilentDrop)]);
        let ok = control(Outcome::Survived);
        let f = judge(&b, s(15.0), &ok, true, OURS);
        assert_eq!(f, Finding::Holds, "judged on the consistent connections");
        assert_eq!(f.status(&b, None), (Status::Warn, Outcome::Survived));
        assert_eq!(judge(&b, s(19.0), &ok, true, OURS), Finding::CutOff);
    }

    #[test]
    fn the_bracket_is_never_inverted() {
        use Direction::*;
        for pattern in [
            "SFSF", "FSFS", "FFFS", "SSSF", "SFFS", "FSSF", "SSFFSS", "FFSSFF",
        ] {
            let records: Vec<ProbeRecord> = pattern
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    let o = if c == 'S' {
                        Outcome::Survived
                    } else {
                        Outcome::SilentDrop
                    };
                    rec(i as f64 + 1.0, ClientSend, o)
                })
                .collect();
            let b = bracket(&records);
            if let (Some(survived), Some(failed)) = (b.survived_s, b.failed_s) {
                assert!(
                    survived < failed,
                    "{pattern}: survived {survived}, failed {failed}"
                );
            }
        }
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
        let f = judge(&b, s(180.0), &control(Outcome::Survived), true, OURS);
        assert_eq!(f.verdict(), IdleVerdict::Pass);
        assert_eq!(
            f.status(&b, Some(s(360.0))),
            (Status::Warn, Outcome::Survived)
        );
        assert_eq!(
            f.status(&b, Some(s(240.0))),
            (Status::Pass, Outcome::Survived)
        );
        assert_eq!(f.status(&b, None), (Status::Pass, Outcome::Survived));
    }

    #[test]
    fn a_clean_close_by_a_far_end_not_ours_limits_the_test_instead_of_failing_it() {
        let b = bracket(&[
            rec(2.0, Direction::ClientSend, Outcome::Survived),
            rec(3.0, Direction::ClientSend, Outcome::TlsCloseNotify),
        ]);
        let ok = control(Outcome::Survived);
        let theirs = judge(&b, s(3.0), &ok, true, THEIRS);
        assert_eq!(theirs, Finding::EndpointLimit { after_s: s(3.0) });
        assert_eq!(
            theirs.status(&b, None),
            (Status::Warn, Outcome::TlsCloseNotify)
        );
        let ours = judge(&b, s(3.0), &ok, true, OURS);
        assert_eq!(
            ours.status(&b, None),
            (Status::Fail, Outcome::TlsCloseNotify)
        );
        assert_eq!(judge(&b, s(3.0), &ok, false, OURS), Finding::NothingOpened);
    }
}
