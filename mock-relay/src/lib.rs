//! mock-relay: a simulated Azure Relay listener service.
//!
//! - [`protocol`]: the listener-channel messages, shared with the probe;
//! - [`server`]: the TLS relay (`/healthz`, `/echo`, `/stats`, the `/$hc/...` channel);
//! - [`fault`]: fault rehearsal (`--fault KIND[:ARG]`);
//! - [`middlebox`]: a userland TCP forwarder with an idle timeout, like a firewall or proxy;
//! - [`tls`]: certificate generation and loading;
//! - [`announce`]: the address line a running binary prints first.

pub mod announce;
mod channel;
pub mod cli;
mod connection;
mod error;
pub mod fault;
mod idle;
mod listener;
pub mod logging;
pub mod middlebox;
pub mod protocol;
mod response;
mod routes;
pub mod secs;
pub mod server;
mod state;
pub mod stats;
pub mod tls;

pub use error::StartError;
