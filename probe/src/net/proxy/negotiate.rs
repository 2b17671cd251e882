//! The CONNECT handshake with the logon's own credentials (`--proxy-auth negotiate`, or `ntlm`
//! without a password in the URL), as .NET does it for the sync service: a CONNECT without
//! credentials; on a 407 that offers the scheme, the system's token; the proxy's answer token
//! back into the context; all on one connection, at most `MAX_ROUNDS` legs, tokens bounded.
//! Tokens are secrets: they go into the header (marked sensitive) and nowhere else.

use super::logon::{self, Cause, Context, Failure, Logon, Package, Step, MAX_ROUNDS, MAX_TOKEN};
use super::tunnel::{challenges, finish, send, AuthSent, ConnectRefusal, Tunnel, BODY_LIMIT};
use super::Proxy;
use base64::Engine;
use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use std::fmt;

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

/// The handshake over `sender`; the caller bounds it in time.
pub async fn exchange(
    mut sender: SendRequest<Empty<Bytes>>,
    proxy: &Proxy,
    package: Package,
    authority: &str,
) -> Result<Tunnel, ConnectRefusal> {
    let mut logon = Logon {
        spn: logon::spn(&proxy.host),
        ..Logon::default()
    };
    let mut response = send(&mut sender, authority, None).await?;
    if response.status() != StatusCode::PROXY_AUTHENTICATION_REQUIRED {
        return finish(response, AuthSent::None).await;
    }
    let refusal = |logon: &Logon, end: LogonEnd, response: Option<&Response<Incoming>>| {
        ConnectRefusal::Logon(Box::new(LogonRefusal {
            package,
            logon: logon.clone(),
            end,
            auth_schemes: response
                .map(|r| super::challenge::scheme_names(&challenges(r)))
                .unwrap_or_default(),
            status_code: response.map(|r| r.status().as_u16()),
        }))
    };
    if proxy_token(&response, package).is_none() {
        return Err(refusal(&logon, LogonEnd::NotOffered, Some(&response)));
    }
    let host = proxy.host.clone();
    let made = tokio::task::spawn_blocking(move || system_context(package, &host))
        .await
        .map_err(|e| ConnectRefusal::NoAnswer(format!("the security library failed: {e}")))?;
    let mut context = match made {
        Ok(c) => c,
        Err(failure) => return Err(refusal(&logon, LogonEnd::System(failure), Some(&response))),
    };
    logon.identity = context.identity();
    let mut input: Option<Vec<u8>> = None;
    for _ in 0..MAX_ROUNDS {
        let (back, step) = step(context, input.take()).await?;
        context = back;
        let token = match step {
            Ok(Step::Send(token)) => token,
            // The proxy's answer completed the context (Kerberos' mutual authentication: the
            // proxy proved it read the ticket), and still it asks: it refuses this identity.
            Ok(Step::Done) => return Err(refusal(&logon, LogonEnd::Refused, Some(&response))),
            Err(failure) => {
                return Err(refusal(&logon, LogonEnd::System(failure), Some(&response)));
            }
        };
        if let Some(mechanism) = logon::mechanism_of(&token) {
            logon.mechanism = Some(mechanism);
        }
        // The 407's page, then the token on the same connection.
        Limited::new(response.into_body(), BODY_LIMIT)
            .collect()
            .await
            .map_err(|_| refusal(&logon, LogonEnd::Dropped, None))?;
        sender
            .ready()
            .await
            .map_err(|_| refusal(&logon, LogonEnd::Dropped, None))?;
        let header = format!(
            "{} {}",
            package.scheme(),
            base64::engine::general_purpose::STANDARD.encode(&token)
        );
        response = send(&mut sender, authority, Some(header))
            .await
            .map_err(|_| refusal(&logon, LogonEnd::Dropped, None))?;
        if response.status() != StatusCode::PROXY_AUTHENTICATION_REQUIRED {
            let mut tunnel = finish(response, AuthSent::Logon).await?;
            tunnel.logon = Some(logon);
            return Ok(tunnel);
        }
        match proxy_token(&response, package) {
            // A continuation: the proxy's token goes back into the context.
            Some(Some(token)) => {
                input = Some(
                    decode(&token)
                        .map_err(|why| refusal(&logon, LogonEnd::Protocol(why), Some(&response)))?,
                )
            }
            // A bare challenge again: the proxy refused what it was given.
            _ => return Err(refusal(&logon, LogonEnd::Refused, Some(&response))),
        }
    }
    Err(refusal(
        &logon,
        LogonEnd::Protocol(HandshakeError::TooManyRounds),
        Some(&response),
    ))
}

/// One step of the context on a blocking thread: a KDC exchange may take seconds.
async fn step(
    mut context: Box<dyn Context>,
    input: Option<Vec<u8>>,
) -> Result<(Box<dyn Context>, Result<Step, Failure>), ConnectRefusal> {
    tokio::task::spawn_blocking(move || {
        let step = context.step(input.as_deref());
        (context, step)
    })
    .await
    .map_err(|e| ConnectRefusal::NoAnswer(format!("the security library failed: {e}")))
}

/// The challenge of `package`'s scheme in a 407: `Some(None)` bare, `Some(Some(token))` with a
/// token, `None` when the proxy does not offer the scheme.
fn proxy_token(response: &Response<Incoming>, package: Package) -> Option<Option<String>> {
    challenges(response)
        .into_iter()
        .find(|c| c.is(package.scheme()))
        .map(|c| c.token68)
}

/// The proxy's token, bounded.
fn decode(token: &str) -> Result<Vec<u8>, HandshakeError> {
    if token.len() > MAX_TOKEN * 4 / 3 + 4 {
        return Err(HandshakeError::TokenTooLong(token.len()));
    }
    base64::engine::general_purpose::STANDARD
        .decode(token)
        .map_err(|_| HandshakeError::TokenNotBase64)
}

/// A security context for `package` to the proxy named `host`, from the system.
fn system_context(package: Package, host: &str) -> Result<Box<dyn Context>, Failure> {
    #[cfg(windows)]
    {
        super::sspi::context(package, host)
    }
    #[cfg(unix)]
    {
        super::gssapi::context(package, host)
    }
    #[cfg(not(any(windows, unix)))]
    {
        let _ = (package, host);
        Err(Failure::new(
            Cause::Unavailable,
            "no SSPI or GSSAPI on this platform",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn proxy_tokens_are_bounded() {
        assert!(decode(&"A".repeat(MAX_TOKEN * 2))
            .unwrap_err()
            .to_string()
            .contains("over the limit"));
        assert_eq!(decode("%%"), Err(HandshakeError::TokenNotBase64));
        assert_eq!(decode("YWJj").unwrap(), b"abc");
    }
}
