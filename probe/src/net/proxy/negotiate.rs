//! The CONNECT handshake with the logon's own credentials (`--proxy-auth negotiate`, or `ntlm`
//! without a password in the URL), as .NET does it for the sync service: a CONNECT without
//! credentials; on a 407 that offers the scheme, the system's token; the proxy's answer token
//! back into the context; all on one connection, at most `MAX_ROUNDS` legs, tokens bounded.
//! Tokens are secrets: they go into the header (marked sensitive) and nowhere else.

use super::connect_request::{challenges, finish, send, Tunnel, BODY_LIMIT};
use super::logon::{self, Context, Failure, Logon, Package, Step, MAX_ROUNDS, MAX_TOKEN};
use super::refusal::{AuthSent, ConnectRefusal, HandshakeError, LogonEnd, LogonRefusal};
use super::Proxy;
use base64::Engine;
use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;

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
            logon::Cause::Unavailable,
            "no SSPI or GSSAPI on this platform",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
