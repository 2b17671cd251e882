//! dnsmasq answers A, AAAA, CNAME and SRV records from its generated config, says NXDOMAIN for
//! unknown names in the lab zone, and never answers for the silent domain; in a namespace
//! (queried across the router) and on loopback.

use e2e::lab::dns_query::{self, query, Record};
use e2e::lab::{self, Dnsmasq, DnsmasqConfig, Site, Topology};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

const RELAY_IP: Ipv4Addr = Ipv4Addr::new(198, 19, 200, 10);
const RELAY_IP6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 10);

fn config() -> DnsmasqConfig {
    DnsmasqConfig::new()
        .a("ns-sb2-prod-lab.lab.test", RELAY_IP)
        .aaaa("ns-sb2-prod-lab.lab.test", RELAY_IP6)
        .cname("relay.lab.test", "ns-sb2-prod-lab.lab.test")
        .a("dc1.corp.lab.test", Ipv4Addr::new(198, 19, 200, 20))
        .srv(
            "_ldap._tcp.pdc._msdcs.corp.lab.test",
            "dc1.corp.lab.test",
            389,
        )
}

fn check_answers(site: &Site, server: SocketAddr) {
    let q = |name: &str, qtype| {
        query(site, server, name, qtype, Duration::from_secs(3))
            .unwrap_or_else(|e| panic!("{name}/{qtype}: {e}"))
    };
    let a = q("relay.lab.test", dns_query::A);
    assert_eq!(a.rcode, 0);
    assert!(
        a.answers
            .contains(&Record::Cname("ns-sb2-prod-lab.lab.test".into())),
        "{a:?}"
    );
    assert!(a.answers.contains(&Record::A(RELAY_IP)), "{a:?}");
    let aaaa = q("ns-sb2-prod-lab.lab.test", dns_query::AAAA);
    assert_eq!(aaaa.answers, vec![Record::Aaaa(RELAY_IP6)]);
    let srv = q("_ldap._tcp.pdc._msdcs.corp.lab.test", dns_query::SRV);
    assert!(
        srv.answers.iter().any(|r| matches!(r,
            Record::Srv { port: 389, target, .. } if target == "dc1.corp.lab.test")),
        "{srv:?}"
    );
    let missing = q("nothing-here.lab.test", dns_query::A);
    assert_eq!(missing.rcode, dns_query::NXDOMAIN, "{missing:?}");

    let started = Instant::now();
    let silent = query(
        site,
        server,
        "relay.slow.lab.test",
        dns_query::A,
        Duration::from_secs(2),
    );
    assert_eq!(
        silent.map(|r| r.rcode).unwrap_err().kind(),
        std::io::ErrorKind::TimedOut
    );
    assert!(started.elapsed() >= Duration::from_millis(1900));
}

#[e2e::lab::needs(lab, dnsmasq)]
#[test]
fn dnsmasq_in_the_server_namespace_answers_the_client() {
    if !lab::require(&["dnsmasq"]) {
        return;
    }
    let topo = Topology::new();
    let dns = Dnsmasq::start(
        &topo.server_site(),
        IpAddr::V4(topo.server_ip),
        53,
        &config(),
    );
    check_answers(&topo.client_site(), dns.addr);
    assert!(dns.log().contains("relay.lab.test"), "{}", dns.log());
}

#[e2e::lab::needs(lab, dnsmasq)]
#[test]
fn dnsmasq_on_loopback_answers() {
    if !lab::require(&["dnsmasq"]) {
        return;
    }
    let dns = Dnsmasq::start(&Site::Host, IpAddr::V4(Ipv4Addr::LOCALHOST), 0, &config());
    check_answers(&Site::Host, dns.addr);
}
