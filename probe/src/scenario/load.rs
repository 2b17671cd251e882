//! Reading and validating scenario files, with errors that name the file, line and field.

use super::model::ScenarioFile;
use super::{Cloud, Scenario, ScenarioTarget, Thresholds};
use crate::net::proxy::ProxyUrlError;
use crate::seconds::Seconds;
use crate::target::{RelayNamespace, Target, TargetError};
use std::ops::Range;

/// A scenario that cannot be used: every message names the scenario and, when it can, the line,
/// column and field.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("scenario {name}: cannot read it ({source}); built-in scenarios are: {}", super::builtin::BUILTIN.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "))]
    Unreadable {
        name: String,
        source: std::io::Error,
    },
    /// Not TOML, or not the shape of a scenario file (serde's words).
    #[error("scenario {origin}{}:{} {message}", .position.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default(), .field.as_ref().map(|f| format!(" field `{f}`:")).unwrap_or_default())]
    Syntax {
        origin: String,
        position: Option<(usize, usize)>,
        field: Option<String>,
        message: String,
    },
    #[error("scenario {origin}:{line}:{col}: field `{field}`: {problem}")]
    Field {
        origin: String,
        line: usize,
        col: usize,
        field: String,
        problem: FieldProblem,
    },
}

impl crate::error::UserError for ScenarioError {}

/// What is wrong with one field's value.
#[derive(Debug, thiserror::Error)]
pub enum FieldProblem {
    #[error("unknown cloud `{0}` (expected public, usgov or china)")]
    UnknownCloud(String),
    #[error(transparent)]
    Proxy(#[from] ProxyUrlError),
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("{0} is not an HTTP status code")]
    NotStatus(u16),
    #[error("must be between 1 and 86400 seconds (as --idle)")]
    IdleRequired,
    #[error("{value} is not between idle.required_s ({required}) and 86400 seconds")]
    IdleRecommended { value: u64, required: u64 },
    #[error("a relay namespace is an https:// URL (its gateways and legacy ports are checked beside it)")]
    RelayNamespaceNotHttps,
}

/// Parses and validates scenario text; `origin` names it in errors (a path or `built-in NAME`).
pub fn parse(origin: &str, text: &str) -> Result<Scenario, ScenarioError> {
    let file = deserialize(origin, text)?;
    validate(origin, text, file)
}

fn deserialize(origin: &str, text: &str) -> Result<ScenarioFile, ScenarioError> {
    let de = toml::Deserializer::parse(text).map_err(|e| toml_error(origin, text, &e, None))?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = (path != ".").then_some(path);
        toml_error(origin, text, e.inner(), field.as_deref())
    })
}

fn toml_error(origin: &str, text: &str, e: &toml::de::Error, field: Option<&str>) -> ScenarioError {
    ScenarioError::Syntax {
        origin: origin.to_string(),
        position: e.span().map(|span| line_col(text, span.start)),
        field: field.map(str::to_string),
        message: e.message().trim().to_string(),
    }
}

/// 1-based line and column of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map(|i| i + 1).unwrap_or(0) + 1;
    (line, col)
}

fn at(
    origin: &str,
    text: &str,
    span: Range<usize>,
    field: &str,
    problem: impl Into<FieldProblem>,
) -> ScenarioError {
    let (line, col) = line_col(text, span.start);
    ScenarioError::Field {
        origin: origin.to_string(),
        line,
        col,
        field: field.to_string(),
        problem: problem.into(),
    }
}

fn parse_cloud(
    origin: &str,
    text: &str,
    value: &toml::Spanned<String>,
    field: &str,
) -> Result<Cloud, ScenarioError> {
    Cloud::parse(value.get_ref()).ok_or_else(|| {
        at(
            origin,
            text,
            value.span(),
            field,
            FieldProblem::UnknownCloud(value.get_ref().clone()),
        )
    })
}

fn validate(origin: &str, text: &str, file: ScenarioFile) -> Result<Scenario, ScenarioError> {
    let default_cloud = file
        .default_cloud
        .as_ref()
        .map(|c| parse_cloud(origin, text, c, "default_cloud"))
        .transpose()?;
    let idle = file
        .idle
        .as_ref()
        .map(|idle| idle_thresholds(origin, text, idle))
        .transpose()?;
    let proxy = file
        .proxy
        .as_ref()
        .map(|p| {
            crate::net::proxy::Proxy::parse(p.get_ref(), "the scenario's proxy")
                .map_err(|m| at(origin, text, p.span(), "proxy", m))
        })
        .transpose()?;
    let ad_domain = file
        .ad_domain
        .as_ref()
        .map(|d| {
            Target::ad_domain(d.get_ref())
                .map(|_| d.get_ref().clone())
                .map_err(|m| at(origin, text, d.span(), "ad_domain", m))
        })
        .transpose()?;
    let mut targets = Vec::with_capacity(file.targets.len());
    for (i, entry) in file.targets.iter().enumerate() {
        let mut target = Target::parse(entry.url.get_ref()).map_err(|m| {
            at(
                origin,
                text,
                entry.url.span(),
                &format!("targets[{i}].url"),
                m,
            )
        })?;
        if let Some(name) = &entry.name {
            target.name = name.clone();
        }
        target.required = entry.required;
        let namespace = RelayNamespace {
            legacy_ports_required: file.legacy_ports_required,
        };
        if entry.relay_namespace && !target.make_relay_namespace(namespace) {
            return Err(at(
                origin,
                text,
                entry.url.span(),
                &format!("targets[{i}].relay_namespace"),
                FieldProblem::RelayNamespaceNotHttps,
            ));
        }
        target.expect_issuer = entry
            .expect_issuer
            .clone()
            .unwrap_or_else(|| file.expect_issuer.clone());
        target.idle = entry.idle && target.kind != crate::target::TargetKind::Tcp;
        for code in &entry.expect_status {
            if !(100..=599).contains(code.get_ref()) {
                return Err(at(
                    origin,
                    text,
                    code.span(),
                    &format!("targets[{i}].expect_status"),
                    FieldProblem::NotStatus(*code.get_ref()),
                ));
            }
            target.expect_status.push(*code.get_ref());
        }
        let cloud = entry
            .cloud
            .as_ref()
            .map(|c| parse_cloud(origin, text, c, &format!("targets[{i}].cloud")))
            .transpose()?;
        targets.push(ScenarioTarget { cloud, target });
    }
    Ok(Scenario {
        name: file.name,
        description: file.description,
        default_cloud,
        idle,
        proxy,
        expect_issuer: file.expect_issuer,
        relay_namespaces: file.relay_namespaces,
        legacy_ports_required: file.legacy_ports_required,
        ad_domain,
        targets,
    })
}

fn idle_thresholds(
    origin: &str,
    text: &str,
    idle: &super::model::IdleSection,
) -> Result<Thresholds, ScenarioError> {
    let required = *idle.required_s.get_ref();
    if !(1..=86_400).contains(&required) {
        return Err(at(
            origin,
            text,
            idle.required_s.span(),
            "idle.required_s",
            FieldProblem::IdleRequired,
        ));
    }
    let recommended = idle.recommended_s.as_ref();
    if let Some(r) = recommended.filter(|r| !(required..=86_400).contains(r.get_ref())) {
        return Err(at(
            origin,
            text,
            r.span(),
            "idle.recommended_s",
            FieldProblem::IdleRecommended {
                value: *r.get_ref(),
                required,
            },
        ));
    }
    Ok(Thresholds {
        required_s: Seconds::new(required),
        required_source: idle.required_source.clone(),
        recommended_s: recommended.map(|r| Seconds::new(*r.get_ref())),
        recommended_source: idle.recommended_source.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_field_names_line_and_field() {
        let text = "name = \"x\"\n[[targets]]\nurl = \"https://a.example/\"\nrequird = true\n";
        let err = parse("s.toml", text).unwrap_err().to_string();
        assert!(err.starts_with("scenario s.toml:4:"), "{err}");
        assert!(err.contains("requird"), "{err}");
        assert!(err.contains("targets"), "{err}");
    }

    #[test]
    fn bad_url_names_its_field() {
        let text = "name = \"x\"\n\n[[targets]]\nurl = \"gopher://a/\"\n";
        let err = parse("s.toml", text).unwrap_err().to_string();
        assert!(
            err.starts_with("scenario s.toml:4:7: field `targets[0].url`"),
            "{err}"
        );
    }

    #[test]
    fn a_relay_namespace_is_an_https_target() {
        let text = "name = \"x\"\nlegacy_ports_required = true\n[[targets]]\nurl = \"https://ns.example/\"\nrelay_namespace = true\n";
        let scenario = parse("s.toml", text).unwrap();
        let namespace = scenario.targets[0].target.relay_namespace();
        assert_eq!(namespace.map(|n| n.legacy_ports_required), Some(true));
        let text =
            "name = \"x\"\n[[targets]]\nurl = \"tcp://ns.example:443\"\nrelay_namespace = true\n";
        let err = parse("s.toml", text).unwrap_err().to_string();
        assert!(
            err.starts_with("scenario s.toml:3:7: field `targets[0].relay_namespace`"),
            "{err}"
        );
    }

    #[test]
    fn wrong_type_names_the_field() {
        let text = "name = \"x\"\n[idle]\nrequired_s = \"three minutes\"\n";
        let err = parse("s.toml", text).unwrap_err().to_string();
        assert!(err.contains(":3:"), "{err}");
        assert!(err.contains("idle.required_s"), "{err}");
    }

    #[test]
    fn syntax_error_has_a_line() {
        let err = parse("s.toml", "name = \n").unwrap_err().to_string();
        assert!(err.starts_with("scenario s.toml:1:"), "{err}");
    }
}
