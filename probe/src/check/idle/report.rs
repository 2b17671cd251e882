//! Reporting: the check's message and the target's `idle` object, written from what was
//! measured and how it was judged.

use super::judgement::Judgement;
use super::ladder::LadderRun;
use super::message::{self, IdleMessage};
use super::scope::Scope;
use super::settings::IdleSettings;
use crate::advice::far_end_limit;
use crate::outcome::Outcome;
use crate::result::IdleReport;
use crate::seconds::Seconds;
use crate::target::Target;

/// The check's message.
pub fn message(
    target: &Target,
    settings: &IdleSettings,
    scope: &Scope,
    run: &LadderRun,
    judgement: &Judgement,
    via_proxy: bool,
) -> String {
    let bracket = &judgement.bracket;
    let unprompted: Vec<(Outcome, Seconds)> = run
        .records
        .iter()
        .filter(|r| r.unprompted)
        .filter_map(|r| r.detected_after_s.map(|t| (r.outcome, t)))
        .collect();
    IdleMessage {
        finding: &judgement.finding,
        host: &target.host,
        required_s: settings.required_s,
        recommended: settings
            .recommended_s
            .map(|r| (r, settings.recommended_source.as_deref())),
        survived_s: bracket.survived_s,
        max_s: settings.max_s,
        advice: &judgement.advice,
        cut_somewhere: bracket.failed_s.is_some(),
        control: &run.control,
        layer: message::layer(&run.variants, bracket.failed_s),
        setup_failures: &run.setup_failures,
        unprompted: &unprompted,
        hc_ladder: run.hc_ladder.as_ref(),
        failed_sender: bracket.failed_s.and_then(|f| {
            run.records
                .iter()
                .filter(|r| r.idle_s == f)
                .find_map(|r| r.sender.as_ref().map(|s| (f, s)))
                .filter(|(_, s)| s.outcome != Outcome::Accepted)
        }),
        variants_skipped: settings.variants && target.hc().is_some(),
        endpoint_cap_s: scope.cap_s.filter(|_| scope.relay.is_none()),
        relay: scope.relay,
        via_proxy,
        unstable: &bracket.unstable,
        far_end_limit: bracket
            .failed_s
            .filter(|_| !judgement.far_end.ours)
            .and_then(|f| far_end_limit(bracket.survived_s, f)),
    }
    .to_string()
}

/// The target's `idle` object.
pub fn idle_report(settings: &IdleSettings, run: LadderRun, judgement: Judgement) -> IdleReport {
    let bracket = judgement.bracket;
    let writeback = crate::writeback::impact(
        bracket.survived_s,
        bracket.failed_s,
        bracket.failure,
        // Whether the failed period's RST or FIN came by itself, while the connection was idle.
        run.records
            .iter()
            .any(|r| r.unprompted && Some(r.idle_s) == bracket.failed_s),
    );
    IdleReport {
        required_s: settings.required_s,
        recommended_s: settings.recommended_s,
        survived_s: bracket.survived_s,
        failed_s: bracket.failed_s,
        failure: bracket.failure,
        verdict: judgement.finding.verdict(),
        step_s: settings.step_s,
        probes: run.records,
        control: run.control,
        variants: run.variants,
        advice: judgement.advice,
        hc_ladder: run.hc_ladder,
        unstable_s: bracket.unstable.iter().map(|u| u.0).collect(),
        writeback,
    }
}
