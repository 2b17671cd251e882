//! The router's nftables profiles do to real TCP connections what they promise: a blocked port
//! times out, a rejected port is refused, and an idle connection past the conntrack timeout
//! goes silent (blackhole) or is reset (reset) while a shorter idle one survives.

use e2e::lab::{self, curl::curl, firewall, peer, Topology};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const PORT: u16 = 9350;

fn echo_topology(rules: &[lab::Rule]) -> (Topology, peer::Peer) {
    let topo = Topology::new();
    topo.apply(rules);
    let echo = peer::Peer::start(
        &topo.server_site(),
        SocketAddr::from((topo.server_ip, PORT)),
        peer::Behaviour::Echo,
    );
    (topo, echo)
}

#[e2e::lab::needs(lab, nft, curl)]
#[test]
fn block_port_makes_connect_time_out() {
    if !lab::require(&["nft", "curl"]) {
        return;
    }
    let (topo, echo) = echo_topology(&[firewall::block_port(PORT)]);
    let started = Instant::now();
    let err = peer::connect(&topo.client_site(), echo.addr, Duration::from_secs(2)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(started.elapsed() >= Duration::from_millis(1900));
    let run = curl(&topo.client_site(), 2, &[&format!("http://{}/", echo.addr)]);
    assert_eq!(run.code, 28, "curl should time out: {run:?}");
}

#[e2e::lab::needs(lab, nft, curl)]
#[test]
fn reject_port_makes_connect_refused() {
    if !lab::require(&["nft", "curl"]) {
        return;
    }
    let (topo, echo) = echo_topology(&[firewall::reject_port(PORT)]);
    let started = Instant::now();
    let err = peer::connect(&topo.client_site(), echo.addr, Duration::from_secs(5)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ConnectionRefused, "{err}");
    // Refused at once, not after the 5 s connect deadline a dropped SYN would meet.
    assert!(started.elapsed() < e2e::slack::late(Duration::from_secs(3)));
    let run = curl(&topo.client_site(), 5, &[&format!("http://{}/", echo.addr)]);
    assert_eq!(run.code, 7, "curl should be refused: {run:?}");
    // Other ports still pass.
    let other = peer::Peer::start(
        &topo.server_site(),
        SocketAddr::from((topo.server_ip, PORT + 1)),
        peer::Behaviour::Echo,
    );
    peer::connect(&topo.client_site(), other.addr, Duration::from_secs(5)).expect("other port");
}

/// What a write after `idle` seconds of silence got back.
#[derive(Debug, PartialEq)]
enum AfterIdle {
    Echoed,
    Silence,
    Reset,
}

/// Connects, exchanges a byte, stays idle for `idle`, writes, and waits `wait` for the echo.
fn idle_then_write(topo: &Topology, addr: SocketAddr, idle: Duration, wait: Duration) -> AfterIdle {
    let mut conn: TcpStream =
        peer::connect(&topo.client_site(), addr, Duration::from_secs(5)).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 1];
    conn.write_all(b"a").unwrap();
    conn.read_exact(&mut buf).expect("first echo");
    // The idle period is the thing under test, so this sleep is the experiment, not a wait.
    std::thread::sleep(idle);
    if conn.write_all(b"b").is_err() {
        return AfterIdle::Reset;
    }
    conn.set_read_timeout(Some(wait)).unwrap();
    match conn.read(&mut buf) {
        Ok(1) => AfterIdle::Echoed,
        Ok(_) => panic!("unexpected EOF after idle"),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
            AfterIdle::Silence
        }
        Err(e) if e.kind() == ErrorKind::ConnectionReset => AfterIdle::Reset,
        Err(e) => panic!("unexpected error after idle: {e}"),
    }
}

/// Runs a short-idle and a long-idle connection side by side under `rule` (T = 2 s).
fn short_and_long_idle(rule: lab::Rule) -> (AfterIdle, AfterIdle, String) {
    let (topo, echo) = echo_topology(&[rule]);
    let (short, long) = std::thread::scope(|s| {
        let short = s.spawn(|| {
            idle_then_write(
                &topo,
                echo.addr,
                Duration::from_secs(1),
                Duration::from_secs(2),
            )
        });
        let long = s.spawn(|| {
            idle_then_write(
                &topo,
                echo.addr,
                Duration::from_secs(4),
                Duration::from_secs(2),
            )
        });
        (short.join().unwrap(), long.join().unwrap())
    });
    (short, long, firewall::listing(&topo.router))
}

#[e2e::lab::needs(lab, nft)]
#[test]
fn blackhole_after_silences_a_connection_idle_past_t() {
    if !lab::require(&["nft"]) {
        return;
    }
    let (short, long, rules) =
        short_and_long_idle(firewall::blackhole_after(Duration::from_secs(2)));
    assert_eq!(short, AfterIdle::Echoed, "1 s idle is under T\n{rules}");
    assert_eq!(long, AfterIdle::Silence, "4 s idle is past T\n{rules}");
}

#[e2e::lab::needs(lab, nft)]
#[test]
fn reset_after_resets_a_connection_idle_past_t() {
    if !lab::require(&["nft"]) {
        return;
    }
    let (short, long, rules) = short_and_long_idle(firewall::reset_after(Duration::from_secs(2)));
    assert_eq!(short, AfterIdle::Echoed, "1 s idle is under T\n{rules}");
    assert_eq!(long, AfterIdle::Reset, "4 s idle is past T\n{rules}");
}

#[e2e::lab::needs(lab, nft)]
#[test]
fn forward_nothing_cuts_the_client_off() {
    if !lab::require(&["nft"]) {
        return;
    }
    let (topo, echo) = echo_topology(&[firewall::forward_nothing()]);
    let err = peer::connect(&topo.client_site(), echo.addr, Duration::from_secs(1)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    // Removing the firewall restores the path.
    topo.apply(&[]);
    peer::connect(&topo.client_site(), echo.addr, Duration::from_secs(5)).expect("open again");
}
