//! The result JSON `probe report` reads: a result written by the probe reads back as the same
//! result (its text cleaned of control characters), a damaged or hostile document is refused
//! with the file and position named, and whatever is accepted renders in every format, in
//! bounded size, with no control character on a terminal.

use crate::{check, ensure};
use probe::matrix::document::{parse, LoadedRun};
use probe::matrix::{html, merge, text};
use probe::report::{self, json, Format};
use probe::result::RunResult;

use proptest::prelude::*;
use serde_json::Value;
use std::path::Path;

/// A run with every part of the document filled in (the unit tests' sample, as JSON).
pub fn sample() -> RunResult {
    serde_json::from_str(include_str!("sample-run.json")).expect("the sample reads")
}

const FILE: &str = "fuzz.json";

/// Milliseconds as the probe writes them (three decimals), in a real range: they read back
/// exactly.
fn millis() -> impl Strategy<Value = f64> {
    (0u64..10_000_000_000).prop_map(|n| n as f64 / 1000.0)
}

/// Seconds as the probe writes them (to the millisecond), up to a day past any idle ladder's
/// reach: they read back exactly.
fn seconds() -> impl Strategy<Value = probe::seconds::Seconds> {
    (0u64..100_000_000).prop_map(probe::seconds::Seconds::from_millis)
}

/// The sample result with its free text and numbers replaced.
fn run_result() -> impl Strategy<Value = RunResult> {
    let text = "\\PC{0,24}|[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}a-z]{0,8}";
    (
        prop::collection::vec(text, 8),
        prop::collection::vec(millis(), 6),
        prop::collection::vec(seconds(), 3),
        any::<bool>(),
        any::<bool>(),
        0usize..12,
    )
        .prop_map(|(texts, numbers, secs, keep_idle, keep_timings, checks)| {
            let mut run = crate::result_json::sample();
            let t = |i: usize| texts.get(i).cloned().unwrap_or_default();
            let n = |i: usize| numbers.get(i).copied().unwrap_or_default();
            let s = |i: usize| secs.get(i).copied().unwrap_or_default();
            run.segment = Some(t(0));
            run.notes = vec![t(1)];
            if let Some(target) = run.targets.first_mut() {
                target.name = t(2);
                target.checks.truncate(checks);
                for check in &mut target.checks {
                    check.message = t(3);
                    check.duration_ms = n(0);
                }
                target.phases_ms.tls = Some(n(1));
                if !keep_timings {
                    target.timings_ms = None;
                }
                match (&mut target.idle, keep_idle) {
                    (Some(idle), true) => {
                        idle.advice = t(4);
                        idle.required_s = s(0);
                        idle.step_s = s(1);
                        for p in &mut idle.probes {
                            p.idle_s = s(2);
                        }
                    }
                    (idle, _) => *idle = None,
                }
            }
            run.scenario = t(5);
            run.proxy = Some(t(6));
            run
        })
}

/// Control characters a terminal would act on (anything but newline).
fn terminal_controls(text: &str) -> bool {
    text.chars().any(|c| c.is_control() && c != '\n')
}

/// Every format of `run` and of the matrix: bounded, clean where a terminal shows it.
fn renders(loaded: LoadedRun) -> Result<(), TestCaseError> {
    let run = &loaded.run;
    for format in [
        Format::Human,
        Format::Json,
        Format::Junit,
        Format::Prometheus,
    ] {
        let out = report::render(run, format, report::Layout::default());
        ensure(out.len() < 4 * 1024 * 1024, || {
            format!("{format:?}: {} bytes", out.len())
        })?;
        ensure(!terminal_controls(&out), || {
            format!("{format:?} shows a control character")
        })?;
    }
    let matrix = merge::build(vec![loaded]);
    let text = text::render(&matrix);
    ensure(!terminal_controls(&text), || {
        "matrix text shows a control character".into()
    })?;
    let page = html::render(&matrix);
    ensure(page.len() < 4 * 1024 * 1024, || {
        format!("html: {} bytes", page.len())
    })
}

#[test]
fn a_written_result_reads_back_as_itself_cleaned() {
    check("result JSON round trip", run_result, |run: RunResult| {
        let text = json::render(&run);
        let loaded = parse(&text, Path::new(FILE))
            .map_err(|e| TestCaseError::fail(format!("own document refused: {e}\n{text}")))?;
        ensure(loaded.run == run.clone().sanitized(), || {
            format!("read back differently:\n{text}\n{:#?}", loaded.run)
        })
    });
}

/// A JSON value of any shape, with numbers at the edges of what f64 holds.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just(1.7e308),
            Just(f64::MAX),
            Just(-1.7e308),
            Just(1e-300),
            Just(0.0),
            Just(-1.0),
            any::<f64>().prop_filter("finite", |f| f.is_finite()),
        ]
        .prop_map(Value::from),
        "\\PC{0,12}|[\\x00-\\x1f]{0,4}".prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..3)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replaces the value at a path chosen by `steps` (keys and elements by index modulo their
/// count) with `new`.
fn replace_at(doc: &mut Value, steps: &[usize], new: Value) {
    let Some((step, rest)) = steps.split_first() else {
        *doc = new;
        return;
    };
    match doc {
        Value::Object(map) if !map.is_empty() => {
            let i = step % map.len();
            if let Some(v) = map.values_mut().nth(i) {
                replace_at(v, rest, new);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let len = items.len();
            if let Some(v) = items.get_mut(step % len) {
                replace_at(v, rest, new);
            }
        }
        _ => *doc = new,
    }
}

#[test]
fn a_damaged_result_is_refused_naming_the_file_or_renders() {
    let input = || {
        (
            run_result(),
            prop::collection::vec(prop::collection::vec(any::<usize>(), 1..6), 1..4),
            prop::collection::vec(json_value(), 3),
        )
    };
    check("result JSON damaged", input, |(run, paths, values)| {
        let mut doc = serde_json::to_value(&run).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for (steps, value) in paths.iter().zip(values) {
            replace_at(&mut doc, steps, value);
        }
        let text = doc.to_string();
        match parse(&text, Path::new(FILE)) {
            Ok(loaded) => renders(loaded),
            Err(e) => ensure(e.to_string().starts_with(FILE), || {
                format!("file not named: {}", e)
            }),
        }
    });
}

#[test]
fn any_text_is_refused_naming_the_file_or_renders() {
    check(
        "result JSON any text",
        || "\\PC{0,200}",
        |text: String| match parse(&text, Path::new(FILE)) {
            Ok(loaded) => renders(loaded),
            Err(e) => ensure(e.to_string().starts_with(FILE), || {
                format!("file not named: {}", e)
            }),
        },
    );
}
