//! Opening a WebSocket to the relay service, and reading its refusals: the service answers a
//! handshake it will not take with a plain HTTP status (401, 403, 404...), a listener's rejection
//! reaches the sender the same way.

use crate::net::path::{self, PathError};
use crate::net::tcp_info::Handle;
use crate::net::websocket::{self, Header, UpgradeError, Ws};
use crate::net::{Endpoint, NetContext};
use crate::outcome::Outcome;
use http::HeaderMap;
use relay_protocol::hc::AUTHORIZATION_HEADER;
use relay_protocol::SecretString;
use std::fmt;
use std::time::Duration;

use crate::net::io::Io;

/// Why a WebSocket to the service did not open.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// The service, or a listener through it, answered with an HTTP status.
    Status {
        code: u16,
        /// What it said with it (the body, cleaned and shortened), if anything.
        description: Option<String>,
    },
    /// The connection failed or ended before an answer: the outcome word and what happened.
    Failed { outcome: Outcome, why: String },
    /// No answer within the deadline.
    Timeout,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Status {
                code,
                description: Some(d),
            } => write!(f, "answered {code} ({d})"),
            Refusal::Status { code, .. } => write!(f, "answered {code}"),
            Refusal::Failed { why, .. } => f.write_str(why),
            Refusal::Timeout => f.write_str("no answer in time"),
        }
    }
}

impl Refusal {
    /// The outcome word of a failed connection; `None` for an HTTP answer.
    pub fn outcome(&self) -> Option<Outcome> {
        match self {
            Refusal::Status { .. } => None,
            Refusal::Failed { outcome, .. } => Some(*outcome),
            Refusal::Timeout => Some(Outcome::Timeout),
        }
    }

    fn from_path(e: PathError) -> Refusal {
        Refusal::Failed {
            outcome: e.outcome(),
            why: e.to_string(),
        }
    }
}

/// An open WebSocket to the service, with what its upgrade answer said and the kernel's handle
/// on the TCP connection under it.
pub struct Upgraded {
    pub ws: Ws,
    /// The headers of the 101 answer.
    pub head: HeaderMap,
    /// The TCP connection to the service, or to the proxy on the way.
    pub tcp: Option<Handle>,
}

/// Opens a TLS connection to `endpoint` and upgrades it at `path`, with `token` (if any) in the
/// `ServiceBusAuthorization` header, all within `deadline`.
pub async fn open(
    net: &NetContext,
    endpoint: Endpoint<'_>,
    path: &str,
    token: Option<&SecretString>,
    deadline: Duration,
) -> Result<Ws, Refusal> {
    open_upgraded(net, endpoint, path, token, deadline)
        .await
        .map(|u| u.ws)
}

/// [`open`], keeping the answer's headers and the TCP handle.
pub async fn open_upgraded(
    net: &NetContext,
    endpoint: Endpoint<'_>,
    path: &str,
    token: Option<&SecretString>,
    deadline: Duration,
) -> Result<Upgraded, Refusal> {
    let attempt = async {
        let opened = path::open_tls_at(net, endpoint, &net.socket)
            .await
            .map_err(Refusal::from_path)?;
        let tcp = opened.tcp;
        let (ws, head) =
            upgrade(Box::new(opened.stream), &endpoint.authority(), path, token).await?;
        Ok(Upgraded { ws, head, tcp })
    };
    tokio::time::timeout(deadline, attempt)
        .await
        .unwrap_or(Err(Refusal::Timeout))
}

/// Upgrades an open TLS connection at `path` (the caller bounds the wait).
pub async fn upgrade(
    stream: Io,
    authority: &str,
    path: &str,
    token: Option<&SecretString>,
) -> Result<(Ws, HeaderMap), Refusal> {
    let headers: Vec<Header<'_>> = token
        .map(|t| Header {
            name: AUTHORIZATION_HEADER,
            value: t.expose(),
            secret: true,
        })
        .into_iter()
        .collect();
    websocket::upgrade_with_head(stream, authority, path, &headers)
        .await
        .map_err(|e| match e {
            UpgradeError::Refused { code, .. } => Refusal::Status {
                code,
                description: e.description(),
            },
            UpgradeError::Failed { outcome, why } => Refusal::Failed { outcome, why },
        })
}
