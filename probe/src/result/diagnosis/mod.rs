//! The run's common cause: when every failed target stops at the same check with the same
//! outcome, one sentence says so, with the likely cause and the next step. A network engineer
//! reads the first and the last lines of a report; this is what goes there (and into the JSON
//! as `diagnosis`).

mod cause;

use super::{CheckName, CheckResult, RunResult, TargetResult};
use crate::outcome::{Outcome, Status, Verdict};
use serde::{Deserialize, Serialize};

/// One failure shared by every failed target of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    /// The check every failed target stopped at.
    pub phase: CheckName,
    /// What that check saw, the same on every failed target.
    pub outcome: Outcome,
    /// The failed targets, by name, in the run's order.
    pub targets: Vec<String>,
    /// The likely cause, in plain words.
    pub cause: String,
    /// What to do about it.
    pub next_step: String,
}

impl Diagnosis {
    /// The cause and where it was seen, in one line: `CAUSE; dns timeout on all 3 failed
    /// targets (a, b, c)`.
    pub fn summary(&self) -> String {
        let on = match self.targets.as_slice() {
            [one] => one.clone(),
            many => format!("all {} failed targets ({})", many.len(), many.join(", ")),
        };
        format!("{}; {} {} on {on}", self.cause, self.phase, self.outcome)
    }
}

/// The check a failed target stopped at: its first failed check, the idle check only when
/// nothing else failed.
fn stopped_at(t: &TargetResult) -> Option<&CheckResult> {
    t.first_failure().or_else(|| {
        t.checks
            .iter()
            .find(|c| c.status == Status::Fail && c.check == CheckName::Idle)
    })
}

/// The common cause of `run`'s failures, if every failed target stopped at the same check with
/// the same outcome; `None` when nothing failed or the failures differ.
pub fn diagnose(run: &RunResult) -> Option<Diagnosis> {
    let failed: Vec<(&TargetResult, &CheckResult)> = run
        .targets
        .iter()
        .filter(|t| t.verdict == Verdict::Fail)
        .map(|t| stopped_at(t).map(|c| (t, c)))
        .collect::<Option<_>>()?;
    let (_, first) = failed.first()?;
    if failed
        .iter()
        .any(|(_, c)| c.check != first.check || c.outcome != first.outcome)
    {
        return None;
    }
    let (cause, next_step) = cause::explain(run, &failed);
    Some(Diagnosis {
        phase: first.check,
        outcome: first.outcome,
        targets: failed.iter().map(|(t, _)| t.name.clone()).collect(),
        cause,
        next_step,
    })
}

#[cfg(test)]
mod tests;
