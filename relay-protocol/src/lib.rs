//! The wire contract between the probe and the mock-relay, written once.
//!
//! Both binaries speak the same protocols; this crate holds their shapes, names, limits and
//! codecs, and nothing that does I/O (no sockets, no async runtime).
//!
//! | module | what it holds |
//! |---|---|
//! | [`channel`] | the project's own listener channel (`hold`/`push`/`echo`) and the relay's HTTP side paths |
//! | [`hc`] | Azure Relay Hybrid Connections: names, limits, URLs, the service's request parsing, control messages |
//! | [`sas`] | Shared Access Signature tokens: signing (client) and checking (service) |
//! | [`connection_string`] | `Endpoint=sb://...;SharedAccessKeyName=...;SharedAccessKey=...;EntityPath=...` |
//! | [`secret`] | [`SecretString`]: keys, signatures and whole tokens, printed only as `****` |
//!
//! The Hybrid Connections parts follow Microsoft's public documentation ("Azure Relay Hybrid
//! Connections protocol", learn.microsoft.com/azure/azure-relay/relay-hybrid-connections-protocol)
//! and, where it is silent, the public SDKs (github.com/Azure/azure-relay-dotnet,
//! github.com/Azure/azure-relay-node). Each item says which one it comes from.
//!
//! A listener's handshake, from a connection string:
//!
//! ```
//! use relay_protocol::connection_string::{ConnectionString, Credential};
//! use relay_protocol::{hc, sas};
//!
//! let cs: ConnectionString =
//!     "Endpoint=sb://relay.lab:8443/;SharedAccessKeyName=listen;SharedAccessKey=abc=;EntityPath=hc1"
//!         .parse()?;
//! assert_eq!(cs.to_string(), "Endpoint=sb://relay.lab:8443/;SharedAccessKeyName=listen;SharedAccessKey=****;EntityPath=hc1");
//!
//! let entity = cs.entity_path().expect("EntityPath given");
//! let url = hc::listener_url(cs.endpoint(), entity, "listener-1");
//! assert_eq!(url, "wss://relay.lab:8443/$hc/hc1?sb-hc-action=listen&sb-hc-id=listener-1");
//!
//! let Credential::Key(key) = cs.credential() else { unreachable!() };
//! let token = key.sign(&sas::resource_uri(cs.endpoint(), Some(entity)), 1_700_003_600);
//! let header_value = token.expose(); // for hc::AUTHORIZATION_HEADER; prints as ****
//!
//! // ... and the service's view of the same request:
//! let request = hc::HcRequest::parse("/$hc/hc1?sb-hc-action=listen&sb-hc-id=listener-1")?;
//! let keys = [key.clone()];
//! let ok = sas::authorize(request.token(Some(header_value.expose())), &keys, 1_700_000_000, cs.endpoint(), request.path.as_str());
//! assert!(ok.is_ok());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod channel;
pub mod connection_string;
mod encoding;
pub mod hc;
pub mod sas;
pub mod secret;

pub use secret::SecretString;
