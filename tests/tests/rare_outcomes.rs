//! Outcomes the other suites do not reach: a DNS server that answers SERVFAIL (a minimal real
//! UDP DNS server, as a broken forwarder behaves) and a route that says unreachable (in a lab
//! namespace, as a router's ICMP host-unreachable does).
//! Then, end to end: a 503 is `unexpected_status`, a server that answers TLS in plain HTTP is
//! `handshake_failed`, and a hybrid connection whose listener quota is taken is `forbidden`.
//! (`no_listener` is reached by Microsoft's own clients in `hyco_ws` and `hyco_https`.)

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

#[e2e::lab::needs(lab)]
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

/// The mock-relay with a key, its CA file and its connection string (key included).
async fn keyed_relay(extra: &[&str]) -> (e2e::relay::Relay, String, String) {
    let mut args = vec!["--sas-key-name", "probe", "--sas-key", KEY];
    args.extend_from_slice(extra);
    let relay = e2e::relay::Relay::serve(&args).await;
    let ca = relay.ca_file();
    let cs = relay.connection_string().expose().expose().to_string();
    (relay, ca, cs)
}

const KEY: &str = "rareOutcomesKeyForHybridConnections0123456=";

#[tokio::test]
async fn an_answer_of_500_or_more_is_an_unexpected_status() {
    let (relay, ca, _) = keyed_relay(&["--fault", "status:503"]).await;
    let url = format!("https://127.0.0.1:{}/", relay.tls().port());
    let args = ["run", "--target", &url, "--ca-file", &ca, "--quick"];
    let run = run(&[&args[..], &["--format", "json"]].concat(), LIMIT).await;
    let http = run.check("http");
    assert_eq!(http["outcome"], "unexpected_status", "{http:#}");
    assert_eq!(http["status"], "warn", "{http:#}");
    assert_eq!(http["status_code"], 503, "{http:#}");
    assert_eq!(run.check("tls")["outcome"], "ok");
}

#[tokio::test]
async fn a_server_answering_tls_with_plain_http_is_a_failed_handshake() {
    // Whatever it is sent, it answers in plain HTTP at once, as a server on the wrong port does.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let _server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut s, _)) = listener.accept().await {
            let mut hello = [0u8; 512];
            let _ = s.read(&mut hello).await;
            let _ = s
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    let url = format!("https://127.0.0.1:{port}/");
    let run = run(
        &["run", "--target", &url, "--quick", "--format", "json"],
        LIMIT,
    )
    .await;
    let tls = run.check("tls");
    assert_eq!(
        (tls["status"].as_str(), tls["outcome"].as_str()),
        (Some("fail"), Some("handshake_failed")),
        "{tls:#}"
    );
    assert_eq!(run.check("tcp")["outcome"], "connected");
    assert_eq!(run.code, 1);
}

#[tokio::test]
async fn a_hybrid_connection_full_of_listeners_is_forbidden() {
    let (relay, ca, cs) = keyed_relay(&[]).await;
    // The service's quota of listeners per hybrid connection, all taken.
    let hc = relay.hc();
    let mut taken = Vec::new();
    for i in 0..relay_protocol::hc::MAX_LISTENERS_PER_ENTITY {
        taken.push(hc.listen("hc1", &format!("l{i}")).await.expect("listener"));
    }
    let args = [
        "run",
        "--hybrid-connection",
        &cs,
        "--ca-file",
        &ca,
        "--hc-entity",
        "hc1",
    ];
    let run = run(
        &[
            &args[..],
            &["--quick", "--format", "json", "--timeout", "5"],
        ]
        .concat(),
        LIMIT,
    )
    .await;
    let listener = run.check("listener");
    assert_eq!(listener["outcome"], "forbidden", "{listener:#}");
    assert_eq!(listener["status_code"], 403, "{listener:#}");
    assert_eq!(run.code, 1);
    assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY));
    drop(taken);
}
