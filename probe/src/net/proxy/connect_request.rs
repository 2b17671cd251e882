//! One CONNECT request and the proxy's answer to it: what every way of asking for a tunnel
//! (`tunnel`, `negotiate`) sends and reads.

use super::block_page::{FirstBytes, Recorder};
use super::challenge;
use super::logon::Logon;
use super::refusal::{AuthSent, ConnectRefusal};
use crate::net::io::Io;
use bytes::Bytes;
use http::{HeaderValue, Response};
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use std::fmt;

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
