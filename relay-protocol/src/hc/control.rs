//! Control-channel messages: JSON text frames on a listener's `listen` WebSocket.
//!
//! Service to listener (protocol guide, "Accept handshake" and "Request message"):
//!
//! ```text
//! {"accept":{"address":"wss://g3-prod-sb.servicebus.windows.net:443/$hc/hyco?sb-hc-action=accept&sb-hc-id=ID_G3",
//!            "id":"ID_G3","connectHeaders":{"Host":"contoso.servicebus.windows.net:443","Sec-WebSocket-Key":"..."}}}
//! {"request":{"address":"wss://...","id":"...","requestTarget":"/hyco/x?y=1","method":"GET","requestHeaders":{...},"body":false}}
//! ```
//!
//! Listener to service (protocol guide, "Listener token renewal"; no reply, a bad token closes the
//! channel with 1008):
//!
//! ```text
//! {"renewToken":{"token":"SharedAccessSignature sr=...&sig=...&se=...&skn=..."}}
//! ```
//!
//! A message whose member is none of these is [`ServiceMessage::Unknown`] /
//! [`ListenerMessage::Unknown`], to be ignored, not an error: the protocol adds messages over time
//! (the .NET SDK's `ListenerCommand` also knows `response` and, in debug builds, `injectFault`).

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::response::ResponseMessage;
use crate::encoding::shown;
use crate::sas::SasToken;
use crate::secret::SecretString;

/// A message from the service to a listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceMessage {
    /// A sender is waiting: connect to `address` to accept, or reject it there.
    Accept(AcceptMessage),
    /// An HTTP request relayed to the listener (the probe's listener ignores it).
    Request(RequestMessage),
    /// Any other message: ignore it. `name` is its first member, for a log line.
    Unknown { name: Option<String> },
}

/// `accept`: the service hands a listener one sender.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AcceptMessage {
    /// Where to connect, as given (may name a gateway host rather than the namespace); no token.
    /// Single use, valid for at most [`ACCEPT_ADDRESS_LIFETIME`](super::ACCEPT_ADDRESS_LIFETIME).
    pub address: String,
    /// The connection's id: the sender's `sb-hc-id` if it sent one, else generated. The real
    /// service appends gateway suffixes (the .NET SDK's example shows `GUID_G0_G1`).
    pub id: String,
    /// The sender's handshake headers, including `Sec-WebSocket-Protocol`/`-Extensions`.
    #[serde(default)]
    pub connect_headers: BTreeMap<String, String>,
    /// The sender's address as the service saw it (.NET `ListenerCommand.AcceptCommand.RemoteEndpoint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_endpoint: Option<RemoteEndpoint>,
}

/// `remoteEndpoint`: the sender's IP address and port as the service saw them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteEndpoint {
    pub address: String,
    pub port: u16,
}

impl From<std::net::SocketAddr> for RemoteEndpoint {
    fn from(addr: std::net::SocketAddr) -> Self {
        RemoteEndpoint {
            address: addr.ip().to_canonical().to_string(),
            port: addr.port(),
        }
    }
}

/// `request`: a relayed HTTP request. Every member is optional: "If the incoming request is
/// larger than 64 kB, the remainder of this message is left empty" (only `address` is set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestMessage {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_endpoint: Option<RemoteEndpoint>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub request_headers: BTreeMap<String, String>,
    /// Whether binary body frames follow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<bool>,
}

/// A message from a listener to the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListenerMessage {
    RenewToken(RenewTokenMessage),
    /// The answer to a relayed HTTP request; its body frames follow when `body` is true.
    Response(ResponseMessage),
    /// Any other message: ignore it.
    Unknown {
        name: Option<String>,
    },
}

/// `renewToken`: replaces the token the control channel was opened with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewTokenMessage {
    pub token: SecretString,
}

/// Why a control frame could not be read. Never contains a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    #[error("control message is not JSON")]
    NotJson,
    #[error("control message is not a JSON object")]
    NotAnObject,
    #[error("control message {path}: {reason}")]
    BadMember { path: String, reason: String },
}

const ACCEPT: &str = "accept";
const REQUEST: &str = "request";
const RENEW_TOKEN: &str = "renewToken";
pub(super) const RESPONSE: &str = "response";

impl ServiceMessage {
    /// Reads one text frame from the service.
    pub fn parse(text: &str) -> Result<Self, ControlError> {
        let members = parse_object(text)?;
        if let Some(body) = members.get(ACCEPT) {
            return member(ACCEPT, body).map(ServiceMessage::Accept);
        }
        if let Some(body) = members.get(REQUEST) {
            return member(REQUEST, body).map(ServiceMessage::Request);
        }
        Ok(ServiceMessage::Unknown {
            name: first_name(&members),
        })
    }
}

impl AcceptMessage {
    /// `{"accept":{...}}`, the frame a service sends.
    pub fn to_json(&self) -> String {
        wrap(ACCEPT, self)
    }
}

impl RequestMessage {
    /// `{"request":{...}}`.
    pub fn to_json(&self) -> String {
        wrap(REQUEST, self)
    }
}

impl ListenerMessage {
    /// Reads one text frame from a listener: `renewToken` and `response` are checked for shape.
    pub fn parse(text: &str) -> Result<Self, ControlError> {
        let members = parse_object(text)?;
        if let Some(body) = members.get(RESPONSE) {
            return member(RESPONSE, body).map(ListenerMessage::Response);
        }
        if let Some(body) = members.get(RENEW_TOKEN) {
            let wire: RenewTokenWire = member(RENEW_TOKEN, body)?;
            return Ok(ListenerMessage::RenewToken(RenewTokenMessage {
                token: SecretString::new(wire.token),
            }));
        }
        Ok(ListenerMessage::Unknown {
            name: first_name(&members),
        })
    }
}

impl RenewTokenMessage {
    pub fn new(token: &SasToken) -> Self {
        RenewTokenMessage {
            token: token.expose(),
        }
    }

    /// `{"renewToken":{"token":"..."}}`: holds the signature, hence a [`SecretString`].
    pub fn to_json(&self) -> SecretString {
        SecretString::new(wrap(
            RENEW_TOKEN,
            &RenewTokenWire {
                token: self.token.expose().to_owned(),
            },
        ))
    }
}

#[derive(Serialize, Deserialize)]
struct RenewTokenWire {
    token: String,
}

fn parse_object(text: &str) -> Result<serde_json::Map<String, Value>, ControlError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(members)) => Ok(members),
        Ok(_) => Err(ControlError::NotAnObject),
        Err(_) => Err(ControlError::NotJson),
    }
}

/// Deserialises one member, naming the path to what is wrong (`accept.connectHeaders.Host`).
fn member<T: DeserializeOwned>(name: &str, body: &Value) -> Result<T, ControlError> {
    serde_path_to_error::deserialize(body).map_err(|err| {
        let inner = err.path().to_string();
        ControlError::BadMember {
            path: if inner == "." {
                name.to_owned()
            } else {
                format!("{name}.{inner}")
            },
            reason: shown(&err.into_inner().to_string()),
        }
    })
}

fn first_name(members: &serde_json::Map<String, Value>) -> Option<String> {
    members.keys().next().map(|name| shown(name))
}

pub(super) fn wrap<T: Serialize>(name: &str, body: &T) -> String {
    let mut frame = serde_json::Map::new();
    frame.insert(
        name.to_owned(),
        serde_json::to_value(body).expect("control messages always serialise"),
    );
    Value::Object(frame).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_accept() {
        let text = r#"{"accept":{"address":"wss://g63-prod-xxx-001-sb.servicebus.windows.net:443/$hc/hyco?sb-hc-action=accept&sb-hc-id=GUID_G0_G1",
            "id":"GUID_G0_G1","connectHeaders":{"Sec-WebSocket-Key":"l8fWd829IrZbEqUcLejv+Q==","Host":"contoso.servicebus.windows.net:443"},"future":1}}"#;
        let ServiceMessage::Accept(accept) = ServiceMessage::parse(text).unwrap() else {
            panic!("not an accept")
        };
        assert!(accept.address.ends_with("sb-hc-id=GUID_G0_G1"));
        assert_eq!(accept.remote_endpoint, None);
        assert_eq!(accept.id, "GUID_G0_G1");
        assert_eq!(
            accept.connect_headers.get("Host").map(String::as_str),
            Some("contoso.servicebus.windows.net:443")
        );
        assert_eq!(
            ServiceMessage::parse(&accept.to_json()).unwrap(),
            ServiceMessage::Accept(accept)
        );
    }

    #[test]
    fn accept_without_headers_is_fine() {
        let msg = ServiceMessage::parse(r#"{"accept":{"address":"wss://a/$hc/e","id":"1"}}"#);
        assert!(matches!(msg, Ok(ServiceMessage::Accept(a)) if a.connect_headers.is_empty()));
    }

    #[test]
    fn recognises_request_and_unknown_messages() {
        let msg = ServiceMessage::parse(r#"{"request":{"address":"wss://a/$hc/e"}}"#).unwrap();
        assert_eq!(
            msg,
            ServiceMessage::Request(RequestMessage {
                address: Some("wss://a/$hc/e".into()),
                ..RequestMessage::default()
            })
        );
        assert_eq!(
            ServiceMessage::parse(r#"{"somethingNew":{"x":1}}"#).unwrap(),
            ServiceMessage::Unknown {
                name: Some("somethingNew".into())
            }
        );
        assert_eq!(
            ServiceMessage::parse("{}").unwrap(),
            ServiceMessage::Unknown { name: None }
        );
    }

    #[test]
    fn errors_name_the_member() {
        assert_eq!(ServiceMessage::parse("accept"), Err(ControlError::NotJson));
        assert_eq!(ServiceMessage::parse("[1]"), Err(ControlError::NotAnObject));
        let missing = ServiceMessage::parse(r#"{"accept":{"id":"1"}}"#).unwrap_err();
        assert_eq!(
            missing.to_string(),
            "control message accept: missing field `address`"
        );
        let bad_header = ServiceMessage::parse(
            r#"{"accept":{"address":"a","id":"1","connectHeaders":{"Host":5}}}"#,
        )
        .unwrap_err();
        assert!(
            bad_header
                .to_string()
                .starts_with("control message accept.connectHeaders.Host: "),
            "{bad_header}"
        );
    }

    #[test]
    fn renew_token_round_trips_and_stays_secret() {
        let msg = RenewTokenMessage {
            token: SecretString::new("SharedAccessSignature sr=a&sig=b&se=1&skn=c"),
        };
        let json = msg.to_json();
        assert_eq!(format!("{json}"), "****");
        assert_eq!(
            json.expose(),
            r#"{"renewToken":{"token":"SharedAccessSignature sr=a&sig=b&se=1&skn=c"}}"#
        );
        let parsed = ListenerMessage::parse(json.expose()).unwrap();
        assert_eq!(parsed, ListenerMessage::RenewToken(msg));
        assert!(!format!("{parsed:?}").contains("sig=b"));
        assert_eq!(
            ListenerMessage::parse(r#"{"ping":{"id":"1"}}"#).unwrap(),
            ListenerMessage::Unknown {
                name: Some("ping".into())
            }
        );
        let bad = ListenerMessage::parse(r#"{"renewToken":{}}"#).unwrap_err();
        assert_eq!(
            bad.to_string(),
            "control message renewToken: missing field `token`"
        );
    }
}
