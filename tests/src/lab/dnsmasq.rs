//! dnsmasq as the lab's DNS server: A, AAAA, CNAME and SRV records from a generated config,
//! NXDOMAIN for unknown names in the local domain, and a domain forwarded to an upstream that
//! never answers (for a DNS `timeout`).

use super::process::LabProcess;
use super::site::Site;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

/// The zone dnsmasq answers for by default: names under it without a record are NXDOMAIN.
pub const DOMAIN: &str = "lab.test";
/// Names under this domain are forwarded to an upstream that never answers.
pub const SILENT_DOMAIN: &str = "slow.lab.test";

/// Records and policies of a dnsmasq instance.
#[derive(Clone, Debug, Default)]
pub struct DnsmasqConfig {
    lines: Vec<String>,
}

impl DnsmasqConfig {
    pub fn new() -> DnsmasqConfig {
        DnsmasqConfig::default()
    }

    /// An A record.
    pub fn a(mut self, name: &str, ip: Ipv4Addr) -> Self {
        self.lines.push(format!("host-record={name},{ip}"));
        self
    }

    /// An AAAA record.
    pub fn aaaa(mut self, name: &str, ip: Ipv6Addr) -> Self {
        self.lines.push(format!("host-record={name},{ip}"));
        self
    }

    /// A CNAME `alias -> target`; dnsmasq serves it only when `target` has a record here.
    pub fn cname(mut self, alias: &str, target: &str) -> Self {
        self.lines.push(format!("cname={alias},{target}"));
        self
    }

    /// An SRV record, e.g. `srv("_ldap._tcp.pdc._msdcs.corp.lab.test", "dc1.corp.lab.test", 389)`.
    pub fn srv(mut self, name: &str, target: &str, port: u16) -> Self {
        self.lines
            .push(format!("srv-host={name},{target},{port},0,100"));
        self
    }

    /// Any extra dnsmasq config line.
    pub fn line(mut self, line: &str) -> Self {
        self.lines.push(line.to_string());
        self
    }
}

/// A running dnsmasq; stopped on drop.
pub struct Dnsmasq {
    /// Where it answers (UDP and TCP).
    pub addr: SocketAddr,
    process: LabProcess,
    // The silent upstream: bound but never read, so forwarded queries get no answer at all.
    _silent: (UdpSocket, TcpListener),
    _dir: tempfile::TempDir,
}

impl Dnsmasq {
    /// Starts dnsmasq in `site` on `ip:port` (port 0: a free port, for loopback; in a lab
    /// namespace 53 is free). Ready when it accepts TCP on that port.
    pub fn start(site: &Site, ip: IpAddr, port: u16, config: &DnsmasqConfig) -> Dnsmasq {
        let port = if port == 0 { free_port(site, ip) } else { port };
        let addr = SocketAddr::new(ip, port);
        let silent = site.enter(|| silent_upstream(ip));
        let silent_addr = silent.0.local_addr().expect("silent upstream addr");
        let dir = super::names::temp_dir("dnsmasq");
        let mut conf = String::new();
        let _ = writeln!(conf, "port={port}");
        let _ = writeln!(conf, "listen-address={ip}");
        let _ = writeln!(conf, "bind-interfaces");
        let _ = writeln!(conf, "user=root");
        let _ = writeln!(
            conf,
            "pid-file={}",
            dir.path().join("dnsmasq.pid").display()
        );
        let _ = writeln!(conf, "log-queries");
        let _ = writeln!(conf, "local=/{DOMAIN}/");
        let _ = writeln!(
            conf,
            "server=/{SILENT_DOMAIN}/{}#{}",
            silent_addr.ip(),
            silent_addr.port()
        );
        for line in &config.lines {
            let _ = writeln!(conf, "{line}");
        }
        let conf_path = dir.path().join("dnsmasq.conf");
        std::fs::write(&conf_path, conf).expect("write dnsmasq.conf");
        let mut process = LabProcess::spawn(
            site,
            "dnsmasq",
            super::tools::require("dnsmasq"),
            &[
                "--keep-in-foreground".to_string(),
                "--log-facility=-".to_string(),
                "--no-resolv".to_string(),
                "--no-hosts".to_string(),
                format!("--conf-file={}", conf_path.display()),
            ],
            dir.path(),
        );
        process.wait_tcp(addr, Duration::from_secs(10));
        Dnsmasq {
            addr,
            process,
            _silent: silent,
            _dir: dir,
        }
    }

    /// dnsmasq's log (queries are logged).
    pub fn log(&self) -> String {
        self.process.log()
    }
}

/// A port that is free for TCP and UDP on `ip` in `site` right now.
/// A UDP socket and a TCP listener on one port of `ip`, both never read. The UDP port is the
/// kernel's choice, and on a busy machine its TCP twin may be taken by another test's
/// connection: then another pair is tried, a bounded number of times.
fn silent_upstream(ip: IpAddr) -> (UdpSocket, TcpListener) {
    for _ in 0..50 {
        let udp = UdpSocket::bind((ip, 0)).expect("bind silent upstream (udp)");
        let port = udp.local_addr().expect("addr").port();
        if let Ok(tcp) = TcpListener::bind((ip, port)) {
            return (udp, tcp);
        }
    }
    panic!("no port free for both UDP and TCP on {ip} for the silent upstream");
}

pub fn free_port(site: &Site, ip: IpAddr) -> u16 {
    site.enter(|| {
        for _ in 0..50 {
            let tcp = TcpListener::bind((ip, 0)).expect("bind for a free port");
            let port = tcp.local_addr().expect("addr").port();
            if UdpSocket::bind((ip, port)).is_ok() {
                return port;
            }
        }
        panic!("no port free for both TCP and UDP on {ip}");
    })
}
