//! Squid: CONNECT with basic auth works, a wrong password gets 407, NTLM through the fake-auth
//! helper completes curl's handshake and logs the user, a denied domain gets 403, an idle tunnel
//! is closed after `read_timeout`, and in the topology Squid in the router is the client's only
//! way out.

use e2e::lab::{self, curl::curl, firewall, peer, Site, Squid, SquidConfig, Topology};
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn http_peer_on_loopback() -> peer::Peer {
    peer::Peer::start(
        &Site::Host,
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        peer::Behaviour::HttpOk,
    )
}

/// `curl -x PROXY --proxytunnel URL`, returning (CONNECT status, curl run).
fn through(site: &Site, proxy: &str, url: &str) -> (String, lab::curl::CurlRun) {
    let run = curl(
        site,
        10,
        &["-x", proxy, "--proxytunnel", "-w", "\n%{http_connect}", url],
    );
    let status = run.stdout.lines().last().unwrap_or("").to_string();
    (status, run)
}

#[e2e::lab::needs(lab, squid, basic_ncsa_auth, htpasswd, curl)]
#[test]
fn squid_connect_with_basic_auth_and_deny_acl() {
    if !lab::require(&["squid", "basic_ncsa_auth", "htpasswd", "curl"]) {
        return;
    }
    let target = http_peer_on_loopback();
    let config = SquidConfig::default()
        .user("agent", "s3cret")
        .deny_domain(".blocked.lab.test");
    let squid = Squid::start(&Site::Host, LOCALHOST, 0, &config);
    let url = format!("http://{}/", target.addr);

    let (status, run) = through(&Site::Host, &squid.url_with("agent", "s3cret"), &url);
    assert_eq!(
        (status.as_str(), run.code),
        ("200", 0),
        "{run:?}\n{}",
        squid.logs()
    );
    assert!(run.stdout.starts_with("ok\n"), "{run:?}");

    let (status, run) = through(&Site::Host, &squid.url_with("agent", "wrong"), &url);
    assert_eq!(status, "407", "{run:?}");
    let (status, run) = through(&Site::Host, &squid.url(), &url);
    assert_eq!(status, "407", "{run:?}");

    let denied = format!("http://relay.blocked.lab.test:{}/", target.addr.port());
    let (status, run) = through(&Site::Host, &squid.url_with("agent", "s3cret"), &denied);
    assert_eq!(status, "403", "{run:?}\n{}", squid.logs());
}

#[e2e::lab::needs(lab, squid, ntlm_fake_auth, negotiate_kerberos_auth, curl)]
#[test]
fn squid_ntlm_fake_auth_runs_curls_ntlm_handshake() {
    if !lab::require(&["squid", "ntlm_fake_auth", "negotiate_kerberos_auth", "curl"]) {
        return;
    }
    let target = http_peer_on_loopback();
    let squid = Squid::start(
        &Site::Host,
        LOCALHOST,
        0,
        &SquidConfig::default().negotiate().ntlm(),
    );
    let url = format!("http://{}/", target.addr);

    let (status, run) = through(&Site::Host, &squid.url(), &url);
    assert_eq!(status, "407", "{run:?}\n{}", squid.logs());
    let ntlm = curl(
        &Site::Host,
        10,
        &[
            "-x",
            &squid.url(),
            "--proxytunnel",
            "--proxy-ntlm",
            "--proxy-user",
            "LAB\\curl-user:any-password",
            "-w",
            "\n%{http_connect}",
            &url,
        ],
    );
    assert!(
        ntlm.code == 0 && ntlm.stdout.starts_with("ok\n") && ntlm.stdout.ends_with("200"),
        "{ntlm:?}\n{}",
        squid.logs()
    );
    let log = squid.access_log_with(|l| l.contains("curl-user"), Duration::from_secs(10));
    assert!(log.contains("curl-user"), "{log}");
    // Without a keytab Negotiate is only offered: curl's verbose trace shows both challenges.
    let verbose = curl(
        &Site::Host,
        10,
        &["-v", "-x", &squid.url(), "--proxytunnel", &url],
    );
    let challenges: Vec<&str> = verbose
        .stderr
        .lines()
        .filter(|l| l.to_ascii_lowercase().starts_with("< proxy-authenticate:"))
        .collect();
    assert_eq!(challenges.len(), 2, "{}", verbose.stderr);
    assert!(
        challenges[0].ends_with("Negotiate") && challenges[1].ends_with("NTLM"),
        "{challenges:?}"
    );
}

#[e2e::lab::needs(lab, squid)]
#[test]
fn squid_read_timeout_closes_an_idle_tunnel() {
    if !lab::require(&["squid"]) {
        return;
    }
    let echo = peer::Peer::start(
        &Site::Host,
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
        peer::Behaviour::Echo,
    );
    let config = SquidConfig::default().read_timeout(Duration::from_secs(2));
    let squid = Squid::start(&Site::Host, LOCALHOST, 0, &config);
    let mut conn = std::net::TcpStream::connect(squid.addr).expect("connect to squid");
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(conn, "CONNECT {0} HTTP/1.1\r\nHost: {0}\r\n\r\n", echo.addr).unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        conn.read_exact(&mut byte).expect("CONNECT response");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    conn.write_all(b"x").unwrap();
    conn.read_exact(&mut byte).expect("echo through the tunnel");

    let idle_from = Instant::now();
    let mut rest = [0u8; 64];
    let end = conn.read(&mut rest);
    let idle = idle_from.elapsed();
    match end {
        Ok(0) => {}
        Err(e) if e.kind() == ErrorKind::ConnectionReset => {}
        other => panic!("expected Squid to close the idle tunnel, got {other:?} after {idle:?}"),
    }
    assert!(
        idle >= Duration::from_millis(1500) && idle < Duration::from_secs(6),
        "tunnel closed after {idle:?}, read_timeout is 2 s\n{}",
        squid.logs()
    );
}

#[e2e::lab::needs(lab, nft, squid, curl)]
#[test]
fn squid_in_the_router_is_the_only_way_out() {
    if !lab::require(&["nft", "squid", "curl"]) {
        return;
    }
    let topo = Topology::new();
    topo.apply(&[firewall::forward_nothing()]);
    let target = peer::Peer::start(
        &topo.server_site(),
        SocketAddr::from((topo.server_ip, 443)),
        peer::Behaviour::HttpOk,
    );
    let squid = Squid::start(
        &topo.router_site(),
        IpAddr::V4(topo.router_client_ip),
        3128,
        &SquidConfig::default(),
    );
    let url = format!("http://{}/", target.addr);
    let direct = curl(&topo.client_site(), 2, &[&url]);
    assert_eq!(direct.code, 28, "direct path must be closed: {direct:?}");
    let (status, run) = through(&topo.client_site(), &squid.url(), &url);
    assert_eq!(
        (status.as_str(), run.code),
        ("200", 0),
        "{run:?}\n{}",
        squid.logs()
    );
}
