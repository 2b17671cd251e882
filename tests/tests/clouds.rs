//! `--cloud usgov` and `--cloud china` end to end: the built-in scenario's targets of that
//! cloud, by their real host names, against a local mock-relay that answers for them (each name
//! pinned to a loopback address with `--resolve`; any other lookup goes to a closed local port,
//! so nothing leaves the machine).

use e2e::lab;
use e2e::probe_cli::{assert_matches_schema, run, ProbeRun};
use e2e::relay::Relay;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(90);

/// `127.B.8.1`, B from the process id (two runs of the suite at once bind apart).
fn address() -> String {
    format!("127.{}.8.1", 100 + std::process::id() % 150)
}

/// The built-in scenario for `cloud`, every name in `hosts` resolved to a mock-relay on 443.
async fn rehearse(cloud: &str, hosts: &[&str]) -> ProbeRun {
    let address = address();
    let listen = format!("{address}:443");
    let mut relay_args = vec!["--listen", listen.as_str()];
    for host in hosts {
        relay_args.extend(["--hostname", host]);
    }
    let relay = Relay::serve(&relay_args).await;
    let ca = relay.ca_file();
    // Nothing answers DNS here: a lookup the test did not pin fails instead of leaving.
    let no_dns = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dns = no_dns.local_addr().unwrap().to_string();
    drop(no_dns);
    let resolves: Vec<String> = hosts.iter().map(|h| format!("{h}:443:{address}")).collect();
    let mut args = vec!["run", "--cloud", cloud, "--quick", "--ca-file", &ca];
    args.extend(["--dns-server", &dns, "--format", "json", "--timeout", "3"]);
    for r in &resolves {
        args.extend(["--resolve", r.as_str()]);
    }
    let run = run(&args, LIMIT).await;
    assert_matches_schema(&run.json());
    drop(relay);
    run
}

/// The run probed exactly `expected` (target name, host), each reached by TLS and HTTP.
fn assert_reached(cloud: &str, run: &ProbeRun, expected: &[(&str, &str)]) {
    let json = run.json();
    assert_eq!(json["cloud"], cloud, "{}", run.stdout);
    let targets = json["targets"].as_array().expect("targets");
    let names: Vec<&str> = targets.iter().filter_map(|t| t["name"].as_str()).collect();
    let want: Vec<&str> = expected.iter().map(|(n, _)| *n).collect();
    assert_eq!(names, want, "{}", run.stdout);
    for (t, (name, host)) in targets.iter().zip(expected) {
        assert!(
            t["url"].as_str().unwrap_or_default().contains(host),
            "{name}: {t:#}"
        );
        for (check, outcome) in [("tls", "ok"), ("http", "response")] {
            let c = t["checks"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["check"] == check))
                .unwrap_or_else(|| panic!("{name}: no {check} check: {t:#}"));
            assert_eq!(c["outcome"], outcome, "{name}: {c:#}");
        }
    }
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
}

#[e2e::lab::needs(lab)]
#[tokio::test]
async fn cloud_usgov_probes_the_us_government_hosts() {
    if !lab::require(&[]) {
        return;
    }
    let expected = [("passwordreset-usgov", "passwordreset.microsoftonline.us")];
    let hosts: Vec<&str> = expected.iter().map(|(_, h)| *h).collect();
    let run = rehearse("usgov", &hosts).await;
    assert_reached("usgov", &run, &expected);
}

#[e2e::lab::needs(lab)]
#[tokio::test]
async fn cloud_china_probes_the_21vianet_relay_hosts() {
    if !lab::require(&[]) {
        return;
    }
    let expected = [
        (
            "sspr-relay-cne",
            "ssprdedicatedsbmcprodcne.servicebus.chinacloudapi.cn",
        ),
        (
            "sspr-relay-cnn",
            "ssprdedicatedsbmcprodcnn.servicebus.chinacloudapi.cn",
        ),
    ];
    let hosts: Vec<&str> = expected.iter().map(|(_, h)| *h).collect();
    let run = rehearse("china", &hosts).await;
    assert_reached("china", &run, &expected);
}
