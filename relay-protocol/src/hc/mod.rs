//! Azure Relay Hybrid Connections: the names, limits and codes of the protocol.
//!
//! Source unless said otherwise: "Azure Relay Hybrid Connections protocol"
//! (learn.microsoft.com/azure/azure-relay/relay-hybrid-connections-protocol, "the protocol guide"
//! below) and the .NET SDK, github.com/Azure/azure-relay-dotnet (`HybridConnectionConstants.cs`,
//! `RelayConstants.cs`, `RelayedHttpListenerContext.cs`).
//!
//! ```text
//! listener -> service   GET wss://NS/$hc/ENTITY?sb-hc-action=listen&sb-hc-id=ID   (ServiceBusAuthorization: SAS)
//! sender   -> service   GET wss://NS/$hc/ENTITY?sb-hc-action=connect&sb-hc-id=ID  (ServiceBusAuthorization: SAS)
//! service  -> listener  {"accept":{"address":"wss://GW/$hc/ENTITY?sb-hc-action=accept&sb-hc-id=...","id":"...","connectHeaders":{...}}}
//! listener -> service   GET <address>                                  accept: a byte pipe to the sender
//! listener -> service   GET <address>&sb-hc-statusCode=N&sb-hc-statusDescription=TEXT   reject: answered 410
//! listener -> service   {"renewToken":{"token":"SharedAccessSignature ..."}}           no reply
//! sender   -> service   GET|POST https://NS/ENTITY[/suffix][?query]    (ServiceBusAuthorization: SAS)   HTTP request mode
//! service  -> listener  {"request":{"address":"wss://GW/$hc/ENTITY?sb-hc-action=request&sb-hc-id=ID","id":"ID","requestTarget":"/ENTITY/suffix?query",...,"body":true}} + binary frames
//! listener -> service   {"response":{"requestId":"ID","statusCode":200,...,"body":true}} + binary frames (control channel, or a rendezvous at the address)
//! ```

mod action;
pub mod address;
pub mod control;
pub mod namespace;
pub mod request;
pub mod response;

use std::time::Duration;

pub use action::{Action, UnknownAction};
pub use address::{append_query, hc_url, listener_url, reject_url, sender_url, with_token_query};
pub use control::{
    AcceptMessage, ControlError, ListenerMessage, RemoteEndpoint, RenewTokenMessage,
    RequestMessage, ServiceMessage,
};
pub use namespace::{EntityPath, EntityPathError, Namespace, NamespaceError};
pub use request::{has_hc_action, HcRequest, HcRequestError, Rejection};
pub use response::ResponseMessage;

/// Path prefix of every Hybrid Connections WebSocket: `/$hc/{path}`.
pub const PATH_PREFIX: &str = "/$hc/";

/// Prefix the service reserves for its query parameters; it strips every one of them before
/// the listener sees the query (protocol guide, "Request message": `requestTarget`).
pub const QUERY_PREFIX: &str = "sb-hc-";
/// `listen`, `connect` or `accept` (see [`Action`]).
pub const QUERY_ACTION: &str = "sb-hc-action";
/// Client-chosen tracking id (optional; the service generates one when absent).
pub const QUERY_ID: &str = "sb-hc-id";
/// The SAS token, URL-encoded, as an alternative to the [`AUTHORIZATION_HEADER`].
pub const QUERY_TOKEN: &str = "sb-hc-token";
/// Added by a listener to an accept address to reject the sender: the HTTP status to give it.
pub const QUERY_STATUS_CODE: &str = "sb-hc-statusCode";
/// Added with [`QUERY_STATUS_CODE`]: the reason text, URL-encoded.
pub const QUERY_STATUS_DESCRIPTION: &str = "sb-hc-statusDescription";

/// Header carrying the SAS token on the WebSocket handshake. The SDKs always use it
/// (.NET `RelayConstants.ServiceBusAuthorizationHeaderName`, node `hyco-ws` `relayedConnect`);
/// the protocol guide documents it for HTTP requests and [`QUERY_TOKEN`] for WebSockets.
pub const AUTHORIZATION_HEADER: &str = "ServiceBusAuthorization";

/// "The service allows up to 25 concurrent listeners for one Hybrid Connection" (protocol guide,
/// "Listen message").
pub const MAX_LISTENERS_PER_ENTITY: usize = 25;

/// Longest `sb-hc-id` accepted, in bytes. The SDKs send a GUID (36 characters) and the service
/// appends gateway suffixes (`_G0_G1`); this leaves room for any real id while keeping what a
/// client makes a service hold in memory small. Not a documented limit of the real service.
pub const MAX_ID_BYTES: usize = 256;

/// Longest `sb-hc-statusDescription` accepted, in bytes (decoded). The description becomes the
/// sender's HTTP reason phrase. Not a documented limit of the real service.
pub const MAX_STATUS_DESCRIPTION_BYTES: usize = 512;

/// HTTP status that answers a correct reject handshake: it "intentionally fails with an HTTP
/// error code 410, since no WebSocket has been established" (protocol guide, "Rejecting the socket").
pub const REJECT_COMPLETED_STATUS: u16 = 410;

/// HTTP status for an accept (or reject) handshake whose address is unknown, used or expired:
/// "403 Forbidden: The URL is not valid" (protocol guide, "Accept handshake").
pub const ACCEPT_ADDRESS_INVALID_STATUS: u16 = 403;

/// WebSocket close code: "The Hybrid Connection path has been deleted or disabled" (protocol
/// guide, listener control channel; also sent on a rendezvous socket when the sender leaves).
pub const CLOSE_ENTITY_GONE: u16 = 1001;
/// WebSocket close code: "The security token has expired, therefore the authorization policy is
/// violated" (protocol guide; also the answer to a bad `renewToken`).
pub const CLOSE_POLICY_VIOLATION: u16 = 1008;
/// WebSocket close code: "Something went wrong in the service" (protocol guide).
pub const CLOSE_SERVICE_ERROR: u16 = 1011;

/// The .NET SDK's listener keep-alive: its WebSocket sends an unsolicited Pong every 3.5 minutes
/// (`HybridConnectionConstants.KeepAliveInterval = TimeSpan.FromMinutes(3.5)`, applied as
/// `ClientWebSocketOptions.KeepAliveInterval` on the control channel). There is no
/// application-level ping in the protocol.
pub const SDK_LISTENER_KEEPALIVE: Duration = Duration::from_secs(210);

/// How long an accept address stays usable: "The maximum to assume is 30 seconds", and it is good
/// for one successful connection only (protocol guide, "Accept message").
pub const ACCEPT_ADDRESS_LIFETIME: Duration = Duration::from_secs(30);

/// Validity the .NET SDK gives the tokens it signs (`TokenProvider.DefaultTokenTimeout`, 60 min).
pub const SDK_TOKEN_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// A mock-relay's answer to a listener's upgrade carries this header when it drops idle
/// listeners the way the service does (`--service-idle-limit`): the limit, in seconds. The real
/// service sends no such header; the probe knows its limit from the namespace's domain.
pub const SERVICE_IDLE_LIMIT_HEADER: &str = "x-relay-service-idle-limit";

/// Parses [`SERVICE_IDLE_LIMIT_HEADER`]'s value: positive, finite seconds.
pub fn parse_service_idle_limit(value: &str) -> Option<f64> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
}
