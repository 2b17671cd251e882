//! `--hybrid-connection` and `--hc-entity`: hybrid connection targets from connection strings.

use super::args::RunArgs;
use super::PlanError;
use crate::cloud::Cloud;
use crate::error::ConfigError;
use crate::scenario::Scenario;
use crate::seconds::Seconds;
use crate::target::{HybridConnection, Target};
use relay_protocol::connection_string::ConnectionString;
use relay_protocol::hc::EntityPath;

/// One target per connection string; errors name the flag and the part at fault, never the key.
pub fn targets(args: &RunArgs, scenario: &Scenario) -> Result<Vec<Target>, ConfigError> {
    if !args.hc_entities.is_empty() && args.hybrid_connections.len() != 1 {
        return Err(ConfigError::Usage(
            "--hc-entity adds entities to one hybrid connection: give exactly one --hybrid-connection",
        ));
    }
    let extra = args
        .hc_entities
        .iter()
        .map(|name| {
            EntityPath::new(name.trim()).map_err(|error| PlanError::HcEntity {
                name: name.trim().to_string(),
                error,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut targets = Vec::new();
    for arg in &args.hybrid_connections {
        let cs = ConnectionString::parse(arg.0.expose()).map_err(PlanError::ConnectionString)?;
        let mut entities: Vec<EntityPath> = cs.entity_path().cloned().into_iter().collect();
        for entity in &extra {
            let known = entities
                .iter()
                .any(|e| e.as_str().eq_ignore_ascii_case(entity.as_str()));
            if !known {
                entities.push(entity.clone());
            }
        }
        if entities.is_empty() {
            return Err(PlanError::NoEntityPath.into());
        }
        let entity = entities.remove(0);
        let hc = HybridConnection {
            namespace: cs.endpoint().clone(),
            entity,
            more_entities: entities,
            credential: cs.credential().clone(),
            token_lifetime: args
                .hc_token_lifetime
                .map_or(relay_protocol::hc::SDK_TOKEN_LIFETIME, Seconds::duration),
        };
        let mut target = Target::hybrid_connection(hc);
        // Microsoft's relay presents Microsoft's certificates: any other issuer there means the
        // connection is intercepted. A lab relay (a mock-relay) presents its own.
        if is_azure_relay(&target.host) {
            target.expect_issuer = scenario.expect_issuer.clone();
        }
        targets.push(target);
    }
    Ok(targets)
}

/// Whether `host` is a namespace of Azure Relay in one of the clouds.
fn is_azure_relay(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    [Cloud::Public, Cloud::Usgov, Cloud::China]
        .iter()
        .any(|c| host.ends_with(&format!(".{}", c.relay_suffix())))
}
