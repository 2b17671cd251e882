//! What every check returns.

use crate::net::tls::CertInfo;
use crate::outcome::{Outcome, Status};
use serde::Serialize;
use std::time::Duration;

/// The name of a check, as it appears in every output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckName {
    Dns,
    Tcp,
    /// The HTTP CONNECT through a proxy.
    Proxy,
    Tls,
    Http,
    Websocket,
    Revocation,
    /// The gateways of a relay namespace.
    Gateways,
    LegacyPorts,
    /// The PDC emulator and domain controllers of `--ad-domain`.
    Pdc,
    Idle,
}

impl CheckName {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckName::Dns => "dns",
            CheckName::Tcp => "tcp",
            CheckName::Proxy => "proxy",
            CheckName::Tls => "tls",
            CheckName::Http => "http",
            CheckName::Websocket => "websocket",
            CheckName::Revocation => "revocation",
            CheckName::Gateways => "gateways",
            CheckName::LegacyPorts => "legacy_ports",
            CheckName::Pdc => "pdc",
            CheckName::Idle => "idle",
        }
    }
}

/// The result of one check of one target.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResult {
    pub check: CheckName,
    pub status: Status,
    pub outcome: Outcome,
    /// Plain language: what happened and what to change.
    pub message: String,
    pub duration_ms: f64,
    /// Check-specific facts, flattened into the check's JSON object.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub details: Option<Details>,
}

impl CheckResult {
    pub fn new(
        check: CheckName,
        status: Status,
        outcome: Outcome,
        message: impl Into<String>,
        duration: Duration,
    ) -> CheckResult {
        CheckResult {
            check,
            status,
            outcome,
            message: message.into(),
            duration_ms: millis(duration),
            details: None,
        }
    }

    pub fn with(mut self, details: Details) -> CheckResult {
        self.details = Some(details);
        self
    }

    /// A check that did not run because an earlier phase failed.
    pub fn skipped(check: CheckName, because: &str) -> CheckResult {
        CheckResult::new(
            check,
            Status::Skip,
            Outcome::Skipped,
            format!("not run: {because}"),
            Duration::ZERO,
        )
    }
}

/// Milliseconds with microsecond precision, as every duration in the output is written.
pub fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// Check-specific facts.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Details {
    Dns(DnsDetails),
    Tcp(TcpDetails),
    Proxy(ProxyDetails),
    Tls(TlsDetails),
    Http(HttpDetails),
    Websocket(WebsocketDetails),
    Revocation(RevocationDetails),
    Gateways(GatewaysDetails),
    Pdc(PdcDetails),
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct GatewaysDetails {
    pub deployment: Option<String>,
    pub gateways_tried: usize,
    pub gateways_resolved: usize,
    /// Every distinct gateway address, checked once.
    #[serde(rename = "gateway_addresses")]
    pub addresses: Vec<GatewayAddress>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GatewayAddress {
    pub address: String,
    /// The first gateway name found at this address (the TLS server name used).
    pub gateway: String,
    pub outcome: Outcome,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PdcDetails {
    pub pdc_emulator: String,
    pub controllers: Vec<ControllerResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ControllerResult {
    pub host: String,
    /// `pdc_emulator` or `domain_controller`.
    pub role: &'static str,
    pub address: Option<String>,
    pub ports: Vec<PortResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PortResult {
    pub port: u16,
    pub service: &'static str,
    pub outcome: Outcome,
    /// The TLS handshake on LDAPS and global catalog over TLS.
    pub tls: Option<Outcome>,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RevocationDetails {
    pub urls: Vec<UrlResult>,
}

/// One fetched URL.
#[derive(Debug, Clone, Serialize)]
pub struct UrlResult {
    pub url: String,
    /// `crl`, `ocsp` or `ca_issuers`.
    pub kind: &'static str,
    pub outcome: Outcome,
    pub status_code: Option<u16>,
    pub duration_ms: Option<f64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DnsDetails {
    /// `dns`, `override` (--resolve) or `literal`.
    pub source: crate::net::resolve::AnswerSource,
    pub server: String,
    pub cname_chain: Vec<String>,
    pub addresses: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TcpDetails {
    /// One entry per resolved address, IPv4 and IPv6 each reported.
    pub addresses: Vec<AddressResult>,
    /// The address the following phases used.
    pub used: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AddressResult {
    pub address: String,
    /// `ipv4` or `ipv6`.
    pub family: &'static str,
    pub outcome: Outcome,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProxyDetails {
    /// The proxy, credentials replaced by `****`.
    pub proxy: String,
    /// Where it came from: `--proxy`, `HTTPS_PROXY`, a machine.config...
    pub proxy_source: String,
    pub status_code: Option<u16>,
    pub via: Option<String>,
    pub auth_schemes: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TlsDetails {
    pub tls_version: Option<String>,
    pub cipher: Option<String>,
    pub alpn: Option<String>,
    pub chain: Vec<CertInfo>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HttpDetails {
    pub status_code: Option<u16>,
    pub server: Option<String>,
    pub via: Option<String>,
    /// Server clock minus local clock, from the `Date` header.
    pub clock_skew_s: Option<i64>,
    pub processing_ms: Option<f64>,
    pub transfer_ms: Option<f64>,
    pub body_bytes: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct WebsocketDetails {
    pub path: String,
    pub status_code: Option<u16>,
    /// Round trip of a listener-channel echo (relay targets only).
    pub echo_ms: Option<f64>,
}
