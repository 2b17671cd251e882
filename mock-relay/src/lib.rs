//! mock-relay: a simulated Azure Relay listener service.

pub mod protocol;
