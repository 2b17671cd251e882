//! JUnit XML for a CI's test view: a `<testsuite>` per target, a `<testcase>` per check.
//!
//! A failed check is a `<failure>` whose text is the check's message; a skipped check is
//! `<skipped/>`; a warning passes and carries its message in `<system-out>`. The segment is the
//! test cases' `classname` prefix, so runs from several segments stay apart in one CI view.

use crate::outcome::Status;
use crate::report::markup::{attr, text};
use crate::result::{RunResult, TargetResult};
use std::fmt::Write;

pub fn render(result: &RunResult) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let all = Counts::of(result.targets.iter().flat_map(|t| &t.checks));
    let _ = writeln!(
        out,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\" timestamp=\"{}\">",
        attr(&format!("probe {}", result.scenario)),
        all.tests,
        all.failures,
        all.skipped,
        seconds(all.ms),
        attr(&result.started_at),
    );
    for target in &result.targets {
        render_suite(&mut out, result, target);
    }
    out.push_str("</testsuites>\n");
    out
}

fn render_suite(out: &mut String, result: &RunResult, target: &TargetResult) {
    let counts = Counts::of(&target.checks);
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{}\" timestamp=\"{}\">",
        attr(&target.name),
        counts.tests,
        counts.failures,
        counts.skipped,
        seconds(counts.ms),
        attr(&result.started_at),
    );
    out.push_str("    <properties>\n");
    let mut properties = vec![
        ("url", target.url.clone()),
        ("scenario", result.scenario.clone()),
        ("cloud", result.cloud.to_string()),
        ("segment", result.segment.clone().unwrap_or_default()),
        ("required", target.required.to_string()),
        ("verdict", target.verdict.as_str().to_string()),
    ];
    if let Some(proxy) = &result.proxy {
        // Already redacted by the run (credentials shown as ****).
        properties.push(("proxy", proxy.clone()));
    }
    for (name, value) in properties {
        let _ = writeln!(
            out,
            "      <property name=\"{name}\" value=\"{}\"/>",
            attr(&value)
        );
    }
    out.push_str("    </properties>\n");
    let classname = match &result.segment {
        Some(segment) => format!("{segment}.{}", target.name),
        None => target.name.clone(),
    };
    for check in &target.checks {
        let _ = write!(
            out,
            "    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"",
            check.check.as_str(),
            attr(&classname),
            seconds(check.duration_ms)
        );
        let mut message = check.message.clone();
        if let (crate::result::CheckName::Idle, Some(idle)) = (check.check, &target.idle) {
            if !idle.advice.is_empty() {
                message = format!("{message}\n{}", idle.advice);
            }
        }
        match check.status {
            Status::Pass => out.push_str("/>\n"),
            Status::Warn => {
                let _ = writeln!(
                    out,
                    ">\n      <system-out>warn ({}): {}</system-out>\n    </testcase>",
                    check.outcome,
                    text(&message)
                );
            }
            Status::Skip => {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    attr(&check.message)
                );
            }
            Status::Fail => {
                let _ = writeln!(
                    out,
                    ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                    attr(&check.message),
                    check.outcome,
                    text(&message)
                );
            }
        }
    }
    out.push_str("  </testsuite>\n");
}

#[derive(Default)]
struct Counts {
    tests: usize,
    failures: usize,
    skipped: usize,
    ms: f64,
}

impl Counts {
    fn of<'a>(checks: impl IntoIterator<Item = &'a crate::result::CheckResult>) -> Counts {
        let mut c = Counts::default();
        for check in checks {
            c.tests += 1;
            c.ms += check.duration_ms;
            match check.status {
                Status::Fail => c.failures += 1,
                Status::Skip => c.skipped += 1,
                Status::Pass | Status::Warn => {}
            }
        }
        c
    }
}

fn seconds(ms: f64) -> String {
    format!("{:.3}", ms / 1000.0)
}
