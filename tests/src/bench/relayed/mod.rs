//! `bench-relay`: mock-relay's Hybrid Connections data paths beside the same work done directly
//! over TLS in the same process and run:
//!
//! - request mode: keep-alive HTTPS senders through the relay to a listener answering every
//!   `request` on its control channel, against the same handler served by hyper over rustls;
//! - rendezvous: 1 MiB binary messages from a sender to a listener through an accepted
//!   rendezvous, against a direct TLS WebSocket;
//! - footprint: the relay's resident memory with 1,000 listeners connected and slow requests in
//!   flight.

pub mod direct;
pub mod footprint;
pub mod http_load;
pub mod responder;
pub mod stream;
pub mod throughput;
