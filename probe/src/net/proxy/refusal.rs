//! How a CONNECT ended without a tunnel, in the words a network team reads: the proxy's status
//! and what it offers, or why a handshake with credentials broke off. Below both ways of asking
//! (`tunnel` with credentials from the URL, `negotiate` with the logon's own).

use super::logon::{self, Cause, Failure, Logon, Package, MAX_ROUNDS};
use crate::outcome::Outcome;
use std::fmt;

/// What the probe had sent when the proxy refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthSent {
    None,
    Basic,
    /// The NTLM negotiate message, which the proxy did not answer with an NTLM challenge.
    NtlmNegotiate,
    /// The NTLM authenticate message, answering the proxy's challenge.
    NtlmAuthenticate,
    /// A token of the logon's own credentials (Negotiate, or NTLM from SSPI).
    Logon,
}

/// How a CONNECT ended when it did not open a tunnel.
#[derive(Debug, Clone, PartialEq)]
pub enum ConnectRefusal {
    /// The proxy answered with a status other than 2xx.
    Status {
        code: u16,
        /// The schemes of every `Proxy-Authenticate` challenge (Basic, NTLM, Negotiate...).
        auth_schemes: Vec<String>,
        via: Option<String>,
        /// The `Location` of a redirect.
        location: Option<String>,
        sent: AuthSent,
    },
    /// The NTLM handshake could not be carried through (a broken challenge, a proxy that
    /// closed the connection between the messages).
    AuthFailed(String),
    /// The handshake with the logon's own credentials failed (`--proxy-auth negotiate`).
    Logon(Box<LogonRefusal>),
    /// No answer, a broken answer, or the connection to the proxy failed.
    NoAnswer(String),
    Timeout,
}

impl ConnectRefusal {
    /// The outcome word of this refusal.
    pub fn outcome(&self) -> Outcome {
        match self {
            ConnectRefusal::Status { code, .. } => match code {
                300..=399 => Outcome::ProxyRedirect,
                407 => Outcome::ProxyAuthRequired,
                403 => Outcome::ProxyDenied,
                502 => Outcome::ProxyBadGateway,
                503 => Outcome::ProxyUnavailable,
                504 => Outcome::ProxyTimeout,
                _ => Outcome::ProxyRefused,
            },
            ConnectRefusal::AuthFailed(_) | ConnectRefusal::Logon(_) => Outcome::ProxyAuthRequired,
            ConnectRefusal::NoAnswer(_) | ConnectRefusal::Timeout => Outcome::ProxyUnreachable,
        }
    }

    /// The host a redirect points to, or `None` when this is no redirect.
    pub fn redirect_host(&self) -> Option<String> {
        match self {
            ConnectRefusal::Status {
                code: 300..=399,
                location,
                ..
            } => Some(location_host(location.as_deref())),
            _ => None,
        }
    }
}

/// The host of a `Location`; a relative or missing one points back at the proxy.
pub fn location_host(location: Option<&str>) -> String {
    let Some(location) = location else {
        return "(no Location given)".into();
    };
    match url::Url::parse(location) {
        Ok(u) => u.host_str().unwrap_or("(no host)").to_string(),
        Err(_) => "the proxy itself (a relative Location)".into(),
    }
}

impl fmt::Display for ConnectRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectRefusal::Status {
                code, auth_schemes, ..
            } => {
                write!(f, "the proxy answered {code}")?;
                if let Some(host) = self.redirect_host() {
                    write!(f, " redirecting to {host}")?;
                }
                if !auth_schemes.is_empty() {
                    write!(f, " (it offers: {})", auth_schemes.join(", "))?;
                }
                Ok(())
            }
            ConnectRefusal::AuthFailed(why) => write!(f, "NTLM authentication failed: {why}"),
            ConnectRefusal::Logon(refusal) => refusal.fmt(f),
            ConnectRefusal::NoAnswer(why) => write!(f, "no usable answer from the proxy: {why}"),
            ConnectRefusal::Timeout => f.write_str("no answer from the proxy in time"),
        }
    }
}

/// How a handshake with the logon's credentials ended without a tunnel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogonEnd {
    /// The system could not make a token (no ticket, no SPN, clock skew, KDC down...).
    System(Failure),
    /// The proxy answered the token with another 407: it refused this identity.
    Refused,
    /// The proxy's 407 does not offer the package's scheme.
    NotOffered,
    /// The proxy closed the connection in the middle of the handshake.
    Dropped,
    /// The proxy's token was unusable, or the handshake did not end in time.
    Protocol(HandshakeError),
}

/// Why the handshake broke off though the proxy kept offering the scheme.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    #[error("the proxy's token is {0} characters, over the limit")]
    TokenTooLong(usize),
    #[error("the proxy's token is not base64")]
    TokenNotBase64,
    #[error("no answer after {MAX_ROUNDS} rounds")]
    TooManyRounds,
}

/// A refused handshake with the logon's credentials, with who tried and what the proxy offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogonRefusal {
    pub package: Package,
    pub logon: Logon,
    pub end: LogonEnd,
    /// Every scheme of the proxy's last 407.
    pub auth_schemes: Vec<String>,
    pub status_code: Option<u16>,
}

impl LogonRefusal {
    /// A short word for the JSON: `no_credentials`, `identity_refused`, ...
    pub fn cause_word(&self) -> &'static str {
        match &self.end {
            LogonEnd::System(f) => match f.cause {
                Cause::NoCredentials => "no_credentials",
                Cause::NoSpn => "no_spn",
                Cause::ClockSkew => "clock_skew",
                Cause::KdcUnreachable => "kdc_unreachable",
                Cause::Unavailable => "unavailable",
                Cause::Other => "security_library",
            },
            LogonEnd::Refused => "identity_refused",
            LogonEnd::NotOffered => "scheme_not_offered",
            LogonEnd::Dropped => "connection_dropped",
            LogonEnd::Protocol(_) => "protocol",
        }
    }

    /// The message of the proxy check, in the user's words, with what to change.
    pub fn message(&self, proxy: &str) -> String {
        let scheme = self.package.scheme();
        let who = self.logon.identity.as_deref().unwrap_or("this logon");
        let offers = if self.auth_schemes.is_empty() {
            String::new()
        } else {
            format!(" (it offers: {})", self.auth_schemes.join(", "))
        };
        let exempt = "or exempt the writeback endpoints from proxy authentication";
        match &self.end {
            LogonEnd::System(failure) => format!(
                "{proxy} wants {scheme}{offers}, and no token could be made for {} as {who}: {failure}; the sync service meets the same unless its own account has one, {exempt}",
                self.logon.spn
            ),
            LogonEnd::Refused => format!(
                "{proxy} refused {who} ({}{}){offers}: the proxy does not let this identity through. Let the sync service's account through (for the default virtual service account, the computer account DOMAIN\\SERVER$: proxies that allow users by group often refuse computer accounts), {exempt}",
                mechanism_text(&self.logon),
                spn_text(&self.logon),
            ),
            LogonEnd::NotOffered => format!(
                "{proxy} does not offer {scheme}{offers}: the sync service authenticates with its own logon only by Negotiate or NTLM; {exempt}"
            ),
            LogonEnd::Dropped => format!(
                "{proxy} closed the connection in the middle of the {scheme} handshake as {who}: the handshake needs one connection from the first 407 to the end (a load balancer in front of the proxy may be splitting it); {exempt}"
            ),
            LogonEnd::Protocol(why) => format!(
                "the {scheme} handshake with {proxy} as {who} failed: {why}; {exempt}"
            ),
        }
    }
}

fn mechanism_text(logon: &Logon) -> String {
    match logon.mechanism {
        Some(m) => format!("{m} token", m = m.as_str()),
        None => "its token".into(),
    }
}

fn spn_text(logon: &Logon) -> String {
    match logon.mechanism {
        Some(logon::Mechanism::Ntlm) => String::new(),
        _ => format!(" for {}", logon.spn),
    }
}

impl fmt::Display for LogonRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message("the proxy"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, location: Option<&str>) -> ConnectRefusal {
        ConnectRefusal::Status {
            code,
            auth_schemes: vec!["NTLM".into()],
            via: None,
            location: location.map(str::to_string),
            sent: AuthSent::None,
        }
    }

    #[test]
    fn refusals_map_to_their_outcome_words() {
        assert_eq!(status(302, None).outcome(), Outcome::ProxyRedirect);
        assert_eq!(status(407, None).outcome(), Outcome::ProxyAuthRequired);
        assert_eq!(status(403, None).outcome(), Outcome::ProxyDenied);
        assert_eq!(status(418, None).outcome(), Outcome::ProxyRefused);
        assert_eq!(
            ConnectRefusal::AuthFailed("x".into()).outcome(),
            Outcome::ProxyAuthRequired
        );
        assert_eq!(ConnectRefusal::Timeout.outcome(), Outcome::ProxyUnreachable);
    }

    #[test]
    fn a_redirect_names_the_host_of_its_location() {
        let r = status(
            307,
            Some("https://login.portal.example:8443/auth?ticket=s3cret"),
        );
        assert_eq!(r.redirect_host().as_deref(), Some("login.portal.example"));
        assert_eq!(
            r.to_string(),
            "the proxy answered 307 redirecting to login.portal.example (it offers: NTLM)"
        );
        assert!(status(302, Some("/login"))
            .redirect_host()
            .unwrap()
            .contains("relative"));
        assert!(status(302, None)
            .redirect_host()
            .unwrap()
            .contains("no Location"));
        assert_eq!(
            status(407, Some("https://x.example/")).redirect_host(),
            None
        );
    }

    fn refusal(end: LogonEnd) -> LogonRefusal {
        LogonRefusal {
            package: Package::Negotiate,
            logon: Logon {
                identity: Some("agent@LAB.TEST".into()),
                spn: "HTTP/proxy.lab.test".into(),
                mechanism: Some(logon::Mechanism::Kerberos),
            },
            end,
            auth_schemes: vec!["Negotiate".into(), "NTLM".into()],
            status_code: Some(407),
        }
    }

    #[test]
    fn a_refused_identity_names_it_and_the_advice() {
        let r = refusal(LogonEnd::Refused);
        let m = r.message("http://p:3128");
        assert!(m.starts_with("http://p:3128 refused agent@LAB.TEST (Kerberos token for HTTP/proxy.lab.test) (it offers: Negotiate, NTLM)"), "{m}");
        assert!(m.contains("computer account"), "{m}");
        assert!(
            m.ends_with("exempt the writeback endpoints from proxy authentication"),
            "{m}"
        );
        assert_eq!(r.cause_word(), "identity_refused");
    }

    #[test]
    fn a_system_failure_says_its_cause() {
        let r = refusal(LogonEnd::System(Failure::new(
            Cause::ClockSkew,
            "Clock skew too great",
        )));
        let m = r.message("P");
        assert!(m.contains("clocks differ"), "{m}");
        assert!(m.contains("HTTP/proxy.lab.test"), "{m}");
        assert_eq!(r.cause_word(), "clock_skew");
    }
}
