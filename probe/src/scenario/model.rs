//! The scenario file format (TOML). Unknown fields are errors, so a typo never passes silently.

use serde::Deserialize;
use toml::Spanned;

/// A whole scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Short name, shown in every output.
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Cloud used when `--cloud` is not given; targets may be restricted to one cloud each.
    #[serde(default)]
    pub default_cloud: Option<Spanned<String>>,
    /// Idle-connection requirement of the service behind these targets.
    #[serde(default)]
    pub idle: Option<IdleSection>,
    /// A forward proxy for every target: `http://[user:pass@]host:port`.
    #[serde(default)]
    pub proxy: Option<Spanned<String>>,
    /// Issuer substrings (organisation or CN) a genuine chain contains, for every target; any
    /// other issuer means the connection is intercepted.
    #[serde(default)]
    pub expect_issuer: Vec<String>,
    /// Azure Relay namespaces whose gateways to check; a bare name gets the cloud's suffix.
    #[serde(default)]
    pub relay_namespaces: Vec<String>,
    /// Legacy relay ports (9350-9354, 5671) fail the run instead of warning.
    #[serde(default)]
    pub legacy_ports_required: bool,
    /// An Active Directory domain whose PDC emulator writeback must reach.
    #[serde(default)]
    pub ad_domain: Option<Spanned<String>>,
    #[serde(default)]
    pub targets: Vec<TargetEntry>,
}

/// `[idle]`: how long an idle connection must survive, and should.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdleSection {
    /// Seconds an idle connection must survive: the pass line (180 for password writeback).
    pub required_s: Spanned<u64>,
    /// Where the required figure comes from, quoted in messages.
    #[serde(default)]
    pub required_source: Option<String>,
    /// Seconds an idle connection should survive: shorter survival passes with a warning.
    #[serde(default)]
    pub recommended_s: Option<Spanned<u64>>,
    /// Where the recommended figure comes from, quoted in messages.
    #[serde(default)]
    pub recommended_source: Option<String>,
}

/// `[[targets]]`: one endpoint.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetEntry {
    /// Label in reports; the host name when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// `https://`, `wss://`, `tcp://host:port` or `relay://host:port`.
    pub url: Spanned<String>,
    /// Only checked when the run's cloud is this one (`public`, `usgov`, `china`).
    #[serde(default)]
    pub cloud: Option<Spanned<String>>,
    /// A failed required target fails the run (default true).
    #[serde(default = "default_true")]
    pub required: bool,
    /// HTTP status codes that pass; any answer below 500 when empty.
    #[serde(default)]
    pub expect_status: Vec<Spanned<u16>>,
    /// Issuer substrings for this target (overrides the scenario's `expect_issuer`).
    #[serde(default)]
    pub expect_issuer: Option<Vec<String>>,
    /// This target is an Azure Relay namespace: also check its gateways and legacy ports.
    #[serde(default)]
    pub relay_namespace: bool,
    /// Run the idle-connection check against this target (default true).
    #[serde(default = "default_true")]
    pub idle: bool,
}

fn default_true() -> bool {
    true
}
