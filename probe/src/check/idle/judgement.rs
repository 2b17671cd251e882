//! Judging: from the measured records to the bracket around the cutoff, the finding, the
//! verdict and the one line of advice. The rules themselves live in `attribution` (pure,
//! tested on their own); this puts a run's parts together for them.

use super::attribution::{bracket, judge, Bracket, FarEnd, Finding};
use super::ladder::LadderRun;
use super::scope::Scope;
use super::settings::IdleSettings;
use crate::advice::{idle_advice, Needs};
use crate::outcome::{Outcome, Status};
use crate::target::{Target, TargetKind};

/// What the idle check concluded from one measured run.
pub struct Judgement {
    pub bracket: Bracket,
    pub far_end: FarEnd,
    pub finding: Finding,
    /// Where idle connections die and what to change (`advice::idle_advice`).
    pub advice: String,
}

impl Judgement {
    /// Judges `run` (its records sorted), measured against `target` within `scope`;
    /// `wildcards` are the cloud's writeback endpoints the advice names.
    pub fn of(
        target: &Target,
        settings: &IdleSettings,
        scope: &Scope,
        run: &LadderRun,
        wildcards: &[&str],
    ) -> Judgement {
        let bracket = bracket(&run.records);
        // A mock-relay's clean closes are rehearsed faults; a hybrid connection's relay is the
        // service itself, reached the way writeback reaches it.
        let far_end = FarEnd {
            ours: matches!(target.kind, TargetKind::Relay | TargetKind::Hc(_)),
            cap_s: scope.cap_s,
            relay: scope.relay.is_some(),
        };
        let finding = judge(
            &bracket,
            settings.required_s,
            &run.control,
            !run.records.is_empty(),
            far_end,
        );
        let needs = Needs {
            required_s: settings.required_s,
            recommended_s: settings.recommended_s,
            wildcards,
        };
        let advice = idle_advice(
            &needs,
            bracket.survived_s,
            bracket.failed_s,
            bracket.failure,
        );
        Judgement {
            bracket,
            far_end,
            finding,
            advice,
        }
    }

    /// The check's status and outcome word.
    pub fn status(&self, settings: &IdleSettings) -> (Status, Outcome) {
        self.finding.status(&self.bracket, settings.recommended_s)
    }
}
