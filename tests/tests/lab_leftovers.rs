//! After a topology and its services are dropped, nothing of theirs is left: no namespace, no
//! lab link in the host namespace, no process naming a lab dir, no live child, no temp dir.

use e2e::lab::{self, firewall, inventory, names, peer, Dnsmasq, DnsmasqConfig, Mitmdump};
use e2e::lab::{MockRelay, Site, Squid, SquidConfig, Topology};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

fn own_temp_dirs() -> Vec<String> {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&names::own_marker()))
        .collect()
}

fn own_namespaces() -> Vec<String> {
    inventory::namespaces()
        .into_iter()
        .filter(|n| n.starts_with(&names::own_marker()))
        .collect()
}

fn own_processes() -> Vec<(i32, String)> {
    inventory::processes()
        .into_iter()
        .filter(|(_, cmd)| cmd.contains(&names::own_marker()))
        .collect()
}

/// Asserts that no resource of this process is left (bounded wait for orphaned helpers).
fn assert_nothing_left() {
    assert_eq!(own_namespaces(), Vec::<String>::new());
    let links: Vec<String> = inventory::host_links();
    assert!(
        links.iter().all(|l| !l.starts_with("lab-")),
        "lab links in the host namespace: {links:?}"
    );
    // Helpers of a killed Squid are orphans for a moment; give them a bounded time to be gone.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !own_processes().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(own_processes(), Vec::<(i32, String)>::new());
    assert_eq!(inventory::children(), Vec::<i32>::new());
    assert_eq!(own_temp_dirs(), Vec::<String>::new());
}

// One test only: the checks look at everything this process owns, so a second lab test
// running in parallel in the same process (plain `cargo test`) would disturb them.
#[e2e::lab::needs(lab, nft, dnsmasq, squid, basic_ncsa_auth, htpasswd, mitmdump)]
#[test]
fn nothing_is_left_behind_after_drop_or_panic() {
    if !lab::require(&[
        "nft",
        "dnsmasq",
        "squid",
        "basic_ncsa_auth",
        "htpasswd",
        "mitmdump",
    ]) {
        return;
    }
    {
        let topo = Topology::new();
        topo.apply(&[firewall::reset_after(Duration::from_secs(5))]);
        let _dns = Dnsmasq::start(
            &topo.server_site(),
            IpAddr::V4(topo.server_ip),
            53,
            &DnsmasqConfig::new().a("x.lab.test", topo.server_ip),
        );
        // Squid with auth forks helper processes; they must go too.
        let config = SquidConfig::default().user("u", "p");
        let _router_squid = Squid::start(
            &topo.router_site(),
            IpAddr::V4(topo.router_client_ip),
            3128,
            &config,
        );
        let _host_squid = Squid::start(&Site::Host, IpAddr::V4(Ipv4Addr::LOCALHOST), 0, &config);
        let _peer = peer::Peer::start(
            &topo.server_site(),
            SocketAddr::from((topo.server_ip, 443)),
            peer::Behaviour::Echo,
        );
        let _relay = MockRelay::start(
            &topo.server_site(),
            SocketAddr::from((topo.server_ip, 8443)),
            &[],
        );
        let _mitm = Mitmdump::start(&topo.router_site(), IpAddr::V4(topo.router_client_ip), 8080);
        assert_eq!(own_namespaces().len(), 3, "{:?}", own_namespaces());
        assert!(
            own_processes().len() >= 5,
            "the check must see the running services: {:?}",
            own_processes()
        );
        assert!(!inventory::children().is_empty());
    }
    assert_nothing_left();

    // A test that panics with a topology and services alive cleans up while unwinding.
    let outcome = std::panic::catch_unwind(|| {
        let topo = Topology::new();
        let _squid = Squid::start(
            &topo.router_site(),
            IpAddr::V4(topo.router_client_ip),
            3128,
            &SquidConfig::default().user("u", "p"),
        );
        panic!("deliberate panic with the lab up");
    });
    assert!(outcome.is_err());
    assert_nothing_left();
}
