//! The merged matrix as a plain text table: rows targets, columns segments.

use crate::matrix::merge::Matrix;
use std::fmt::Write;

pub fn render(m: &Matrix) -> String {
    let mut rows: Vec<Vec<String>> = Vec::with_capacity(m.targets.len() + 1);
    let mut header = vec!["target".to_string()];
    header.extend(m.segments.iter().cloned());
    rows.push(header);
    for (r, target) in m.targets.iter().enumerate() {
        let mut row = vec![target.clone()];
        for c in 0..m.segments.len() {
            row.push(match m.cells.get(&(r, c)) {
                Some(cell) if cell.runs > 1 => format!("{} ({} runs)", cell.summary(), cell.runs),
                Some(cell) => cell.summary(),
                None => "-".into(),
            });
        }
        rows.push(row);
    }
    let columns = m.segments.len() + 1;
    let widths: Vec<usize> = (0..columns)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for (i, row) in rows.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(text, w)| format!("{text:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            let _ = writeln!(out, "{}", rule.join("  "));
        }
    }
    let _ = writeln!(
        out,
        "\n{} run(s); idle: the bracket in which idle connections die (survived-failed), >=N s when none failed",
        m.runs.len()
    );
    out
}
