//! The real probe through the lab: its verdicts match what the router's firewall and the lab's
//! DNS server actually did (tcp `timeout` / `refused`, dns `resolved` / `nxdomain` / `timeout`,
//! idle `silent_drop` / `reset` with a bracket containing T), against the real mock-relay.

use e2e::lab::{self, firewall, peer, probe, Dnsmasq, DnsmasqConfig, MockRelay, Topology};
use e2e::probe_cli::ProbeRun;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

const PORT: u16 = 9350;
const LIMIT: Duration = Duration::from_secs(60);

fn outcome(run: &ProbeRun, check: &str) -> String {
    run.check(check)["outcome"]
        .as_str()
        .unwrap_or_else(|| panic!("no outcome for {check}: {}\n{}", run.stdout, run.stderr))
        .to_string()
}

async fn probe_tcp(topo: &Topology, host: &str, extra: &[&str]) -> ProbeRun {
    let target = format!("tcp://{host}:{PORT}");
    let mut args = vec![
        "run",
        "--target",
        &target,
        "--format",
        "json",
        "--timeout",
        "2",
        "--quick",
    ];
    args.extend_from_slice(extra);
    probe::run(&topo.client_site(), &args, LIMIT).await
}

fn echo(topo: &Topology) -> peer::Peer {
    peer::Peer::start(
        &topo.server_site(),
        SocketAddr::from((topo.server_ip, PORT)),
        peer::Behaviour::Echo,
    )
}

#[e2e::lab::needs(lab, nft)]
#[tokio::test]
async fn block_port_gives_tcp_timeout_and_reject_port_refused() {
    if !lab::require(&["nft"]) {
        return;
    }
    let topo = Topology::new();
    let _echo = echo(&topo);
    let server = topo.server_ip.to_string();

    let open = probe_tcp(&topo, &server, &[]).await;
    assert_eq!(outcome(&open, "tcp"), "connected", "{}", open.stdout);
    assert_eq!(open.code, 0);

    topo.apply(&[firewall::block_port(PORT)]);
    let blocked = probe_tcp(&topo, &server, &[]).await;
    assert_eq!(outcome(&blocked, "tcp"), "timeout", "{}", blocked.stdout);
    assert_eq!(blocked.code, 1);

    topo.apply(&[firewall::reject_port(PORT)]);
    let rejected = probe_tcp(&topo, &server, &[]).await;
    assert_eq!(outcome(&rejected, "tcp"), "refused", "{}", rejected.stdout);
    assert_eq!(rejected.code, 1);
}

#[e2e::lab::needs(lab, dnsmasq)]
#[tokio::test]
async fn dnsmasq_gives_resolved_nxdomain_and_timeout() {
    if !lab::require(&["dnsmasq"]) {
        return;
    }
    let topo = Topology::new();
    let _echo = echo(&topo);
    let config = DnsmasqConfig::new()
        .a("ns-sb2-lab.lab.test", topo.server_ip)
        .cname("relay.lab.test", "ns-sb2-lab.lab.test");
    let dns = Dnsmasq::start(&topo.server_site(), IpAddr::V4(topo.server_ip), 53, &config);
    let server = dns.addr.to_string();
    let with_dns = ["--dns-server", server.as_str()];

    let resolved = probe_tcp(&topo, "relay.lab.test", &with_dns).await;
    assert_eq!(outcome(&resolved, "dns"), "resolved", "{}", resolved.stdout);
    assert_eq!(
        outcome(&resolved, "tcp"),
        "connected",
        "{}",
        resolved.stdout
    );
    let cnames = &resolved.check("dns")["cname_chain"];
    assert!(
        cnames.to_string().contains("ns-sb2-lab.lab.test"),
        "{cnames}"
    );

    let missing = probe_tcp(&topo, "missing.lab.test", &with_dns).await;
    assert_eq!(outcome(&missing, "dns"), "nxdomain", "{}", missing.stdout);

    let silent = probe_tcp(&topo, "relay.slow.lab.test", &with_dns).await;
    assert_eq!(outcome(&silent, "dns"), "timeout", "{}", silent.stdout);
    assert_eq!(silent.code, 1);
}

#[e2e::lab::needs(lab, nft)]
#[tokio::test]
async fn probe_reaches_mock_relay_across_the_router() {
    if !lab::require(&["nft"]) {
        return;
    }
    let topo = Topology::new();
    let relay = MockRelay::start(
        &topo.server_site(),
        SocketAddr::from((topo.server_ip, 443)),
        &["--hostname", "relay.lab.test"],
    );
    let resolve = format!("relay.lab.test:443:{}", topo.server_ip);
    let ca = relay.ca_path.display().to_string();
    let run = probe::run(
        &topo.client_site(),
        &[
            "run",
            "--target",
            "https://relay.lab.test/",
            "--resolve",
            &resolve,
            "--ca-file",
            &ca,
            "--format",
            "json",
            "--timeout",
            "5",
            "--quick",
        ],
        LIMIT,
    )
    .await;
    assert_eq!(
        outcome(&run, "tls"),
        "ok",
        "{}\n{}",
        run.stdout,
        relay.log()
    );
    assert_eq!(run.code, 0, "{}", run.stdout);
}

/// Runs the probe's idle ladder (1..=6 s by 1 s, 5 s required) against a mock-relay behind
/// the router with `rule`, returning the run, the idle check, the target's idle report and the
/// relay's log (what it saw of each connection, for failure messages).
async fn idle_through(rule: lab::Rule) -> (ProbeRun, serde_json::Value, serde_json::Value, String) {
    let topo = Topology::new();
    topo.apply(&[rule]);
    let relay = MockRelay::start(
        &topo.server_site(),
        SocketAddr::from((topo.server_ip, 443)),
        &["--hostname", "relay.lab.test"],
    );
    let resolve = format!("relay.lab.test:443:{}", topo.server_ip);
    let ca = relay.ca_path.display().to_string();
    let run = probe::run(
        &topo.client_site(),
        &[
            "run",
            "--target",
            "https://relay.lab.test/",
            "--resolve",
            &resolve,
            "--ca-file",
            &ca,
            "--format",
            "json",
            "--timeout",
            "3",
            "--idle",
            "5",
            "--idle-min",
            "1",
            "--idle-max",
            "6",
            "--idle-step",
            "1",
        ],
        LIMIT,
    )
    .await;
    let check = run.check("idle");
    let report = run.json()["targets"][0]["idle"].clone();
    (run, check, report, relay.log())
}

/// The bracket (survived_s, failed_s) of an idle report contains `t`.
fn assert_bracket_contains(idle: &serde_json::Value, t: f64) {
    let survived = idle["survived_s"].as_f64().unwrap_or(0.0);
    let failed = idle["failed_s"]
        .as_f64()
        .unwrap_or_else(|| panic!("no failure seen: {idle:#}"));
    assert!(
        survived <= t && t <= failed,
        "bracket [{survived}, {failed}] should contain {t}: {idle:#}"
    );
}

#[e2e::lab::needs(lab, nft)]
#[tokio::test]
async fn blackhole_after_t_gives_idle_silent_drop_bracketing_t() {
    if !lab::require(&["nft"]) {
        return;
    }
    let (run, check, report, log) =
        idle_through(firewall::blackhole_after(Duration::from_secs(3))).await;
    assert_eq!(check["outcome"], "silent_drop", "{}\n{log}", run.stdout);
    assert_eq!(report["failure"], "silent_drop", "{report:#}");
    assert_bracket_contains(&report, 3.0);
    assert_eq!(run.code, 1);
}

#[e2e::lab::needs(lab, nft)]
#[tokio::test]
async fn reset_after_t_gives_idle_reset_bracketing_t() {
    if !lab::require(&["nft"]) {
        return;
    }
    let (run, check, report, log) =
        idle_through(firewall::reset_after(Duration::from_secs(3))).await;
    assert_eq!(check["outcome"], "reset", "{}\n{log}", run.stdout);
    assert_eq!(report["failure"], "reset", "{report:#}");
    assert_bracket_contains(&report, 3.0);
    assert_eq!(run.code, 1);
}

#[e2e::lab::needs(lab, nft, dnsmasq, squid, basic_ncsa_auth, htpasswd)]
#[tokio::test]
async fn squid_in_the_router_is_the_probes_only_way_out() {
    if !lab::require(&["nft", "dnsmasq", "squid", "basic_ncsa_auth", "htpasswd"]) {
        return;
    }
    let topo = Topology::new();
    topo.apply(&[firewall::forward_nothing()]);
    let dns = Dnsmasq::start(
        &topo.server_site(),
        IpAddr::V4(topo.server_ip),
        53,
        &DnsmasqConfig::new().a("relay.lab.test", topo.server_ip),
    );
    let relay = MockRelay::start(
        &topo.server_site(),
        SocketAddr::from((topo.server_ip, 443)),
        &["--hostname", "relay.lab.test"],
    );
    let squid = lab::Squid::start(
        &topo.router_site(),
        IpAddr::V4(topo.router_client_ip),
        3128,
        &lab::SquidConfig::default()
            .user("agent", "s3cret")
            .dns_server(dns.addr.ip()),
    );
    let ca = relay.ca_path.display().to_string();
    let run_with = |proxy: String| {
        let site = topo.client_site();
        let ca = ca.clone();
        async move {
            let mut args = vec![
                "run".to_string(),
                "--target".into(),
                "https://relay.lab.test/".into(),
                "--ca-file".into(),
                ca,
                "--format".into(),
                "json".into(),
                "--timeout".into(),
                "3".into(),
                "--quick".into(),
            ];
            if !proxy.is_empty() {
                args.extend(["--proxy".to_string(), proxy]);
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            probe::run(&site, &args, LIMIT).await
        }
    };
    let through = run_with(squid.url_with("agent", "s3cret")).await;
    assert_eq!(
        outcome(&through, "tls"),
        "ok",
        "{}\n{}",
        through.stdout,
        squid.logs()
    );
    assert_eq!(through.code, 0, "{}", through.stdout);

    let wrong = run_with(squid.url_with("agent", "nope")).await;
    assert!(
        wrong.stdout.contains("proxy_auth_required"),
        "{}",
        wrong.stdout
    );
    assert_eq!(wrong.code, 1);
}
