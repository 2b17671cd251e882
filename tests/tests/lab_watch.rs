//! `probe watch` through the lab, faults injected while it runs (seconds scale: a push about
//! every second, 2 s deadlines): the router's firewall forgets its connections, a route
//! blackholes the relay, the middlebox restarts, mock-relay is killed and restarted, a burst of
//! random loss. Each time the watch detects the incident within one push interval plus its
//! deadlines, names the cause the wire showed, reopens its listener, keeps its books right, and
//! its incident window contains the moment of the fault.

use e2e::lab::{self, firewall, LabProcess, MockRelay, Rule, Topology};
use e2e::watch_events::{self as ev, failed, of};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use time::OffsetDateTime;

const HOST: &str = "relay.lab.test";
/// The lab's shared access key (base64 of `lab-watch-key`).
const KEY: &str = "bGFiLXdhdGNoLWtleQ==";
const MIDDLEBOX_PORT: u16 = 8443;
/// The longest gap between pushes (three times the 1 s mean), plus the deadlines a failure
/// takes to be judged (2 s answer, up to 3 s of kernel evidence), plus slack for a loaded host.
const DETECTION_LIMIT: f64 = 3.0 + 2.0 + 3.0 + 2.0;

struct Lab {
    topo: Topology,
    relay: Option<MockRelay>,
    middlebox: Option<LabProcess>,
    dir: tempfile::TempDir,
    port: u16,
}

impl Lab {
    fn start(rules: &[Rule], via_middlebox: bool) -> Lab {
        let topo = Topology::new();
        topo.apply(rules);
        let dir = lab::names::temp_dir("watch");
        let leaf = dir.path().join("leaf.pem").display().to_string();
        let key = dir.path().join("key.pem").display().to_string();
        let relay = MockRelay::start(
            &topo.server_site(),
            SocketAddr::from((topo.server_ip, 443)),
            &[
                "--hostname",
                HOST,
                "--sas-key",
                KEY,
                "--cert-out",
                &leaf,
                "--key-out",
                &key,
            ],
        );
        let mut lab = Lab {
            topo,
            relay: Some(relay),
            middlebox: None,
            dir,
            port: 443,
        };
        if via_middlebox {
            lab.start_middlebox();
            lab.port = MIDDLEBOX_PORT;
        }
        lab
    }

    /// Starts mock-relay again on the same address, with the same certificate and key.
    fn restart_relay(&self) -> LabProcess {
        let d = self.dir.path();
        let listen = SocketAddr::from((self.topo.server_ip, 443));
        let args = [
            "serve".to_string(),
            "--listen".into(),
            listen.to_string(),
            "--cert".into(),
            d.join("leaf.pem").display().to_string(),
            "--key".into(),
            d.join("key.pem").display().to_string(),
            "--ca-out".into(),
            d.join("ca-again.pem").display().to_string(),
            "--sas-key".into(),
            KEY.into(),
        ];
        let mut p = LabProcess::spawn(
            &self.topo.server_site(),
            "mock-relay-again",
            e2e::bins::mock_relay(),
            &args,
            d,
        );
        p.wait_tcp(listen, Duration::from_secs(20));
        p
    }

    fn start_middlebox(&mut self) {
        let ip = self.topo.server_ip;
        let listen = SocketAddr::from((ip, MIDDLEBOX_PORT));
        let args = [
            "middlebox".to_string(),
            "--listen".into(),
            listen.to_string(),
            "--upstream".into(),
            format!("{ip}:443"),
            "--idle-timeout".into(),
            "3600".into(),
            "--on-idle".into(),
            "reset".into(),
        ];
        let mut p = LabProcess::spawn(
            &self.topo.server_site(),
            "middlebox",
            e2e::bins::mock_relay(),
            &args,
            self.dir.path(),
        );
        p.wait_tcp(listen, Duration::from_secs(20));
        self.middlebox = Some(p);
    }

    fn events_path(&self) -> PathBuf {
        self.dir.path().join("events.jsonl")
    }

    /// `probe watch` in the client namespace on the relay (and, with `hc`, a hybrid connection).
    fn watch(&self, hc: bool) -> LabProcess {
        let ca = self
            .relay
            .as_ref()
            .expect("relay")
            .ca_path
            .display()
            .to_string();
        let target = format!("relay://{HOST}:{}/", self.port);
        let resolve = format!("{HOST}:{}:{}", self.port, self.topo.server_ip);
        let events = self.events_path().display().to_string();
        let connection = format!(
            "Endpoint=sb://{HOST}/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={KEY};EntityPath=hc1"
        );
        let mut args = vec![
            "watch",
            "--target",
            &target,
            "--resolve",
            &resolve,
            "--ca-file",
            &ca,
            "--timeout",
            "2",
            "--push-every",
            "1s",
            "--keepalive",
            "none",
            "--for",
            "150s",
            "--events",
            &events,
            "--seed",
            "7",
        ];
        if hc {
            args.extend(["--hybrid-connection", &connection]);
        }
        LabProcess::spawn(
            &self.topo.client_site(),
            "probe-watch",
            e2e::bins::probe(),
            &args,
            self.dir.path(),
        )
    }
}

fn targets(hc: bool) -> Vec<&'static str> {
    if hc {
        vec![HOST, "relay.lab.test/hc1"]
    } else {
        vec![HOST]
    }
}

fn delivered_on_each(events: &[Value], targets: &[&str], n: usize) -> bool {
    targets.iter().all(|t| {
        of(events, "push", Some(t))
            .iter()
            .filter(|p| p["outcome"] == "delivered")
            .count()
            >= n
    })
}

/// Runs the watch, injects the fault once it delivers (`begin`, then `end` after `lasting`),
/// and checks what it made of it: the first incident's cause is one of `causes` on every
/// target, and its window overlaps the fault's.
fn fault_case(
    lab: &mut Lab,
    hc: bool,
    causes: &[&str],
    begin: impl FnOnce(&mut Lab) + Send,
    lasting: Duration,
    end: impl FnOnce(&mut Lab) + Send,
) {
    let mut watch = lab.watch(hc);
    let path = lab.events_path();
    let names = targets(hc);
    ev::wait_for(&path, Duration::from_secs(40), |e| {
        delivered_on_each(e, &names, 2)
    });
    begin(lab);
    let fault_at = OffsetDateTime::now_utc();
    let (detected_after, fault_end) = std::thread::scope(|s| {
        let path = &path;
        let names = &names;
        let detect = s.spawn(move || {
            ev::wait_for(path, Duration::from_secs(40), |e| {
                names
                    .iter()
                    .all(|t| of(e, "push", Some(t)).iter().any(|p| failed(p)))
            });
            (OffsetDateTime::now_utc() - fault_at).as_seconds_f64()
        });
        // The outage under test.
        std::thread::sleep(lasting);
        let fault_end = OffsetDateTime::now_utc();
        end(lab);
        (detect.join().expect("detection"), fault_end)
    });
    assert!(
        detected_after <= DETECTION_LIMIT,
        "the fault was detected after {detected_after:.1} s, past {DETECTION_LIMIT} s"
    );
    // The path is back: every target ends its incident with a good delivery.
    ev::wait_for(&path, Duration::from_secs(60), |e| {
        names.iter().all(|t| {
            of(e, "push", Some(t)).iter().any(|p| failed(p))
                && of(e, "push", Some(t)).last().is_some_and(|p| !failed(p))
        })
    });
    watch.signal(libc::SIGTERM);
    let (code, log) = watch.wait_status(Duration::from_secs(30));
    assert_eq!(code, Some(1), "an incident: exit 1\n{log}");
    assert!(log.contains("probe watch: stopped (SIGTERM)"), "{log}");
    let events = ev::read(&path);
    for t in &names {
        let pushes = of(&events, "push", Some(t));
        let first_failed = pushes.iter().find(|p| failed(p)).expect("a failed push");
        let first_failed_at = ev::time(first_failed, "time");
        assert!(
            pushes
                .iter()
                .filter(|p| ev::time(p, "time") < fault_at)
                .all(|p| !failed(p)),
            "{t}: no failure before the fault"
        );
        assert!(
            (first_failed_at - fault_at).as_seconds_f64() <= 3.5,
            "{t}: the first failed push {first_failed} came more than a push interval after the fault"
        );
        let incidents = of(&events, "incident", Some(t));
        let first = incidents
            .first()
            .unwrap_or_else(|| panic!("{t}: no incident\n{log}"));
        let cause = first["cause"].as_str().unwrap_or_default();
        assert!(
            causes.contains(&cause),
            "{t}: cause {cause}, expected one of {causes:?}: {first}"
        );
        let (after, end) = (ev::time(first, "start_after"), ev::time(first, "end"));
        assert!(
            after <= fault_end && fault_at <= end,
            "{t}: the incident window {after} .. {end} should overlap the fault, {fault_at} .. {fault_end}"
        );
        assert!(
            of(&events, "reopen", Some(t))
                .iter()
                .any(|r| r["ok"] == true),
            "{t}: the listener was reopened"
        );
        ev::assert_counts_add_up(&events, t);
        assert!(
            log.contains(&format!("{t}  ")),
            "the summary names {t}:\n{log}"
        );
    }
    assert!(log.contains("pushes failed ("), "{log}");
}

#[e2e::lab::needs(lab, nft, conntrack)]
#[test]
fn the_firewall_forgets_its_connections() {
    if !lab::require(&["nft", "conntrack"]) {
        return;
    }
    // The idle rule makes the firewall stateful: a packet of a connection it no longer knows
    // is invalid, and dropped.
    let mut lab = Lab::start(
        &[firewall::blackhole_after(Duration::from_secs(3600))],
        false,
    );
    // The relay's own listener only: a mock-relay, like the service, keeps handing senders to
    // a hybrid connection listener whose connection the firewall forgot (its own packets to it
    // are dropped as invalid too), until its TCP gives up.
    fault_case(
        &mut lab,
        false,
        &["silent_drop"],
        |lab| {
            lab.topo.router_site().run("conntrack", &["-F"]);
        },
        Duration::ZERO,
        |_| {},
    );
}

#[e2e::lab::needs(lab, nft)]
#[test]
fn a_route_blackholes_the_relay_for_a_while() {
    if !lab::require(&["nft"]) {
        return;
    }
    let mut lab = Lab::start(
        &[firewall::blackhole_after(Duration::from_secs(3600))],
        false,
    );
    let server = format!("{}/32", lab.topo.server_ip);
    fault_case(
        &mut lab,
        true,
        &["silent_drop"],
        |lab| {
            lab.topo.router.ip(&["route", "add", "blackhole", &server]);
        },
        Duration::from_secs(6),
        |lab| {
            lab.topo.router.ip(&["route", "del", "blackhole", &server]);
        },
    );
}

#[e2e::lab::needs(lab, nft)]
#[test]
fn the_middlebox_restarts() {
    if !lab::require(&["nft"]) {
        return;
    }
    let mut lab = Lab::start(&[], true);
    fault_case(
        &mut lab,
        false,
        &["refused"],
        |lab| drop(lab.middlebox.take()),
        Duration::from_secs(3),
        |lab| lab.start_middlebox(),
    );
    let events = ev::read(&lab.events_path());
    let reopen = of(&events, "reopen", None)[0];
    assert!(
        ["closed", "reset", "tls_close_notify"]
            .contains(&reopen["reason"].as_str().unwrap_or_default()),
        "the listener's connection ended when the middlebox went: {reopen}"
    );
}

#[e2e::lab::needs(lab, nft)]
#[test]
fn mock_relay_is_killed_and_restarted() {
    if !lab::require(&["nft"]) {
        return;
    }
    let mut lab = Lab::start(&[], false);
    let mut again = None;
    fault_case(
        &mut lab,
        true,
        &["refused"],
        |lab| drop(lab.relay.take()),
        Duration::from_secs(3),
        |lab| again = Some(lab.restart_relay()),
    );
    drop(again);
}

#[e2e::lab::needs(lab, nft)]
#[test]
fn a_burst_of_random_loss() {
    if !lab::require(&["nft"]) {
        return;
    }
    let mut lab = Lab::start(&[], false);
    fault_case(
        &mut lab,
        false,
        &["silent_drop"],
        |lab| lab.topo.apply(&[firewall::loss(95)]),
        Duration::from_secs(6),
        |lab| lab.topo.apply(&[]),
    );
    // The kernel's evidence came with the verdicts: segments unacknowledged or retransmitted.
    let events = ev::read(&lab.events_path());
    let failures: Vec<&Value> = of(&events, "push", None)
        .into_iter()
        .filter(|p| failed(p))
        .collect();
    assert!(
        failures.iter().any(|p| {
            let e = &p["evidence"];
            e["unacked"].as_u64().unwrap_or(0) > 0
                || e["total_retransmits"].as_u64().unwrap_or(0) > 0
        }),
        "a silent drop on a lossy path carries the kernel's word: {failures:#?}"
    );
}
