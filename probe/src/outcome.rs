//! The public vocabulary: what a check concluded (`Status`) and what it saw (`Outcome`).
//!
//! These words appear in every output format and are a contract with dashboards and alert rules:
//! never rename one.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How a check's result counts towards the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    /// Not run: an earlier phase failed, or the check does not apply to this target.
    Skip,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a check observed, one word per distinct situation a network team must tell apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
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
    /// Every outcome word, in declaration order.
    pub const ALL: [Outcome; 46] = [
        Outcome::Resolved,
        Outcome::Nxdomain,
        Outcome::NoRecords,
        Outcome::Servfail,
        Outcome::Connected,
        Outcome::Refused,
        Outcome::Unreachable,
        Outcome::Ok,
        Outcome::Untrusted,
        Outcome::Expired,
        Outcome::NameMismatch,
        Outcome::ProtocolTooOld,
        Outcome::HandshakeFailed,
        Outcome::Intercepted,
        Outcome::ProxyAuthRequired,
        Outcome::ProxyDenied,
        Outcome::ProxyBadGateway,
        Outcome::ProxyUnavailable,
        Outcome::ProxyTimeout,
        Outcome::ProxyUnreachable,
        Outcome::ProxyRefused,
        Outcome::ProxyRedirect,
        Outcome::ProxyBlockPage,
        Outcome::Response,
        Outcome::UnexpectedStatus,
        Outcome::ClockSkew,
        Outcome::Upgraded,
        Outcome::UpgradeRefused,
        Outcome::ProtocolError,
        Outcome::Listening,
        Outcome::Unauthorized,
        Outcome::Forbidden,
        Outcome::NoSuchEntity,
        Outcome::Accepted,
        Outcome::Rejected,
        Outcome::NoListener,
        Outcome::EntityBusy,
        Outcome::IpFiltered,
        Outcome::Timeout,
        Outcome::Reset,
        Outcome::Closed,
        Outcome::Survived,
        Outcome::SilentDrop,
        Outcome::TlsCloseNotify,
        Outcome::Inconclusive,
        Outcome::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Resolved => "resolved",
            Outcome::Nxdomain => "nxdomain",
            Outcome::NoRecords => "no_records",
            Outcome::Servfail => "servfail",
            Outcome::Connected => "connected",
            Outcome::Refused => "refused",
            Outcome::Unreachable => "unreachable",
            Outcome::Ok => "ok",
            Outcome::Untrusted => "untrusted",
            Outcome::Expired => "expired",
            Outcome::NameMismatch => "name_mismatch",
            Outcome::ProtocolTooOld => "protocol_too_old",
            Outcome::HandshakeFailed => "handshake_failed",
            Outcome::Intercepted => "intercepted",
            Outcome::ProxyAuthRequired => "proxy_auth_required",
            Outcome::ProxyDenied => "proxy_denied",
            Outcome::ProxyBadGateway => "proxy_bad_gateway",
            Outcome::ProxyUnavailable => "proxy_unavailable",
            Outcome::ProxyTimeout => "proxy_timeout",
            Outcome::ProxyUnreachable => "proxy_unreachable",
            Outcome::ProxyRefused => "proxy_refused",
            Outcome::ProxyRedirect => "proxy_redirect",
            Outcome::ProxyBlockPage => "proxy_block_page",
            Outcome::Response => "response",
            Outcome::UnexpectedStatus => "unexpected_status",
            Outcome::ClockSkew => "clock_skew",
            Outcome::Upgraded => "upgraded",
            Outcome::UpgradeRefused => "upgrade_refused",
            Outcome::ProtocolError => "protocol_error",
            Outcome::Listening => "listening",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Forbidden => "forbidden",
            Outcome::NoSuchEntity => "no_such_entity",
            Outcome::Accepted => "accepted",
            Outcome::Rejected => "rejected",
            Outcome::NoListener => "no_listener",
            Outcome::EntityBusy => "entity_busy",
            Outcome::IpFiltered => "ip_filtered",
            Outcome::Timeout => "timeout",
            Outcome::Reset => "reset",
            Outcome::Closed => "closed",
            Outcome::Survived => "survived",
            Outcome::SilentDrop => "silent_drop",
            Outcome::TlsCloseNotify => "tls_close_notify",
            Outcome::Inconclusive => "inconclusive",
            Outcome::Skipped => "skipped",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict of a target or a whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Pass,
    Fail,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_match_display_names() {
        for outcome in [
            Outcome::NoRecords,
            Outcome::NameMismatch,
            Outcome::ProtocolTooOld,
            Outcome::SilentDrop,
            Outcome::TlsCloseNotify,
            Outcome::ProxyRedirect,
            Outcome::ProxyBlockPage,
        ] {
            let json = serde_json::to_string(&outcome).unwrap();
            assert_eq!(json, format!("\"{}\"", outcome.as_str()));
        }
        assert_eq!(serde_json::to_string(&Status::Warn).unwrap(), "\"warn\"");
    }
}
