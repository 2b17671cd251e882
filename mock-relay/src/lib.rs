//! mock-relay: a simulated Azure Relay listener service.
//!
//! - [`server`]: the TLS relay (`/healthz`, `/echo`, `/stats`, the `/$hc/...` listener channel,
//!   and Azure Relay Hybrid Connections in `hc`); the wire shapes are `relay_protocol`'s;
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
mod handshake;
mod hc;
mod hc_state;
mod idle;
mod listener;
pub mod logging;
mod memory;
pub mod middlebox;
mod response;
mod routes;
pub mod secs;
pub mod server;
mod state;
pub mod stats;
pub mod tls;
pub mod version;

pub use error::StartError;
