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

pub mod channel;
pub mod connection_string;
mod encoding;
pub mod hc;
pub mod sas;
pub mod secret;

pub use secret::SecretString;
