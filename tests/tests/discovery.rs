//! Writeback-specific discovery against real DNS (dnsmasq: CNAME and SRV records) and real
//! listeners: a relay namespace expands to its gateways and every gateway address is checked,
//! the legacy ports are reported, and the PDC emulator is found by SRV and its ports checked.
//! Listeners use their own 127.x.y.z loopback addresses, so ports below 1024 need root (the
//! lab's requirement anyway).

use e2e::lab::{self, Dnsmasq, DnsmasqConfig, Site};
use e2e::probe_cli::{assert_matches_schema, run, ProbeRun};
use e2e::relay::Relay;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(90);
const NAMESPACE: &str = "labns.servicebus.lab.test";
const DEPLOYMENT: &str = "lab-dep-007";

/// `127.B.n`, a /24 of this test process's own: B comes from the process id, so two runs of the
/// suite at once (a way to load the machine) do not bind the same addresses.
fn subnet(n: u8) -> String {
    format!("127.{}.{n}", 100 + std::process::id() % 150)
}

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn gateway(i: u32) -> String {
    format!("g{i}-{DEPLOYMENT}-sb.servicebus.lab.test")
}

fn dns(config: DnsmasqConfig) -> Dnsmasq {
    Dnsmasq::start(&Site::Host, IpAddr::V4(Ipv4Addr::LOCALHOST), 0, &config)
}

/// A relay namespace whose gateways g0, g1, g5 sit at `net`.1, .2, .1 and g2 at `net`.3.
fn namespace_zone(net: &str) -> DnsmasqConfig {
    let cname_target = format!("ns-sb2-{DEPLOYMENT}.cloudapp.lab.test");
    DnsmasqConfig::new()
        .a(&cname_target, ip(&format!("{net}.1")))
        .cname(NAMESPACE, &cname_target)
        .a(&gateway(0), ip(&format!("{net}.1")))
        .a(&gateway(1), ip(&format!("{net}.2")))
        .a(&gateway(2), ip(&format!("{net}.3")))
        .a(&gateway(5), ip(&format!("{net}.1")))
}

/// A scenario with no targets of its own, so a run checks only what its flags add.
fn empty_scenario(dir: &std::path::Path) -> String {
    let path = dir.join("empty.toml");
    std::fs::write(&path, "name = \"discovery-lab\"\n").unwrap();
    path.display().to_string()
}

async fn probe_namespace(relay: &Relay, dns: &Dnsmasq) -> ProbeRun {
    let (ca, server) = (relay.ca_file(), dns.addr.to_string());
    let scenario = empty_scenario(relay.dir());
    let args = [
        "run",
        &scenario,
        "--relay-namespace",
        NAMESPACE,
        "--dns-server",
        &server,
        "--ca-file",
        &ca,
        "--quick",
        "--timeout",
        "2",
        "--format",
        "json",
    ];
    let run = run(&args, LIMIT).await;
    assert_matches_schema(&run.json());
    run
}

#[e2e::lab::needs(lab, dnsmasq)]
#[tokio::test]
async fn a_namespace_expands_to_its_gateways_and_a_dead_gateway_address_is_named() {
    if !lab::require(&["dnsmasq"]) {
        return;
    }
    let net = &subnet(1);
    let dns = dns(namespace_zone(net));
    let mut args = vec![
        "--hostname".to_string(),
        "*.servicebus.lab.test".to_string(),
    ];
    for a in [format!("{net}.1:443"), format!("{net}.2:443")] {
        args.extend(["--listen".to_string(), a]);
    }
    for port in 9350..=9354 {
        args.extend(["--plain-listen".to_string(), format!("{net}.1:{port}")]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let relay = Relay::serve(&args).await;
    let run = probe_namespace(&relay, &dns).await;

    assert_eq!(
        run.json()["targets"][0]["name"],
        format!("relay namespace {NAMESPACE}")
    );
    let dns_check = run.check("dns");
    assert!(
        dns_check["cname_chain"][0]
            .as_str()
            .unwrap()
            .contains("ns-sb2-lab-dep-007"),
        "{dns_check}"
    );
    let g = run.check("gateways");
    assert_eq!(
        (g["status"].as_str(), g["outcome"].as_str()),
        (Some("fail"), Some("refused")),
        "{g:#}"
    );
    assert_eq!(g["deployment"], DEPLOYMENT);
    assert_eq!(g["gateways_tried"], 128);
    assert_eq!(g["gateways_resolved"], 4);
    let addresses = g["gateway_addresses"].as_array().unwrap();
    assert_eq!(addresses.len(), 3, "three distinct addresses: {g:#}");
    let dead = addresses
        .iter()
        .find(|a| a["address"] == format!("{net}.3"))
        .unwrap();
    assert_eq!(
        (dead["gateway"].as_str(), dead["outcome"].as_str()),
        (Some(gateway(2).as_str()), Some("refused"))
    );
    for live in addresses
        .iter()
        .filter(|a| a["address"] != format!("{net}.3"))
    {
        assert_eq!(live["outcome"], "ok", "{live}");
    }
    let message = g["message"].as_str().unwrap();
    assert!(
        message.contains(&gateway(2)) && message.contains(&format!("{net}.3")),
        "{message}"
    );

    // 9350-9354 answer, 5671 does not: information, so a warning that names the port.
    let legacy = run.check("legacy_ports");
    assert_eq!(
        (legacy["status"].as_str(), legacy["outcome"].as_str()),
        (Some("warn"), Some("refused")),
        "{legacy:#}"
    );
    assert!(
        legacy["message"].as_str().unwrap().contains("5671"),
        "{legacy:#}"
    );
    assert_eq!(run.code, 1, "a dead gateway fails the run");
}

#[e2e::lab::needs(lab, dnsmasq)]
#[tokio::test]
async fn a_namespace_whose_gateways_all_answer_passes() {
    if !lab::require(&["dnsmasq"]) {
        return;
    }
    let net = &subnet(2);
    let dns = dns(namespace_zone(net));
    let mut args = vec![
        "--hostname".to_string(),
        "*.servicebus.lab.test".to_string(),
    ];
    for a in [
        format!("{net}.1:443"),
        format!("{net}.2:443"),
        format!("{net}.3:443"),
    ] {
        args.extend(["--listen".to_string(), a]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let relay = Relay::serve(&args).await;
    let run = probe_namespace(&relay, &dns).await;
    let g = run.check("gateways");
    assert_eq!(
        (g["status"].as_str(), g["outcome"].as_str()),
        (Some("pass"), Some("ok")),
        "{g:#}"
    );
    assert_eq!(g["gateway_addresses"].as_array().unwrap().len(), 3);
    // Legacy ports are all closed here, and still only warn.
    assert_eq!(run.check("legacy_ports")["status"], "warn");
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// Listens on `addr` for every port in `ports`, accepting and holding connections.
async fn listeners(addr: Ipv4Addr, ports: &[u16]) -> Vec<tokio::task::JoinHandle<()>> {
    let mut tasks = Vec::new();
    for port in ports {
        let l = tokio::net::TcpListener::bind(SocketAddr::from((addr, *port)))
            .await
            .unwrap_or_else(|e| panic!("bind {addr}:{port}: {e}"));
        tasks.push(tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((s, _)) = l.accept().await {
                held.push(s);
            }
        }));
    }
    tasks
}

fn domain_zone(net: &str) -> DnsmasqConfig {
    DnsmasqConfig::new()
        .a("dc1.corp.lab.test", ip(&format!("{net}.1")))
        .a("dc2.corp.lab.test", ip(&format!("{net}.2")))
        .srv(
            "_ldap._tcp.pdc._msdcs.corp.lab.test",
            "dc1.corp.lab.test",
            389,
        )
        .srv(
            "_ldap._tcp.dc._msdcs.corp.lab.test",
            "dc1.corp.lab.test",
            389,
        )
        .srv(
            "_ldap._tcp.dc._msdcs.corp.lab.test",
            "dc2.corp.lab.test",
            389,
        )
}

async fn probe_domain(dns: &Dnsmasq) -> ProbeRun {
    let dir = tempfile::tempdir().unwrap();
    let scenario = empty_scenario(dir.path());
    let server = dns.addr.to_string();
    let args = [
        "run",
        &scenario,
        "--ad-domain",
        "corp.lab.test",
        "--dns-server",
        &server,
        "--timeout",
        "2",
        "--format",
        "json",
    ];
    let run = run(&args, LIMIT).await;
    assert_matches_schema(&run.json());
    run
}

#[e2e::lab::needs(lab, dnsmasq)]
#[tokio::test]
async fn srv_discovery_finds_the_pdc_emulator_and_a_closed_kpasswd_port_fails() {
    if !lab::require(&["dnsmasq"]) {
        return;
    }
    let net = &subnet(3);
    let dns = dns(domain_zone(net));
    let _dc1 = listeners(
        ip(&format!("{net}.1")),
        &[389, 636, 88, 445, 135, 3268, 3269],
    )
    .await;
    let run = probe_domain(&dns).await;
    let pdc = run.check("pdc");
    assert_eq!(
        (pdc["status"].as_str(), pdc["outcome"].as_str()),
        (Some("fail"), Some("refused")),
        "{pdc:#}"
    );
    assert_eq!(pdc["pdc_emulator"], "dc1.corp.lab.test");
    let message = pdc["message"].as_str().unwrap();
    assert!(message.contains("kpasswd 464"), "{message}");
    let controllers = pdc["controllers"].as_array().unwrap();
    assert_eq!(controllers.len(), 2, "{pdc:#}");
    assert_eq!(controllers[0]["role"], "pdc_emulator");
    assert_eq!(controllers[1]["host"], "dc2.corp.lab.test");
    let port = |p: u64| {
        controllers[0]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["port"] == p)
            .unwrap()
            .clone()
    };
    assert_eq!(port(389)["outcome"], "connected");
    assert_eq!(port(464)["outcome"], "refused");
    // LDAPS accepts TCP but this listener never speaks TLS: the handshake is reported.
    assert_eq!(port(636)["tls"], "timeout");
    assert_eq!(run.code, 1);
}

#[e2e::lab::needs(lab, dnsmasq)]
#[tokio::test]
async fn a_reachable_pdc_emulator_passes_even_when_another_dc_is_not() {
    if !lab::require(&["dnsmasq"]) {
        return;
    }
    let net = &subnet(4);
    let dns = dns(domain_zone(net));
    let _dc1 = listeners(ip(&format!("{net}.1")), &[389, 88, 464]).await;
    let run = probe_domain(&dns).await;
    let pdc = run.check("pdc");
    assert_eq!(
        (pdc["status"].as_str(), pdc["outcome"].as_str()),
        (Some("warn"), Some("connected")),
        "{pdc:#}"
    );
    assert!(pdc["message"]
        .as_str()
        .unwrap()
        .contains("dc2.corp.lab.test"));
    assert_eq!(run.code, 0);
}

#[e2e::lab::needs(lab, dnsmasq)]
#[tokio::test]
async fn a_domain_without_a_pdc_srv_record_fails_saying_so() {
    if !lab::require(&["dnsmasq"]) {
        return;
    }
    let dns = dns(DnsmasqConfig::new().a("dc1.corp.lab.test", ip(&format!("{}.1", subnet(5)))));
    let run = probe_domain(&dns).await;
    let pdc = run.check("pdc");
    assert_eq!(pdc["status"], "fail");
    assert!(
        ["nxdomain", "no_records"].contains(&pdc["outcome"].as_str().unwrap()),
        "{pdc:#}"
    );
    assert!(pdc["message"]
        .as_str()
        .unwrap()
        .contains("_ldap._tcp.pdc._msdcs.corp.lab.test"));
}
