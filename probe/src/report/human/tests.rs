//! The human report of a segment with no public DNS: folded, wrapped at a given width, opened
//! and closed by the diagnosis.

use super::*;
use crate::result::fixture::*;

fn no_dns() -> RunResult {
    run_of(vec![
        dns_timeout("sspr-relay-scu"),
        dns_timeout("sspr-relay-ncu"),
        dns_timeout("passwordreset"),
    ])
}

fn plain(width: Option<usize>, verbose: bool) -> Layout {
    Layout {
        color: false,
        width,
        verbose,
    }
}

#[test]
fn checks_skipped_for_one_reason_fold_into_one_line() {
    let text = render(&no_dns(), plain(None, false));
    let folded =
        "  tcp tls http revocation gateways legacy_ports idle: not run, name resolution failed";
    assert_eq!(text.matches(folded).count(), 3, "{text}");
    assert!(!text.contains("skip skipped"), "{text}");
    // Three targets: a name line, dns and the folded line each, and the report's own lines.
    assert_eq!(text.lines().count(), 1 + 1 + 3 * 4 + 1 + 2 + 1, "{text}");
}

#[test]
fn verbose_keeps_a_line_per_skipped_check() {
    let text = render(&no_dns(), plain(None, true));
    assert_eq!(text.matches("skip skipped").count(), 21, "{text}");
    assert_eq!(
        text.matches("not run: name resolution failed").count(),
        21,
        "{text}"
    );
    assert!(!text.contains(": not run, "), "{text}");
}

#[test]
fn the_diagnosis_opens_and_closes_the_report() {
    let text = render(&no_dns(), plain(None, false));
    let lines: Vec<&str> = text.lines().collect();
    let diagnosis = "diagnosis: this machine resolves no public names; dns timeout on all 3 failed targets (sspr-relay-scu, sspr-relay-ncu, passwordreset)";
    assert_eq!(lines[1], diagnosis, "{text}");
    let end = &lines[lines.len() - 3..];
    assert_eq!(end[0], diagnosis, "{text}");
    assert!(
        end[1].starts_with("next step: check that the DNS servers"),
        "{text}"
    );
    assert_eq!(
        end[2],
        "verdict: FAIL (failed: sspr-relay-scu, sspr-relay-ncu, passwordreset)"
    );
    // Said once at the end: the next step is not repeated at the top.
    assert_eq!(text.matches("next step:").count(), 1);
}

#[test]
fn no_common_cause_no_diagnosis_lines() {
    let run = run_of(vec![dns_timeout("a"), tcp_timeout("b")]);
    let text = render(&run, plain(None, false));
    assert!(!text.contains("diagnosis:"), "{text}");
    assert!(!text.contains("next step:"), "{text}");
    // Each target folds its own reason.
    assert!(
        text.contains(
            "  tls http revocation gateways legacy_ports idle: not run, TCP connect failed"
        ),
        "{text}"
    );
}

#[test]
fn wraps_at_the_given_width_with_messages_hanging_under_their_column() {
    let text = render(&no_dns(), plain(Some(80), false));
    for line in text.lines() {
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    // The dns row's message starts at its column; its continuation hangs under it.
    let lines: Vec<&str> = text.lines().collect();
    let row = lines
        .iter()
        .position(|l| l.starts_with("  dns"))
        .expect("a dns row");
    let column = lines[row].find("no answer").expect("the message");
    let next = lines[row + 1];
    assert_eq!(next.len() - next.trim_start().len(), column, "{text}");
    assert!(!next.trim_start().is_empty());
    // Words stay whole: every word of the message is on some line.
    let message = &no_dns().targets[0].checks[0].message;
    for word in message.split(' ') {
        assert!(text.contains(word), "{word} was split:\n{text}");
    }
    // The unwrapped report has the same words in the same order.
    let words = |t: &str| t.split_whitespace().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(words(&text), words(&render(&no_dns(), plain(None, false))));
}

#[test]
fn without_a_width_nothing_is_wrapped() {
    let text = render(&no_dns(), plain(None, false));
    assert!(text.lines().any(|l| l.chars().count() > 150), "{text}");
    assert!(
        !text.lines().any(|l| l.starts_with("           ")),
        "{text}"
    );
}

#[test]
fn a_skip_reason_with_a_detail_folds_with_the_others_and_keeps_it_with_verbose() {
    let mut run = no_dns();
    let detail =
        "not run: name resolution failed (the URLs of an unverified chain are never fetched)";
    for t in &mut run.targets {
        t.checks[4].message = detail.into();
    }
    let text = render(&run, plain(None, false));
    assert!(text.contains("  tcp tls http revocation gateways legacy_ports idle: not run, name resolution failed\n"), "{text}");
    assert!(render(&run, plain(None, true)).contains(detail));
}
