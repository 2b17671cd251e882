//! Scenario files: any text, and any TOML document built from the format's own keys with
//! values of every type, parses or fails with a message naming the file and the field.

use crate::{check, ensure};
use probe::scenario::Scenario;
use probe::seconds::Seconds;
use proptest::prelude::*;
use toml::Value;

const ORIGIN: &str = "fuzz.toml";

/// A TOML value of any type, biased towards what the fields expect.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::Integer),
        (0i64..100_000).prop_map(Value::Integer),
        any::<bool>().prop_map(Value::Boolean),
        any::<f64>().prop_map(Value::Float),
        "\\PC{0,24}".prop_map(Value::String),
        prop_oneof![
            Just("public"),
            Just("usgov"),
            Just("china"),
            Just("https://relay.example/"),
            Just("relay://127.0.0.1:8443"),
            Just("tcp://dc.example:389"),
            Just("http://u:p@proxy:3128"),
            Just("corp.example"),
        ]
        .prop_map(|s| Value::String(s.into())),
        crate::urls::url_like().prop_map(Value::String),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..3)
                .prop_map(|m| Value::Table(m.into_iter().collect())),
        ]
    })
}

fn key(known: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        8 => prop::sample::select(known).prop_map(str::to_string),
        1 => "[a-z_]{1,12}",
    ]
}

const TOP: &[&str] = &[
    "name",
    "description",
    "default_cloud",
    "proxy",
    "expect_issuer",
    "relay_namespaces",
    "legacy_ports_required",
    "ad_domain",
];
const TARGET: &[&str] = &[
    "name",
    "url",
    "cloud",
    "required",
    "expect_status",
    "expect_issuer",
    "relay_namespace",
    "idle",
];

/// A whole scenario document (always valid TOML): top-level keys, an optional `[idle]`, and
/// up to three `[[targets]]`.
fn document() -> impl Strategy<Value = String> {
    let table =
        |keys: &'static [&'static str]| prop::collection::btree_map(key(keys), value(), 0..6);
    (
        table(TOP),
        prop::option::of(value()),
        prop::collection::vec(table(TARGET), 0..3),
        any::<bool>(),
    )
        .prop_map(|(top, idle, targets, named)| {
            let mut doc = toml::Table::new();
            if named {
                doc.insert("name".into(), Value::String("fuzz".into()));
            }
            doc.extend(top);
            if let Some(required) = idle {
                let mut section = toml::Table::new();
                section.insert("required_s".into(), required);
                doc.insert("idle".into(), Value::Table(section));
            }
            if !targets.is_empty() {
                let targets = targets
                    .into_iter()
                    .map(|t| Value::Table(t.into_iter().collect()))
                    .collect();
                doc.insert("targets".into(), Value::Array(targets));
            }
            toml::to_string(&doc).unwrap_or_default()
        })
}

/// The shipped scenario with a few characters replaced, inserted or removed.
fn mutated_builtin() -> impl Strategy<Value = String> {
    let text = probe::scenario::builtin::find(probe::scenario::builtin::DEFAULT)
        .unwrap_or_default()
        .to_string();
    prop::collection::vec((any::<prop::sample::Index>(), "\\PC{0,3}", 0usize..4), 1..6).prop_map(
        move |edits| {
            let mut chars: Vec<char> = text.chars().collect();
            for (at, insert, remove) in edits {
                let i = at.index(chars.len() + 1);
                let end = (i + remove).min(chars.len());
                chars.splice(i..end, insert.chars());
            }
            chars.into_iter().collect()
        },
    )
}

/// An error of `Scenario::parse`: names the file, and a position or a field.
fn well_formed_error(message: &str) -> Result<(), TestCaseError> {
    ensure(message.starts_with(&format!("scenario {ORIGIN}")), || {
        format!("error does not name the file: {message}")
    })
}

fn valid_scenario(s: &Scenario) -> Result<(), TestCaseError> {
    if let Some(idle) = &s.idle {
        let required = idle.required_s;
        ensure(
            (Seconds::new(1)..=Seconds::new(86_400)).contains(&required),
            || format!("required_s {required} accepted"),
        )?;
        if let Some(recommended) = idle.recommended_s {
            ensure(
                (required..=Seconds::new(86_400)).contains(&recommended),
                || format!("recommended_s {recommended} accepted"),
            )?;
        }
    }
    for t in &s.targets {
        ensure(probe::target::Target::parse(&t.target.url).is_ok(), || {
            format!("target {} does not parse again", t.target.url)
        })?;
    }
    Ok(())
}

#[test]
fn any_text_parses_or_names_the_file() {
    check(
        "scenario: any text",
        || "\\PC{0,300}",
        |text: String| match Scenario::parse(ORIGIN, &text) {
            Ok(s) => valid_scenario(&s),
            Err(e) => well_formed_error(&e.to_string()),
        },
    );
}

#[test]
fn a_mutated_builtin_parses_or_names_the_file_and_line() {
    check(
        "scenario: mutated built-in",
        mutated_builtin,
        |text: String| match Scenario::parse(ORIGIN, &text) {
            Ok(s) => valid_scenario(&s),
            Err(e) => {
                well_formed_error(&e.to_string())?;
                ensure(
                    e.to_string().starts_with(&format!("scenario {ORIGIN}:")),
                    || format!("no line in: {}", e),
                )
            }
        },
    );
}

#[test]
fn any_document_of_the_formats_keys_parses_or_names_the_field() {
    check(
        "scenario: structured documents",
        document,
        |text: String| match Scenario::parse(ORIGIN, &text) {
            Ok(s) => valid_scenario(&s),
            Err(e) => {
                well_formed_error(&e.to_string())?;
                ensure(e.to_string().contains("field `"), || {
                    format!("no field named: {}\n{text}", e)
                })
            }
        },
    );
}
