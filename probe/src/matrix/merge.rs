//! `probe report`: many runs (segments, days) merged into one matrix of targets by segments.
//!
//! Rows and columns keep the order in which the files name them. When several runs cover the
//! same target and segment, the cell shows the latest one (by `started_at`) and counts the rest.

use crate::matrix::document::{self, DocumentError, LoadedRun};
use crate::outcome::{Outcome, Verdict};
use crate::result::{CheckName, IdleReport, IdleVerdict, RunResult, TargetResult};
use crate::seconds::fmt_s;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Column label of runs made without `--segment`.
pub const NO_SEGMENT: &str = "(no segment)";

pub struct Matrix {
    /// Column labels.
    pub segments: Vec<String>,
    /// Row labels (target names).
    pub targets: Vec<String>,
    /// `(row, column)` -> cell; absent when no run covered that pair.
    pub cells: BTreeMap<(usize, usize), Cell>,
    /// Every run, in the order of the files.
    pub runs: Vec<LoadedRun>,
}

pub struct Cell {
    pub verdict: Verdict,
    /// The first failed check other than idle, and what it saw.
    pub failed_check: Option<(CheckName, Outcome)>,
    pub idle: Option<IdleReport>,
    /// Index into `Matrix::runs` of the run shown.
    pub run: usize,
    /// How many runs covered this cell.
    pub runs: usize,
}

impl Cell {
    /// `PASS idle >=240 s`, `FAIL idle 180-195 s`, `FAIL tls untrusted`.
    pub fn summary(&self) -> String {
        let mut parts = vec![self.verdict.as_str().to_uppercase()];
        if let Some((check, outcome)) = &self.failed_check {
            parts.push(format!("{check} {outcome}"));
        }
        if let Some(idle) = &self.idle {
            parts.push(format!("idle {}", idle_bracket(idle)));
        }
        parts.join(" ")
    }
}

/// Where idle connections die: `180-195 s` (survived 180, failed 195), `>=240 s` (nothing
/// failed up to 240), `<=30 s` (even the shortest failed), `inconclusive`.
pub fn idle_bracket(idle: &IdleReport) -> String {
    if idle.verdict == IdleVerdict::Inconclusive {
        return "inconclusive".into();
    }
    match (idle.survived_s, idle.failed_s) {
        (Some(s), Some(f)) => format!("{}-{} s", fmt_s(s), fmt_s(f)),
        (None, Some(f)) => format!("<={} s", fmt_s(f)),
        (Some(s), None) => format!(">={} s", fmt_s(s)),
        (None, None) => "-".into(),
    }
}

/// The column label of a run.
pub fn segment_of(run: &RunResult) -> String {
    run.segment.clone().unwrap_or_else(|| NO_SEGMENT.into())
}

/// Reads every file (stopping at the first bad one) and builds the matrix.
pub fn load(files: &[PathBuf]) -> Result<Matrix, DocumentError> {
    let runs = files
        .iter()
        .map(|f| document::load(f))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(build(runs))
}

pub fn build(runs: Vec<LoadedRun>) -> Matrix {
    let mut segments: Vec<String> = Vec::new();
    let mut targets: Vec<String> = Vec::new();
    let mut cells: BTreeMap<(usize, usize), Cell> = BTreeMap::new();
    for (i, loaded) in runs.iter().enumerate() {
        let run = &loaded.run;
        let col = index_of(&mut segments, segment_of(run));
        for target in &run.targets {
            let row = index_of(&mut targets, target.name.clone());
            let cell = cells
                .entry((row, col))
                .or_insert_with(|| make_cell(target, i, 0));
            let newer = run.started_at >= runs[cell.run].run.started_at;
            let count = cell.runs + 1;
            if newer {
                *cell = make_cell(target, i, count);
            } else {
                cell.runs = count;
            }
        }
    }
    Matrix {
        segments,
        targets,
        cells,
        runs,
    }
}

fn make_cell(target: &TargetResult, run: usize, runs: usize) -> Cell {
    Cell {
        verdict: target.verdict,
        failed_check: target.first_failure().map(|c| (c.check, c.outcome)),
        idle: target.idle.clone(),
        run,
        runs,
    }
}

fn index_of(list: &mut Vec<String>, value: String) -> usize {
    match list.iter().position(|v| *v == value) {
        Some(i) => i,
        None => {
            list.push(value);
            list.len() - 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn run(segment: &str, started: &str, target: &str, verdict: &str, idle: &str) -> LoadedRun {
        let text = format!(
            r#"{{"schema":"probe.result/v1","probe_version":"0","started_at":"{started}","finished_at":"{started}",
            "segment":"{segment}","scenario":"s","cloud":"public","verdict":"{verdict}","proxy":null,"notes":[],
            "targets":[{{"name":"{target}","url":"https://{target}/","kind":"https","required":true,"direct":false,
            "verdict":"{verdict}","checks":[],"phases_ms":{{}}{idle}}}]}}"#
        );
        document::parse(&text, Path::new("t.json")).unwrap()
    }

    #[test]
    fn latest_run_wins_and_columns_follow_the_files() {
        let idle = r#","idle":{"required_s":180,"survived_s":180,"failed_s":195,"failure":"reset","verdict":"fail","step_s":15,"probes":[],
            "control":{"interval_s":7.5,"outcome":"survived","failed_after_s":null},"variants":[],"advice":"a"}"#;
        let m = build(vec![
            run("b", "2026-01-02T00:00:00Z", "relay", "fail", idle),
            run("a", "2026-01-01T00:00:00Z", "relay", "pass", ""),
            run("b", "2026-01-01T00:00:00Z", "relay", "pass", ""),
        ]);
        assert_eq!(m.segments, ["b", "a"]);
        assert_eq!(m.targets, ["relay"]);
        let cell = &m.cells[&(0, 0)];
        assert_eq!((cell.run, cell.runs), (0, 2));
        assert_eq!(cell.summary(), "FAIL idle 180-195 s");
        assert_eq!(m.cells[&(0, 1)].summary(), "PASS");
    }
}
