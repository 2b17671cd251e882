//! Outcomes the other suites do not reach: a DNS server that answers SERVFAIL (a minimal real
//! UDP DNS server, as a broken forwarder behaves) and a route that says unreachable (in a lab
//! namespace, as a router's ICMP host-unreachable does).

use e2e::lab::{self, probe, Topology};
use e2e::probe_cli::run;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// Answers every UDP query with its own question and RCODE 2 (SERVFAIL).
async fn servfail_server() -> (std::net::SocketAddr, tokio::task::JoinHandle<()>) {
    let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let addr = socket.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, peer)) = socket.recv_from(&mut buf).await {
            if n < 12 {
                continue;
            }
            let mut answer = buf[..n].to_vec();
            // QR=1, keep opcode and RD; RA=1, RCODE=2; no answer, authority or additional records.
            answer[2] = 0x80 | (buf[2] & 0x79);
            answer[3] = 0x80 | 0x02;
            answer[6..12].fill(0);
            let _ = socket.send_to(&answer, peer).await;
        }
    });
    (addr, task)
}

#[tokio::test]
async fn a_failing_dns_server_is_servfail() {
    let (server, _task) = servfail_server().await;
    let server = server.to_string();
    let args = [
        "run",
        "--target",
        "tcp://relay.example.test:443",
        "--dns-server",
        &server,
        "--timeout",
        "3",
        "--format",
        "json",
    ];
    let run = run(&args, LIMIT).await;
    let dns = run.check("dns");
    assert_eq!(
        (dns["status"].as_str(), dns["outcome"].as_str()),
        (Some("fail"), Some("servfail")),
        "{dns:#}"
    );
    assert!(
        dns["message"].as_str().unwrap().contains("forwarder"),
        "{dns}"
    );
    assert_eq!(run.code, 1);
}

#[tokio::test]
async fn an_unreachable_route_is_unreachable() {
    if !lab::require(&[]) {
        return;
    }
    let topo = Topology::new();
    // Inside the client namespace only: a route that answers "host unreachable" at once.
    topo.client
        .ip(&["route", "add", "unreachable", "198.18.254.1/32"]);
    let args = [
        "run",
        "--target",
        "tcp://198.18.254.1:443",
        "--format",
        "json",
        "--timeout",
        "3",
    ];
    let run = probe::run(&topo.client_site(), &args, LIMIT).await;
    let tcp = run.check("tcp");
    assert_eq!(
        (tcp["status"].as_str(), tcp["outcome"].as_str()),
        (Some("fail"), Some("unreachable")),
        "{tcp:#}"
    );
    assert!(
        tcp["duration_ms"].as_f64().unwrap() < 1000.0,
        "unreachable is immediate: {tcp}"
    );
}
