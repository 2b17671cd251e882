//! What is wrong with the flags of a run, beyond what clap checks value by value.

use crate::cloud::Cloud;
use crate::net::proxy::ProxyUrlError;
use relay_protocol::connection_string::ConnectionStringError;
use relay_protocol::hc::EntityPathError;

/// How `--hybrid-connection` is named in errors (the value is a secret: never shown).
const HC_FLAG: &str = "--hybrid-connection (or PROBE_HYBRID_CONNECTION)";

#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("proxy environment variable {0}")]
    ProxyEnvironment(ProxyUrlError),
    /// `flag`: `--proxy-auth basic` or `--proxy-auth ntlm`.
    #[error("{flag}: no proxy is configured (--proxy, the scenario's proxy, HTTPS_PROXY)")]
    AuthWithoutProxy { flag: String },
    /// `proxy`: the proxy's URL without credentials; `origin`: where it was configured.
    #[error("{flag}: the proxy {proxy} (from {origin}) has no user and password; give them in its URL: http://DOMAIN%5Cuser:PASSWORD@HOST:PORT")]
    AuthWithoutCredentials {
        flag: String,
        proxy: String,
        origin: String,
    },
    #[error("--hc-entity `{name}`: {error}")]
    HcEntity {
        name: String,
        error: EntityPathError,
    },
    #[error("{flag}: {0}", flag = HC_FLAG)]
    ConnectionString(ConnectionStringError),
    #[error("{}: the connection string has no EntityPath: add EntityPath=NAME to it, or name the hybrid connection with --hc-entity", HC_FLAG)]
    NoEntityPath,
    #[error("scenario {scenario} has no target for cloud {cloud}; name one with --target")]
    NoTarget { scenario: String, cloud: Cloud },
}

impl crate::error::UserError for PlanError {}
