//! The lab topology itself: the client reaches the server only through the router, addresses
//! are not translated, and two topologies in one process do not clash.

use e2e::lab::{self, curl::curl, peer, Topology};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::Duration;

#[e2e::lab::needs(lab, nft)]
#[test]
fn client_reaches_server_through_router() {
    if !lab::require(&["nft"]) {
        return;
    }
    let topo = Topology::new();
    let echo = peer::Peer::start(
        &topo.server_site(),
        SocketAddr::from((topo.server_ip, 0)),
        peer::Behaviour::Echo,
    );
    let mut conn = peer::connect(&topo.client_site(), echo.addr, Duration::from_secs(5))
        .expect("client connects to the server through the router");
    // No NAT: the server sees the client's own address.
    assert_eq!(conn.local_addr().unwrap().ip(), topo.client_ip);
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    conn.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    conn.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");

    // The host's own network has no route into the lab.
    assert!(peer::connect(&lab::Site::Host, echo.addr, Duration::from_millis(300)).is_err());
    // The router forwards.
    assert_eq!(topo.router.sysctl_get("net.ipv4.ip_forward"), "1");
}

#[e2e::lab::needs(lab, curl)]
#[test]
fn curl_in_the_client_gets_an_answer_from_the_server() {
    if !lab::require(&["curl"]) {
        return;
    }
    let topo = Topology::new();
    let http = peer::Peer::start(
        &topo.server_site(),
        SocketAddr::from((topo.server_ip, 8080)),
        peer::Behaviour::HttpOk,
    );
    let run = curl(
        &topo.client_site(),
        10,
        &[&format!("http://{}/", http.addr)],
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "ok\n");
}

#[e2e::lab::needs(lab)]
#[test]
fn two_topologies_in_one_process_are_independent() {
    if !lab::require(&[]) {
        return;
    }
    let a = Topology::new();
    let b = Topology::new();
    assert_ne!(a.client.name(), b.client.name());
    assert_ne!(a.server_ip, b.server_ip);
    for topo in [&a, &b] {
        let echo = peer::Peer::start(
            &topo.server_site(),
            SocketAddr::from((topo.server_ip, 7)),
            peer::Behaviour::Echo,
        );
        peer::connect(&topo.client_site(), echo.addr, Duration::from_secs(5))
            .expect("each topology routes its own traffic");
    }
    // A's client has no path into B's server.
    assert!(peer::connect(
        &a.client_site(),
        SocketAddr::from((b.server_ip, 7)),
        Duration::from_millis(500)
    )
    .is_err());
}
