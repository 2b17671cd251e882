//! The HTTP CONNECT tunnel through a proxy (RFC 9110 section 9.3.6), with the proxy
//! authentication the sync service may meet: Basic, or NTLM's three messages on one connection.
//! A refusal keeps what a network team needs to read it: the status, every scheme the proxy
//! offers, where a redirect points.

use super::connect_request::{challenges, finish, send, Tunnel, BODY_LIMIT};
use super::logon::Package;
use super::refusal::{AuthSent, ConnectRefusal};
use super::{negotiate, ntlm, Proxy};
use crate::net::io::Io;
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
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

    #[test]
    fn basic_is_base64_of_user_colon_password() {
        assert_eq!(
            basic("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
    }
}
