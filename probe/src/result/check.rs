//! What every check returns: its name, status, outcome word, message, and check-specific facts.
//!
//! The facts (`details`) are flattened into the check's JSON object; reading a document back,
//! the check's name says which kind of facts the other fields are.

use super::CertInfo;
use crate::outcome::{Outcome, Status};
use serde::{Deserialize, Deserializer, Serialize};
use std::time::Duration;

/// `CheckName` and [`Details::read`], from the registry's list.
macro_rules! check_names {
    ($( $(#[$doc:meta])* $module:ident $name:ident $(=> $details:ident)? ,)*) => {
        /// The name of a check, as it appears in every output.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize,
            strum::IntoStaticStr, strum::VariantArray, strum::Display,
        )]
        #[serde(rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        pub enum CheckName {
            $( $(#[$doc])* $name, )*
        }

        impl Details {
            /// Reads the facts of a check named `check` from the check object's other fields;
            /// `None` when that check has no facts of its own.
            fn read(
                check: CheckName,
                fields: serde_json::Map<String, serde_json::Value>,
            ) -> Result<Option<Details>, serde_json::Error> {
                let _v = serde_json::Value::Object(fields);
                match check {
                    $( CheckName::$name => {
                        $( return Ok(Some(Details::$details(serde_json::from_value(_v)?))); )?
                    } )*
                }
                Ok(None)
            }
        }
    };
}
super::registry::each_check!(check_names);

impl CheckName {
    /// Every check, in the registry's order.
    pub const ALL: &'static [CheckName] = <CheckName as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The result of one check of one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    Listener(ListenerDetails),
    Rendezvous(RendezvousDetails),
}

impl<'de> Deserialize<'de> for CheckResult {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// The fields every check has; the rest are its facts.
        #[derive(Deserialize)]
        struct Wire {
            check: CheckName,
            status: Status,
            outcome: Outcome,
            message: String,
            duration_ms: f64,
            #[serde(flatten)]
            facts: serde_json::Map<String, serde_json::Value>,
        }
        let wire = Wire::deserialize(deserializer)?;
        let details = if wire.facts.is_empty() {
            None
        } else {
            Details::read(wire.check, wire.facts)
                .map_err(|e| serde::de::Error::custom(format_args!("{} check: {e}", wire.check)))?
        };
        Ok(CheckResult {
            check: wire.check,
            status: wire.status,
            outcome: wire.outcome,
            message: wire.message,
            duration_ms: wire.duration_ms,
            details,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GatewaysDetails {
    pub deployment: Option<String>,
    pub gateways_tried: usize,
    pub gateways_resolved: usize,
    /// Every distinct gateway address, checked once.
    #[serde(rename = "gateway_addresses")]
    pub addresses: Vec<GatewayAddress>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GatewayAddress {
    pub address: String,
    /// The first gateway name found at this address (the TLS server name used).
    pub gateway: String,
    pub outcome: Outcome,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PdcDetails {
    pub pdc_emulator: String,
    pub controllers: Vec<ControllerResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControllerResult {
    pub host: String,
    pub role: ControllerRole,
    pub address: Option<String>,
    pub ports: Vec<PortResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortResult {
    pub port: u16,
    pub service: String,
    pub outcome: Outcome,
    /// The TLS handshake on LDAPS and global catalog over TLS.
    pub tls: Option<Outcome>,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevocationDetails {
    pub urls: Vec<UrlResult>,
}

/// One fetched URL.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UrlResult {
    pub url: String,
    pub kind: UrlKind,
    pub outcome: Outcome,
    pub status_code: Option<u16>,
    pub duration_ms: Option<f64>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsDetails {
    /// `dns`, `override` (--resolve) or `literal`.
    pub source: AnswerSource,
    pub server: String,
    pub cname_chain: Vec<String>,
    pub addresses: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TcpDetails {
    /// One entry per resolved address, IPv4 and IPv6 each reported.
    pub addresses: Vec<AddressResult>,
    /// The address the following phases used.
    pub used: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AddressResult {
    pub address: String,
    pub family: Family,
    pub outcome: Outcome,
    pub duration_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyDetails {
    /// The proxy, credentials replaced by `****`.
    pub proxy: String,
    /// Where it came from: `--proxy`, `HTTPS_PROXY`, a machine.config...
    pub proxy_source: String,
    pub status_code: Option<u16>,
    pub via: Option<String>,
    pub auth_schemes: Vec<String>,
    /// The host a 3xx answer to the CONNECT points to (an authentication portal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_host: Option<String>,
    /// Authentication with the logon's own credentials (`--proxy-auth negotiate`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logon: Option<LogonDetails>,
}

/// Who authenticated to the proxy with the logon's own credentials, and how it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogonDetails {
    /// `Negotiate` or `NTLM`.
    pub scheme: String,
    /// The principal or account of the logon, when the system says.
    pub identity: Option<String>,
    /// The service principal asked for: `HTTP/<proxy name>`.
    pub spn: String,
    /// `Kerberos` or `NTLM`: the mechanism of the last token sent.
    pub mechanism: Option<String>,
    /// On failure: no_credentials, no_spn, clock_skew, kdc_unreachable, unavailable,
    /// security_library, identity_refused, scheme_not_offered, connection_dropped, protocol.
    pub cause: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TlsDetails {
    pub tls_version: Option<String>,
    pub cipher: Option<String>,
    pub alpn: Option<String>,
    pub chain: Vec<CertInfo>,
    /// The title of the page a proxy sent instead of the target's TLS (`proxy_block_page`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_page_title: Option<String>,
    /// The chain comes from a mock-relay's own test CA: a rehearsal, not an interception.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rehearsal: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WebsocketDetails {
    pub path: String,
    pub status_code: Option<u16>,
    /// Round trip of a listener-channel echo (relay targets only).
    pub echo_ms: Option<f64>,
}

/// What a domain controller is to the domain.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ControllerRole {
    PdcEmulator,
    DomainController,
}

/// Which of a certificate's revocation pointers a URL came from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum UrlKind {
    Crl,
    Ocsp,
    CaIssuers,
}

impl UrlKind {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Where a DNS answer came from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum AnswerSource {
    Dns,
    /// `--resolve`.
    Override,
    /// The host is an address.
    Literal,
}

/// The address family of an address.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Family {
    Ipv4,
    Ipv6,
}

impl Family {
    pub fn of(addr: &std::net::SocketAddr) -> Family {
        if addr.is_ipv4() {
            Family::Ipv4
        } else {
            Family::Ipv6
        }
    }
}

/// A Hybrid Connections listener (`sb-hc-action=listen`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenerDetails {
    /// The entity listened on.
    pub entity: String,
    /// The listener's `sb-hc-id`.
    pub listener_id: String,
    /// The handshake's answer: 101, or the service's refusal (401, 403, 404...).
    pub status_code: Option<u16>,
    /// What the service said with a refusal (its reason or body, cleaned).
    pub description: Option<String>,
}

/// A sender (`sb-hc-action=connect`) handed to the probe's own listener.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RendezvousDetails {
    /// The sender's `sb-hc-id`.
    pub sender_id: String,
    /// The sender's handshake answer: 101 once accepted, or the status a listener or the
    /// service refused it with.
    pub status_code: Option<u16>,
    pub description: Option<String>,
    /// From the sender's first byte to the `accept` message on the listener.
    pub accept_ms: Option<f64>,
    /// The host of the rendezvous address the service gave (a gateway, or the namespace).
    pub rendezvous_host: Option<String>,
    /// A message from the sender to the listener and one back, end to end.
    pub round_trip_ms: Option<f64>,
}
