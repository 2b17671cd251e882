//! The human, JSON and HTML reports of one result say the same things: the verdict, each
//! target's verdict and the check it failed at, and the diagnosis with its next step.

use super::document::LoadedRun;
use super::{html, merge};
use crate::outcome::{Status, Verdict};
use crate::report::markup::text;
use crate::report::{human, json, Layout};
use crate::result::fixture::*;
use crate::result::{Diagnosis, RunResult};

/// `(target, verdict, "check outcome" it failed at)`, from the result itself.
fn facts(run: &RunResult) -> Vec<(String, Verdict, Option<String>)> {
    run.targets
        .iter()
        .map(|t| {
            let failed = t
                .checks
                .iter()
                .find(|c| c.status == Status::Fail)
                .map(|c| format!("{} {}", c.check, c.outcome));
            (t.name.clone(), t.verdict, failed)
        })
        .collect()
}

/// The same facts, read from the human report's tables.
fn from_human(report: &str, run: &RunResult) -> Vec<(String, Verdict, Option<String>)> {
    run.targets
        .iter()
        .map(|t| {
            let table: Vec<&str> = report
                .split("\n\n")
                .find(|block| block.starts_with(&format!("{}  ", t.name)))
                .unwrap_or_else(|| panic!("no table for {}:\n{report}", t.name))
                .lines()
                .collect();
            let failed = table.iter().find_map(|row| {
                let words: Vec<&str> = row.split_whitespace().collect();
                (words.get(1) == Some(&"fail")).then(|| format!("{} {}", words[0], words[2]))
            });
            let verdict = if failed.is_some() {
                Verdict::Fail
            } else {
                Verdict::Pass
            };
            (t.name.clone(), verdict, failed)
        })
        .collect()
}

/// The same facts, read from the HTML matrix's cells (one segment: one cell per row).
fn from_html(page: &str, run: &RunResult) -> Vec<(String, Verdict, Option<String>)> {
    run.targets
        .iter()
        .map(|t| {
            let row_start = format!("<tr><th scope=\"row\">{}</th>", text(&t.name));
            let row = page
                .split(&row_start)
                .nth(1)
                .and_then(|rest| rest.split("</tr>").next())
                .unwrap_or_else(|| panic!("no row for {}:\n{page}", t.name));
            let verdict = if row.contains("<span class=\"verdict\">FAIL</span>") {
                Verdict::Fail
            } else {
                Verdict::Pass
            };
            let failed = row.split("</span></a> ").nth(1).map(|rest| {
                rest.split(['<', '\n'])
                    .next()
                    .unwrap_or_default()
                    .to_string()
            });
            (t.name.clone(), verdict, failed)
        })
        .collect()
}

fn check_consistency(run: &RunResult, diagnosis: &Diagnosis) {
    let expected = facts(run);

    // Human, as written to a file or a pipe.
    let human = human::render(run, Layout::default());
    assert_eq!(from_human(&human, run), expected, "{human}");
    let lines: Vec<&str> = human.lines().collect();
    let said = format!("diagnosis: {}", diagnosis.summary());
    assert_eq!(lines[1], said, "{human}");
    assert_eq!(lines[lines.len() - 3], said, "{human}");
    assert_eq!(
        lines[lines.len() - 2],
        format!("next step: {}", diagnosis.next_step)
    );
    let verdict_line = lines[lines.len() - 1];
    assert!(
        verdict_line.starts_with(&format!("verdict: {}", run.verdict.as_str().to_uppercase())),
        "{verdict_line}"
    );

    // JSON, and the document `probe report` reads back.
    let document = json::render(run);
    let value: serde_json::Value = serde_json::from_str(&document).expect("JSON");
    assert_eq!(value["verdict"], run.verdict.as_str());
    assert_eq!(value["diagnosis"]["phase"], diagnosis.phase.as_str());
    assert_eq!(value["diagnosis"]["outcome"], diagnosis.outcome.as_str());
    assert_eq!(value["diagnosis"]["cause"], diagnosis.cause.as_str());
    assert_eq!(
        value["diagnosis"]["next_step"],
        diagnosis.next_step.as_str()
    );
    assert_eq!(
        value["diagnosis"]["targets"],
        serde_json::json!(diagnosis.targets)
    );
    let read = super::document::parse(&document, "run.json".as_ref()).expect("reads back");
    assert_eq!(&read.run, run);
    let from_json: Vec<_> = value["targets"]
        .as_array()
        .expect("targets")
        .iter()
        .map(|t| {
            let failed = t["checks"]
                .as_array()
                .expect("checks")
                .iter()
                .find(|c| c["status"] == "fail")
                .map(|c| {
                    format!(
                        "{} {}",
                        c["check"].as_str().unwrap(),
                        c["outcome"].as_str().unwrap()
                    )
                });
            let verdict = if t["verdict"] == "fail" {
                Verdict::Fail
            } else {
                Verdict::Pass
            };
            (t["name"].as_str().unwrap().to_string(), verdict, failed)
        })
        .collect();
    assert_eq!(from_json, expected);

    // HTML, from the document read back.
    let page = html::render(&merge::build(vec![LoadedRun {
        file: "run.json".into(),
        run: read.run,
    }]));
    assert_eq!(from_html(&page, run), expected, "{page}");
    assert!(page.contains(&text(&diagnosis.summary())), "{page}");
    assert!(page.contains(&text(&diagnosis.next_step)), "{page}");
    assert!(
        page.contains(&format!(
            "verdict <span class=\"verdict\">{}</span>",
            run.verdict.as_str()
        )),
        "{page}"
    );
}

#[test]
fn a_segment_without_public_dns_reads_the_same_in_every_format() {
    let run = run_of(vec![
        dns_timeout("sspr-relay-scu"),
        dns_timeout("sspr-relay-ncu"),
        dns_timeout("passwordreset"),
    ]);
    let diagnosis = run.diagnosis.clone().expect("a diagnosis");
    check_consistency(&run, &diagnosis);
}

#[test]
fn an_inspected_segment_reads_the_same_in_every_format() {
    let issuer = "CN=Contoso <Inspection> & Co";
    let run = run_of(vec![
        tls_intercepted("a", issuer),
        tls_intercepted("b", issuer),
    ]);
    let diagnosis = run.diagnosis.clone().expect("a diagnosis");
    assert!(diagnosis.cause.contains(issuer));
    check_consistency(&run, &diagnosis);
}

#[test]
fn a_document_without_the_field_gets_the_same_diagnosis_in_html() {
    let mut run = run_of(vec![tcp_timeout("a"), tcp_timeout("b")]);
    let diagnosis = run.diagnosis.take().expect("a diagnosis");
    let page = html::render(&merge::build(vec![LoadedRun {
        file: "old.json".into(),
        run,
    }]));
    assert!(page.contains(&text(&diagnosis.summary())), "{page}");
}
