//! The lab network: client, router and server namespaces joined by veth pairs.
//!
//! ```text
//! client  lab-c0 198.18.N.2/24 ── lab-r0 198.18.N.1/24  router  lab-r1 198.19.N.1/24 ── lab-s0 198.19.N.2/24  server
//! ```
//!
//! Addresses come from 198.18.0.0/15 only (RFC 2544 benchmarking space). Each namespace is
//! private, so two topologies could even use the same addresses; N still differs per topology
//! (pid and sequence) to keep captures and logs of parallel tests apart. Veth ends are created
//! directly inside their namespaces, so the host namespace never sees a lab link and interface
//! names need not be unique across tests.

use super::firewall::Rule;
use super::netns::Netns;
use super::site::Site;
use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU32, Ordering};

/// Client, router and server namespaces, routed through the router. Everything is removed on
/// drop (also while unwinding from a panic).
#[derive(Debug)]
pub struct Topology {
    pub client: Netns,
    pub router: Netns,
    pub server: Netns,
    /// The client's address (198.18.N.2).
    pub client_ip: Ipv4Addr,
    /// The router's address on the client side (198.18.N.1): the client's gateway, and where a
    /// proxy in the router namespace listens for the client.
    pub router_client_ip: Ipv4Addr,
    /// The router's address on the server side (198.19.N.1).
    pub router_server_ip: Ipv4Addr,
    /// The server's address (198.19.N.2).
    pub server_ip: Ipv4Addr,
}

impl Topology {
    /// Builds the three namespaces, links, addresses and routes, with forwarding on in the
    /// router and no firewall.
    pub fn new() -> Topology {
        let n = subnet_index();
        let topo = Topology {
            client: Netns::create("c"),
            router: Netns::create("r"),
            server: Netns::create("s"),
            client_ip: Ipv4Addr::new(198, 18, n, 2),
            router_client_ip: Ipv4Addr::new(198, 18, n, 1),
            router_server_ip: Ipv4Addr::new(198, 19, n, 1),
            server_ip: Ipv4Addr::new(198, 19, n, 2),
        };
        link(&topo.client, "lab-c0", &topo.router, "lab-r0");
        link(&topo.router, "lab-r1", &topo.server, "lab-s0");
        address(&topo.client, "lab-c0", topo.client_ip);
        address(&topo.router, "lab-r0", topo.router_client_ip);
        address(&topo.router, "lab-r1", topo.router_server_ip);
        address(&topo.server, "lab-s0", topo.server_ip);
        let via = topo.router_client_ip.to_string();
        topo.client.ip(&["route", "add", "default", "via", &via]);
        let via = topo.router_server_ip.to_string();
        topo.server.ip(&["route", "add", "default", "via", &via]);
        topo.router.sysctl("net.ipv4.ip_forward", "1");
        topo
    }

    pub fn client_site(&self) -> Site {
        self.client.site()
    }

    pub fn router_site(&self) -> Site {
        self.router.site()
    }

    pub fn server_site(&self) -> Site {
        self.server.site()
    }

    /// Replaces the router's firewall with `rules` (an empty slice removes it).
    pub fn apply(&self, rules: &[Rule]) {
        super::firewall::apply(&self.router, rules);
    }
}

impl Default for Topology {
    fn default() -> Self {
        Topology::new()
    }
}

/// The third octet N of this topology's subnets, 1..=250.
fn subnet_index() -> u8 {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    ((std::process::id().wrapping_mul(7).wrapping_add(seq)) % 250 + 1) as u8
}

fn link(a: &Netns, a_if: &str, b: &Netns, b_if: &str) {
    super::site::Site::Host.run(
        "ip",
        &[
            "link",
            "add",
            a_if,
            "netns",
            a.name(),
            "type",
            "veth",
            "peer",
            "name",
            b_if,
            "netns",
            b.name(),
        ],
    );
}

fn address(ns: &Netns, dev: &str, ip: Ipv4Addr) {
    ns.ip(&["addr", "add", &format!("{ip}/24"), "dev", dev]);
    ns.ip(&["link", "set", dev, "up"]);
}
