//! The HTTP CONNECT tunnel through a proxy (RFC 9110 section 9.3.6), with the proxy
//! authentication the sync service may meet: Basic, or NTLM's three messages on one connection.
//! A refusal keeps what a network team needs to read it: the status, every scheme the proxy
//! offers, where a redirect points.

use super::block_page::{FirstBytes, Recorder};
use super::logon::{Logon, Package};
use super::negotiate::{self, LogonRefusal};
use super::{challenge, ntlm, Proxy};
use crate::net::io::Io;
use crate::outcome::Outcome;
use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::fmt;
use std::time::Duration;

/// How the probe answers a proxy that wants credentials (`--proxy-auth`). Either needs a user
/// and password in the proxy URL; without them no credentials are sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProxyAuth {
    /// `Proxy-Authorization: Basic`, sent with the first CONNECT.
    #[default]
    Basic,
    /// NTLMv2 (MS-NLMP): negotiate, the proxy's challenge, authenticate, on one connection.
    /// Without a user and password in the URL: NTLM with the logon's own credentials (SSPI).
    Ntlm,
    /// SPNEGO (Kerberos, NTLM as the fallback) with the logon's own credentials, as the sync
    /// service does: SSPI on Windows, the Kerberos credential cache elsewhere.
    Negotiate,
}

impl ProxyAuth {
    pub fn as_str(self) -> &'static str {
        match self {
            ProxyAuth::Basic => "basic",
            ProxyAuth::Ntlm => "ntlm",
            ProxyAuth::Negotiate => "negotiate",
        }
    }
}

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

/// A tunnel that is open: bytes now go to the target.
pub struct Tunnel {
    pub io: Io,
    /// `Via` or `Proxy-Agent` of the proxy's answer.
    pub via: Option<String>,
    /// The first bytes the tunnel delivers, to recognise a block page in place of TLS.
    pub first_bytes: FirstBytes,
    /// The credentials the CONNECT that opened the tunnel carried.
    pub sent: AuthSent,
    /// Who authenticated, to which SPN, by which mechanism (the logon's own credentials).
    pub logon: Option<Logon>,
}

/// The most of a refusal's body read before the next message of a handshake.
pub(super) const BODY_LIMIT: usize = 64 * 1024;

/// Asks `proxy` over `io` for a tunnel to `authority` (`host:port`), authenticating as `auth`
/// says when the proxy URL has credentials; all of it within `timeout`.
pub async fn connect_tunnel(
    io: Io,
    proxy: &Proxy,
    auth: ProxyAuth,
    authority: &str,
    timeout: Duration,
) -> Result<Tunnel, ConnectRefusal> {
    tokio::time::timeout(timeout, exchange(io, proxy, auth, authority))
        .await
        .unwrap_or(Err(ConnectRefusal::Timeout))
}

async fn exchange(
    io: Io,
    proxy: &Proxy,
    auth: ProxyAuth,
    authority: &str,
) -> Result<Tunnel, ConnectRefusal> {
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| ConnectRefusal::NoAnswer(e.to_string()))?;
    tokio::spawn(conn.with_upgrades());
    let credentials = proxy.credentials();
    match (credentials, auth) {
        (_, ProxyAuth::Negotiate) => {
            return negotiate::exchange(sender, proxy, Package::Negotiate, authority).await
        }
        (None, ProxyAuth::Ntlm) => {
            return negotiate::exchange(sender, proxy, Package::Ntlm, authority).await
        }
        _ => {}
    }
    let (first, sent) = match (credentials, auth) {
        (None, _) | (_, ProxyAuth::Negotiate) => (None, AuthSent::None),
        (Some((user, password)), ProxyAuth::Basic) => {
            (Some(basic(user, password)), AuthSent::Basic)
        }
        (Some(_), ProxyAuth::Ntlm) => (
            Some(ntlm::negotiate().map_err(|e| ConnectRefusal::AuthFailed(e.to_string()))?),
            AuthSent::NtlmNegotiate,
        ),
    };
    let response = send(&mut sender, authority, first).await?;
    if let (AuthSent::NtlmNegotiate, Some((user, password))) = (sent, credentials) {
        if let Some(token) = ntlm_challenge(&response) {
            let answer = ntlm::authenticate(&token, user, password)
                .map_err(|e| ConnectRefusal::AuthFailed(e.to_string()))?;
            // The challenge belongs to this connection: read the 407's body, then send the
            // answer on the same connection.
            Limited::new(response.into_body(), BODY_LIMIT)
                .collect()
                .await
                .map_err(|e| {
                    ConnectRefusal::AuthFailed(format!("reading the challenge's page: {e}"))
                })?;
            sender.ready().await.map_err(|_| {
                ConnectRefusal::AuthFailed(
                    "the proxy closed the connection after its NTLM challenge; NTLM needs the whole handshake on one connection (a load balancer in front of the proxy may be splitting it)".into(),
                )
            })?;
            let response = send(&mut sender, authority, Some(answer)).await?;
            return finish(response, AuthSent::NtlmAuthenticate).await;
        }
    }
    finish(response, sent).await
}

/// Sends one CONNECT with `authorization` (a secret: marked sensitive, never logged).
pub(super) async fn send(
    sender: &mut SendRequest<Empty<Bytes>>,
    authority: &str,
    authorization: Option<String>,
) -> Result<Response<Incoming>, ConnectRefusal> {
    let no_answer = |e: &dyn fmt::Display| ConnectRefusal::NoAnswer(e.to_string());
    let mut request = http::Request::connect(authority)
        .header(http::header::HOST, authority)
        .header(http::header::USER_AGENT, crate::net::USER_AGENT)
        .body(Empty::<Bytes>::new())
        .map_err(|e| no_answer(&e))?;
    if let Some(authorization) = authorization {
        let mut value = HeaderValue::from_str(&authorization).map_err(|_| {
            ConnectRefusal::NoAnswer(
                "the proxy credentials cannot be sent in a header (control characters)".into(),
            )
        })?;
        value.set_sensitive(true);
        request
            .headers_mut()
            .insert(http::header::PROXY_AUTHORIZATION, value);
    }
    sender
        .send_request(request)
        .await
        .map_err(|e| no_answer(&e))
}

/// The open tunnel, or the refusal as the proxy worded it.
pub(super) async fn finish(
    response: Response<Incoming>,
    sent: AuthSent,
) -> Result<Tunnel, ConnectRefusal> {
    let header = |name: http::header::HeaderName| {
        response
            .headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let via =
        header(http::header::VIA).or_else(|| header(http::HeaderName::from_static("proxy-agent")));
    if !response.status().is_success() {
        return Err(ConnectRefusal::Status {
            code: response.status().as_u16(),
            auth_schemes: challenge::scheme_names(&challenges(&response)),
            location: header(http::header::LOCATION),
            via,
            sent,
        });
    }
    let upgraded = hyper::upgrade::on(response)
        .await
        .map_err(|e| ConnectRefusal::NoAnswer(e.to_string()))?;
    let (recorder, first_bytes) = Recorder::new(TokioIo::new(upgraded));
    Ok(Tunnel {
        io: Box::new(recorder),
        via,
        first_bytes,
        sent,
        logon: None,
    })
}

pub(super) fn challenges(response: &Response<Incoming>) -> Vec<challenge::Challenge> {
    challenge::parse(
        response
            .headers()
            .get_all(http::header::PROXY_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    )
}

/// The token68 of an NTLM challenge in a 407.
fn ntlm_challenge(response: &Response<Incoming>) -> Option<String> {
    if response.status() != StatusCode::PROXY_AUTHENTICATION_REQUIRED {
        return None;
    }
    challenges(response)
        .into_iter()
        .find(|c| c.is("NTLM"))
        .and_then(|c| c.token68)
}

/// The `Proxy-Authorization: Basic ...` value.
fn basic(user: &str, password: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
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

    #[test]
    fn basic_is_base64_of_user_colon_password() {
        assert_eq!(
            basic("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
