//! The public vocabulary: what a check concluded (`Status`) and what it saw (`Outcome`).
//!
//! These words appear in every output format and are a contract with dashboards and alert rules:
//! never rename one.

use serde::{Deserialize, Serialize};

/// How a check's result counts towards the verdict.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    /// Not run: an earlier phase failed, or the check does not apply to this target.
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// A step that failed: the outcome it earns and what happened, in words. Network helpers
/// return it so that the check calling them can report both without deciding again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub outcome: Outcome,
    pub detail: String,
}

impl Failure {
    pub fn new(outcome: Outcome, detail: impl Into<String>) -> Failure {
        Failure {
            outcome,
            detail: detail.into(),
        }
    }
}

/// What a check observed, one word per distinct situation a network team must tell apart.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Outcome {
    // dns
    Resolved,
    Nxdomain,
    NoRecords,
    Servfail,
    // tcp
    Connected,
    Refused,
    Unreachable,
    // tls
    Ok,
    Untrusted,
    Expired,
    NameMismatch,
    ProtocolTooOld,
    HandshakeFailed,
    Intercepted,
    // proxy (HTTP CONNECT)
    ProxyAuthRequired,
    ProxyDenied,
    ProxyBadGateway,
    ProxyUnavailable,
    ProxyTimeout,
    ProxyUnreachable,
    /// Any other refusal of the CONNECT.
    ProxyRefused,
    /// A 3xx answer to the CONNECT: the mark of an authentication portal.
    ProxyRedirect,
    /// A 200 to the CONNECT, then an HTTP page from the proxy instead of the target's TLS.
    ProxyBlockPage,
    // http and websocket
    Response,
    UnexpectedStatus,
    ClockSkew,
    Upgraded,
    UpgradeRefused,
    ProtocolError,
    // Hybrid Connections: the listener's control channel
    Listening,
    /// 401: the token is missing or invalid (wrong key or key name, expired).
    Unauthorized,
    /// 403: the token lacks the right (Listen, Send) or is for another entity.
    Forbidden,
    /// 404: the namespace has no such hybrid connection.
    NoSuchEntity,
    // Hybrid Connections: the rendezvous of a sender with a listener
    Accepted,
    /// A listener turned the sender away (the sender saw its status).
    Rejected,
    /// The service had no listener to hand the sender to.
    NoListener,
    /// The relay kept handing the probe's listener senders it did not start: the entity is
    /// busy with other senders.
    EntityBusy,
    /// The namespace's IP firewall refused this machine's address.
    IpFiltered,
    // shared by several phases
    Timeout,
    Reset,
    Closed,
    // idle probes
    Survived,
    SilentDrop,
    TlsCloseNotify,
    /// The idle check could not decide: its control connection failed too.
    Inconclusive,
    /// The check did not run.
    Skipped,
}

impl Outcome {
    /// Every word, in declaration order.
    pub const ALL: &'static [Outcome] = <Outcome as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// The verdict of a target or a whole run.
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
pub enum Verdict {
    Pass,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}
