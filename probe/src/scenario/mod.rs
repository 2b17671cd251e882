//! Scenarios: named sets of targets with the requirements of the service behind them.

pub mod builtin;
mod load;
pub mod model;
mod thresholds;

pub use crate::cloud::Cloud;
pub use load::{FieldProblem, ScenarioError};
pub use thresholds::Thresholds;

use crate::target::{RelayNamespace, Target, TargetKind};

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub default_cloud: Option<Cloud>,
    /// How long idle connections must (and should) survive, when the service needs them to.
    pub idle: Option<Thresholds>,
    /// The scenario's proxy, validated (credentials only ever shown redacted).
    pub proxy: Option<crate::net::proxy::Proxy>,
    pub expect_issuer: Vec<String>,
    pub relay_namespaces: Vec<String>,
    pub legacy_ports_required: bool,
    pub ad_domain: Option<String>,
    pub targets: Vec<ScenarioTarget>,
}

/// A target and the cloud it belongs to (`None`: every cloud).
#[derive(Debug, Clone)]
pub struct ScenarioTarget {
    pub cloud: Option<Cloud>,
    pub target: Target,
}

impl Scenario {
    /// Loads a built-in scenario by name, or else a TOML file by path.
    pub fn load(name_or_path: &str) -> Result<Scenario, ScenarioError> {
        if let Some(text) = builtin::find(name_or_path) {
            return load::parse(&format!("built-in {name_or_path}"), text);
        }
        let text =
            std::fs::read_to_string(name_or_path).map_err(|source| ScenarioError::Unreadable {
                name: name_or_path.to_string(),
                source,
            })?;
        load::parse(name_or_path, &text)
    }

    /// Parses scenario text; `origin` names it in error messages.
    pub fn parse(origin: &str, text: &str) -> Result<Scenario, ScenarioError> {
        load::parse(origin, text)
    }

    /// The targets that apply to `cloud`, the scenario's relay namespaces and AD domain included.
    pub fn targets_for(&self, cloud: Cloud) -> Vec<Target> {
        let mut targets: Vec<Target> = self
            .targets
            .iter()
            .filter(|t| t.cloud.is_none_or(|c| c == cloud))
            .map(|t| t.target.clone())
            .collect();
        for name in &self.relay_namespaces {
            add_namespace(&mut targets, &cloud.namespace_host(name), self);
        }
        if let Some(domain) = &self.ad_domain {
            if let Ok(t) = Target::ad_domain(domain) {
                targets.push(t);
            }
        }
        targets
    }

    /// Adds the relay namespace `host` (`--relay-namespace`), or marks the target that already
    /// checks that host as one.
    pub fn add_relay_namespace(&self, targets: &mut Vec<Target>, host: &str) {
        add_namespace(targets, host, self);
    }
}

fn add_namespace(targets: &mut Vec<Target>, host: &str, scenario: &Scenario) {
    if let Some(existing) = targets
        .iter_mut()
        .find(|t| t.host == host && matches!(t.kind, TargetKind::Https { .. }))
    {
        if existing.relay_namespace().is_none() {
            existing.make_relay_namespace(RelayNamespace {
                legacy_ports_required: scenario.legacy_ports_required,
            });
        }
        return;
    }
    if let Ok(mut t) = Target::parse(&format!("https://{host}/")) {
        t.name = format!("relay namespace {host}");
        t.make_relay_namespace(RelayNamespace {
            legacy_ports_required: scenario.legacy_ports_required,
        });
        t.expect_issuer = scenario.expect_issuer.clone();
        targets.push(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seconds::Seconds;

    #[test]
    fn every_builtin_scenario_is_valid_and_has_targets_per_cloud() {
        for (name, _) in builtin::BUILTIN {
            let s = Scenario::load(name).unwrap();
            for cloud in [Cloud::Public, Cloud::Usgov, Cloud::China] {
                assert!(!s.targets_for(cloud).is_empty(), "{name} {cloud}");
            }
        }
        let wb = Scenario::load(builtin::DEFAULT).unwrap();
        let idle = wb.idle.expect("writeback has an idle requirement");
        assert_eq!(
            (idle.required_s, idle.recommended_s),
            (Seconds::new(180), Some(Seconds::new(360)))
        );
        assert!(idle.recommended_source.is_some());
    }
}
