//! The Prometheus text exposition (format 0.0.4), named the way blackbox_exporter names its
//! series so existing dashboards and alert habits carry over.
//!
//! Every series carries `target` (the target's name) and `segment` (`--segment`, empty when not
//! given). A series is only written when its value is known: a skipped check has no
//! `probe_check_success`, a target without an idle check has no `probe_idle_*`.

use crate::outcome::{Outcome, Status, Verdict};
use crate::result::{CheckName, Details, RunResult, TargetResult};
use std::fmt::Write;

/// One metric family: its samples are written together under one HELP and TYPE.
struct Family {
    name: &'static str,
    help: &'static str,
    samples: Vec<(Vec<(&'static str, String)>, f64)>,
}

impl Family {
    fn new(name: &'static str, help: &'static str) -> Family {
        Family {
            name,
            help,
            samples: Vec::new(),
        }
    }
}

pub fn render(result: &RunResult) -> String {
    let segment = result.segment.clone().unwrap_or_default();
    let mut families = [
        Family::new(
            "probe_success",
            "Whether every check of the target passed (1) or one failed (0).",
        ),
        Family::new(
            "probe_check_success",
            "Whether the check passed or only warned (1) or failed (0); skipped checks are absent.",
        ),
        Family::new(
            "probe_phase_duration_seconds",
            "Duration of each connection phase of the first pass.",
        ),
        Family::new(
            "probe_idle_required_seconds",
            "Seconds an idle connection must survive.",
        ),
        Family::new(
            "probe_idle_survived_seconds",
            "Longest idle period that survived in every direction.",
        ),
        Family::new(
            "probe_idle_failed_seconds",
            "Shortest idle period that failed; absent when none failed.",
        ),
        Family::new(
            "probe_tls_version_info",
            "The negotiated TLS version, as a label.",
        ),
        Family::new(
            "probe_tls_cert_not_after_timestamp_seconds",
            "Earliest notAfter of the presented certificate chain, in Unix seconds.",
        ),
        Family::new(
            "probe_tls_intercepted",
            "Whether the presented chain was not issued by the expected issuer (TLS interception).",
        ),
    ];
    for target in &result.targets {
        let labels = |extra: Option<(&'static str, &str)>| {
            let mut l = vec![
                ("target", target.name.clone()),
                ("segment", segment.clone()),
            ];
            if let Some((k, v)) = extra {
                l.push((k, v.to_string()));
            }
            l
        };
        let mut push = |i: usize, extra: Option<(&'static str, &str)>, value: f64| {
            families[i].samples.push((labels(extra), value));
        };
        push(0, None, bool_value(target.verdict == Verdict::Pass));
        for check in target.checks.iter().filter(|c| c.status != Status::Skip) {
            push(
                1,
                Some(("check", check.check.as_str())),
                bool_value(check.status != Status::Fail),
            );
        }
        for (phase, ms) in target.phases_ms.measured() {
            push(2, Some(("phase", phase.as_str())), ms / 1000.0);
        }
        if let Some(idle) = &target.idle {
            push(3, None, idle.required_s.as_f64());
            if let Some(s) = idle.survived_s {
                push(4, None, s.as_f64());
            }
            if let Some(s) = idle.failed_s {
                push(5, None, s.as_f64());
            }
        }
        let tls = tls_facts(target);
        if let Some(version) = &tls.version {
            push(6, Some(("version", version)), 1.0);
        }
        if let Some(not_after) = tls.earliest_not_after {
            push(7, None, not_after as f64);
        }
        if let Some(intercepted) = tls.intercepted {
            push(8, None, bool_value(intercepted));
        }
    }
    let mut out = String::new();
    for family in families.iter().filter(|f| !f.samples.is_empty()) {
        let _ = writeln!(out, "# HELP {} {}", family.name, escape_help(family.help));
        let _ = writeln!(out, "# TYPE {} gauge", family.name);
        for (labels, value) in &family.samples {
            let labels: Vec<String> = labels
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", escape_label(v)))
                .collect();
            let _ = writeln!(
                out,
                "{}{{{}}} {}",
                family.name,
                labels.join(","),
                number(*value)
            );
        }
    }
    out
}

/// What the TLS check of a target saw, when it ran.
struct TlsFacts {
    version: Option<String>,
    earliest_not_after: Option<i64>,
    intercepted: Option<bool>,
}

fn tls_facts(target: &TargetResult) -> TlsFacts {
    let check = target
        .checks
        .iter()
        .find(|c| c.check == CheckName::Tls && c.status != Status::Skip);
    let Some(check) = check else {
        return TlsFacts {
            version: None,
            earliest_not_after: None,
            intercepted: None,
        };
    };
    let details = match &check.details {
        Some(Details::Tls(d)) => Some(d),
        _ => None,
    };
    TlsFacts {
        version: details.and_then(|d| d.tls_version.clone()),
        earliest_not_after: details
            .and_then(|d| d.chain.iter().filter_map(|c| c.not_after_unix()).min()),
        intercepted: Some(check.outcome == Outcome::Intercepted),
    }
}

fn bool_value(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// A sample value: integers without a fraction, others as Rust prints them (round-trips).
fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// Label values escape backslash, double quote and line feed.
pub fn escape_label(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// HELP text escapes backslash and line feed.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape_label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn numbers_are_written_plainly() {
        assert_eq!(number(1.0), "1");
        assert_eq!(number(0.0123), "0.0123");
        assert_eq!(number(1_767_225_600.0), "1767225600");
    }
}
