//! Measuring: the ladder's rounds over the idle periods of a [`Scope`], and the `--refine`
//! round inside the first round's bracket. Nothing here judges; it only records.

use super::attribution::bracket;
use super::hc_ladder;
use super::ladder::{self, LadderRun};
use super::scope::Scope;
use super::settings::IdleSettings;
use crate::net::NetContext;
use crate::outcome::Outcome;
use crate::progress::{IdleProgress, Progress};
use crate::seconds::Seconds;
use crate::target::Target;

/// Runs the ladder over `scope` (and the `--refine` round when it applies); the records come
/// back sorted by idle period, then round.
pub async fn measure(
    net: &NetContext,
    progress: &Progress,
    target: &Target,
    settings: &IdleSettings,
    scope: &Scope,
) -> LadderRun {
    let (longest_s, connections) = match target.hc() {
        Some(hc) => {
            let layout = hc_ladder::Layout::new(hc, &scope.periods, scope.rung_required_s);
            let longest = layout.rungs.iter().map(|r| r.0).max().unwrap_or_default();
            (longest, layout.rungs.len())
        }
        None => (
            scope.periods.last().copied().unwrap_or(settings.max_s),
            scope.periods.len(),
        ),
    };
    let progress = progress.idle(&target.name, longest_s, connections);
    let required_s = scope.rung_required_s;
    let mut run = round(
        net,
        target,
        settings,
        &scope.periods,
        required_s,
        1,
        &progress,
    )
    .await;
    if let Some(rungs) = refinement(target, settings, &run) {
        run.absorb(round(net, target, settings, &rungs, required_s, 2, &progress).await);
    }
    progress.finish();
    run.records.sort_by_key(|r| (r.idle_s, r.round));
    run
}

/// The idle periods of the `--refine` round, when it applies: inside the first round's bracket
/// by seconds, and again every period that contradicted it.
fn refinement(target: &Target, settings: &IdleSettings, first: &LadderRun) -> Option<Vec<Seconds>> {
    // A hybrid connection with one entity has one rung: nothing to refine.
    let refinable = target.hc().is_none_or(|hc| !hc.more_entities.is_empty());
    if !settings.refine || !refinable || first.control.outcome != Outcome::Survived {
        return None;
    }
    let first = bracket(&first.records);
    let (Some(s), Some(f)) = (first.survived_s, first.failed_s) else {
        return None;
    };
    let mut rungs = ladder::refine_rungs(s, f);
    rungs.extend(first.unstable.iter().map(|u| u.0));
    rungs.sort();
    rungs.dedup();
    (!rungs.is_empty()).then_some(rungs)
}

/// One round over `periods`: a hybrid connection's listeners, one entity each, or the ladder of
/// connections every other target kind gets.
async fn round(
    net: &NetContext,
    target: &Target,
    settings: &IdleSettings,
    periods: &[Seconds],
    required_s: Seconds,
    round: u8,
    progress: &IdleProgress,
) -> LadderRun {
    match target.hc() {
        Some(hc) => {
            let layout = hc_ladder::Layout::new(hc, periods, required_s);
            hc_ladder::run(net, target, hc, settings, &layout, round, progress).await
        }
        None => ladder::run(net, target, settings, periods, round, progress).await,
    }
}
