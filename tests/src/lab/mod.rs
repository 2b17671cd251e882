//! The real-network test lab: network namespaces joined by veth pairs, an nftables firewall on
//! the router, and real services (mock-relay, dnsmasq, Squid, mitmproxy) started inside a
//! namespace or on loopback. Everything is named `e2elab-<pid>-...`, torn down on drop, and
//! cleaned at the next start if a crashed run left it behind.
//!
//! ```no_run
//! use e2e::lab::{self, firewall, Topology};
//! if !lab::require(&["nft"]) {
//!     return;
//! }
//! let topo = Topology::new();
//! topo.apply(&[firewall::reject_port(9350)]);
//! let err = lab::peer::connect(
//!     &topo.client_site(),
//!     (topo.server_ip, 9350).into(),
//!     std::time::Duration::from_secs(2),
//! )
//! .unwrap_err();
//! assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
//! ```

pub mod components;
pub mod curl;
pub mod dns_query;
pub mod dnsmasq;
pub mod firewall;
pub mod hosts;
pub mod inventory;
pub mod kdc;
pub mod mitmproxy;
pub mod mock_relay;
pub mod names;
pub mod netns;
pub mod peer;
pub mod probe;
pub mod process;
pub mod site;
pub mod skip;
pub mod squid;
pub mod stale;
pub mod tools;
pub mod topology;

pub use dnsmasq::{Dnsmasq, DnsmasqConfig};
/// `#[lab::needs(lab, squid)]`: the test is ignored, saying why, when a component it needs is
/// missing outside CI ([`skip`]).
pub use e2e_macros::needs;
pub use firewall::Rule;
pub use hosts::NetnsHosts;
pub use kdc::Kdc;
pub use mitmproxy::Mitmdump;
pub use mock_relay::MockRelay;
pub use netns::Netns;
pub use process::LabProcess;
pub use site::Site;
pub use skip::require;
pub use squid::{Squid, SquidConfig, SquidKerberos};
pub use topology::Topology;
