//! Proxies, for real: the probe through a real Squid (CONNECT, basic and NTLM auth, a Negotiate
//! challenge, deny ACLs, read_timeout cutting idle tunnels) and a real mitmproxy (TLS
//! interception), with proxy credentials never appearing in any output.

use e2e::lab::{self, Mitmdump, Site, Squid, SquidConfig};
use e2e::probe_cli::{assert_matches_schema, run, ProbeRun};
use e2e::relay::Relay;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const LIMIT: Duration = Duration::from_secs(60);
const USER: &str = "agent";
const PASSWORD: &str = "Pr0xy-s3cret-XYZ";

/// A loopback Squid that never asks a DNS server beyond loopback.
fn squid(config: SquidConfig) -> Squid {
    Squid::start(&Site::Host, LOCALHOST, 0, &config.dns_server(LOCALHOST))
}

async fn probe(relay: &Relay, url: &str, extra: &[&str]) -> ProbeRun {
    let ca = relay.ca_file();
    let mut args = vec!["run", "--target", url, "--ca-file", &ca, "--format", "json"];
    args.extend_from_slice(extra);
    let run = run(&args, LIMIT).await;
    assert_matches_schema(&run.json());
    run
}

fn relay_url(relay: &Relay) -> String {
    format!("relay://127.0.0.1:{}", relay.tls().port())
}

fn assert_no_secret(run: &ProbeRun) {
    assert!(
        !run.stdout.contains(PASSWORD),
        "password in stdout:\n{}",
        run.stdout
    );
    assert!(
        !run.stderr.contains(PASSWORD),
        "password in stderr:\n{}",
        run.stderr
    );
}

#[e2e::lab::needs(lab, squid, basic_ncsa_auth, htpasswd)]
#[tokio::test]
async fn connect_through_squid_with_basic_auth_reaches_the_relay() {
    if !lab::require(&["squid", "basic_ncsa_auth", "htpasswd"]) {
        return;
    }
    let squid = squid(SquidConfig::default().user(USER, PASSWORD));
    let relay = Relay::serve(&[]).await;
    let proxy = squid.url_with(USER, PASSWORD);
    let run = probe(
        &relay,
        &relay_url(&relay),
        &["--proxy", &proxy, "--quick", "-vv"],
    )
    .await;
    assert_eq!(
        run.code,
        0,
        "{}\n{}\n{}",
        run.stdout,
        run.stderr,
        squid.logs()
    );
    let p = run.check("proxy");
    assert_eq!(
        (p["status"].as_str(), p["outcome"].as_str()),
        (Some("pass"), Some("connected"))
    );
    assert_eq!(p["proxy"], format!("http://****@{}", squid.addr));
    assert_eq!(run.check("tls")["outcome"], "ok");
    assert_eq!(run.check("websocket")["outcome"], "upgraded");
    let json = run.json();
    assert_eq!(json["proxy"], format!("http://****@{}", squid.addr));
    assert!(json["targets"][0]["phases_ms"]["proxy_connect"]
        .as_f64()
        .is_some());
    assert_no_secret(&run);
}

#[e2e::lab::needs(lab, squid, basic_ncsa_auth, htpasswd)]
#[tokio::test]
async fn a_wrong_password_is_proxy_auth_required_and_never_shown() {
    if !lab::require(&["squid", "basic_ncsa_auth", "htpasswd"]) {
        return;
    }
    let squid = squid(SquidConfig::default().user(USER, "the-right-one"));
    let relay = Relay::serve(&[]).await;
    let proxy = squid.url_with(USER, PASSWORD);
    for format in ["json", "human"] {
        let ca = relay.ca_file();
        let url = relay_url(&relay);
        let args = [
            "run",
            "--target",
            &url,
            "--ca-file",
            &ca,
            "--proxy",
            &proxy,
            "--quick",
            "--format",
            format,
            "-vv",
            "--log-format",
            "json",
        ];
        let run = run(&args, LIMIT).await;
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert_no_secret(&run);
        if format == "json" {
            let p = run.check("proxy");
            assert_eq!(p["outcome"], "proxy_auth_required", "{p}");
            assert_eq!(p["auth_schemes"][0], "Basic", "{p}");
            assert_eq!(p["status_code"], 407);
            assert_eq!(run.check("tls")["status"], "skip");
        } else {
            assert!(run.stdout.contains("proxy_auth_required"), "{}", run.stdout);
        }
    }
    // Credentials in the environment are as secret as on the command line.
    let url = relay_url(&relay);
    let run = tokio::process::Command::new(e2e::bins::probe())
        .args([
            "run", "--target", &url, "--quick", "--format", "json", "-vv",
        ])
        .env("HTTPS_PROXY", &proxy)
        .output();
    let out = tokio::time::timeout(LIMIT, run).await.unwrap().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("proxy_auth_required"), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
}

#[e2e::lab::needs(lab, squid)]
#[tokio::test]
async fn a_denied_destination_is_proxy_denied() {
    if !lab::require(&["squid"]) {
        return;
    }
    let squid = squid(SquidConfig::default().deny_domain(".blocked.lab.test"));
    let relay = Relay::serve(&[]).await;
    let url = format!("relay://relay.blocked.lab.test:{}", relay.tls().port());
    let run = probe(&relay, &url, &["--proxy", &squid.url(), "--quick"]).await;
    assert_eq!(run.code, 1);
    // Only the proxy was resolved: the client never asks DNS for the target behind a proxy.
    let dns = run.check("dns");
    assert_eq!(dns["addresses"][0], "127.0.0.1", "{dns}");
    let p = run.check("proxy");
    assert_eq!(p["outcome"], "proxy_denied", "{p}");
    assert!(p["message"].as_str().unwrap().contains("403"));
}

#[e2e::lab::needs(lab, squid)]
#[tokio::test]
async fn squid_read_timeout_closes_idle_tunnels_and_the_ladder_says_closed() {
    if !lab::require(&["squid"]) {
        return;
    }
    let squid = squid(SquidConfig::default().read_timeout(Duration::from_secs(3)));
    let relay = Relay::serve(&[]).await;
    let run = probe(
        &relay,
        &relay_url(&relay),
        &[
            "--proxy",
            &squid.url(),
            "--idle",
            "5",
            "--idle-min",
            "1",
            "--idle-max",
            "6",
            "--idle-step",
            "1",
        ],
    )
    .await;
    let idle = &run.json()["targets"][0]["idle"];
    assert_eq!(idle["verdict"], "fail", "{idle:#}\n{}", squid.logs());
    assert_eq!(idle["failure"], "closed", "{idle:#}");
    // Squid checks its timeouts about once a second: the tunnel closes between 3 and 4.5 s.
    let survived = idle["survived_s"].as_f64().unwrap();
    let failed = idle["failed_s"].as_f64().unwrap();
    assert!((2.0..=4.0).contains(&survived), "{idle:#}");
    assert!(
        (3.0..=5.0).contains(&failed) && failed - survived <= 1.0,
        "{idle:#}"
    );
    let message = run.check("idle")["message"].as_str().unwrap().to_string();
    assert!(
        message.contains("FIN without TLS close_notify"),
        "{message}"
    );
}

#[e2e::lab::needs(lab, squid)]
#[tokio::test]
async fn compare_direct_checks_each_target_both_ways() {
    if !lab::require(&["squid"]) {
        return;
    }
    let squid = squid(SquidConfig::default().deny_domain("127.0.0.1"));
    let relay = Relay::serve(&[]).await;
    let run = probe(
        &relay,
        &relay_url(&relay),
        &["--proxy", &squid.url(), "--compare-direct", "--quick"],
    )
    .await;
    let json = run.json();
    let targets = json["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2, "{json:#}");
    assert_eq!(targets[0]["direct"], false);
    assert_eq!(targets[0]["verdict"], "fail");
    assert_eq!(targets[1]["direct"], true);
    assert_eq!(targets[1]["verdict"], "pass", "{:#}", targets[1]);
    assert!(targets[1]["name"].as_str().unwrap().ends_with("(direct)"));
}

#[e2e::lab::needs(lab, squid)]
#[tokio::test]
async fn machine_config_proxy_is_used_as_the_sync_service_would() {
    if !lab::require(&["squid"]) {
        return;
    }
    let squid = squid(SquidConfig::default());
    let relay = Relay::serve(&[]).await;
    let config = relay.path("machine.config");
    std::fs::write(
        &config,
        format!(
            r#"<?xml version="1.0"?><configuration><system.net><defaultProxy useDefaultCredentials="true"><proxy usesystemdefault="false" proxyaddress="{}" bypassonlocal="true"/></defaultProxy></system.net></configuration>"#,
            squid.url()
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let run = probe(
        &relay,
        &relay_url(&relay),
        &["--proxy-from-machine-config", &config, "--quick"],
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stdout);
    let p = run.check("proxy");
    assert_eq!(p["outcome"], "connected");
    assert!(
        p["proxy_source"]
            .as_str()
            .unwrap()
            .contains("machine.config"),
        "{p}"
    );
    let notes = run.json()["notes"].to_string();
    assert!(notes.contains("useDefaultCredentials"), "{notes}");

    std::fs::write(
        relay.path("system-default.config"),
        r#"<configuration><system.net><defaultProxy><proxy usesystemdefault="true"/></defaultProxy></system.net></configuration>"#,
    )
    .unwrap();
    let config = relay.path("system-default.config").display().to_string();
    let run = probe(
        &relay,
        &relay_url(&relay),
        &["--proxy-from-machine-config", &config, "--quick"],
    )
    .await;
    assert_eq!(run.code, 0);
    assert!(run.json()["notes"].to_string().contains("system default"));
    assert!(run.json()["proxy"].is_null());
}

#[e2e::lab::needs(lab, mitmdump)]
#[tokio::test]
async fn mitmproxy_in_the_path_is_intercepted_with_or_without_its_ca() {
    if !lab::require(&["mitmdump"]) {
        return;
    }
    let mitm = Mitmdump::start(&Site::Host, LOCALHOST, 0);
    let relay = Relay::serve(&[]).await;
    let mitm_ca = mitm.ca_path.display().to_string();
    for extra in [vec![], vec!["--ca-file", mitm_ca.as_str()]] {
        let mut args = vec!["--proxy", mitm.url().leak() as &str, "--quick"];
        args.extend(extra.iter().copied());
        let run = probe(&relay, &relay_url(&relay), &args).await;
        let tls = run.check("tls");
        assert_eq!(tls["outcome"], "intercepted", "{tls:#}\n{}", mitm.log());
        let message = tls["message"].as_str().unwrap();
        assert!(message.contains("mitmproxy"), "{message}");
        assert!(tls["chain"][0]["issuer"]
            .as_str()
            .unwrap()
            .contains("mitmproxy"));
        assert_eq!(run.code, 1);
    }
}

#[e2e::lab::needs(lab, squid, basic_ncsa_auth, htpasswd)]
#[tokio::test]
async fn a_plus_in_the_password_reaches_squid_as_a_plus() {
    if !lab::require(&["squid", "basic_ncsa_auth", "htpasswd"]) {
        return;
    }
    // Percent-decoding keeps `+`; form-decoding would send a space and get 407.
    let password = "Pr0xy+s3cret+XYZ";
    let squid = squid(SquidConfig::default().user(USER, password));
    let relay = Relay::serve(&[]).await;
    let proxy = squid.url_with(USER, password);
    let run = probe(&relay, &relay_url(&relay), &["--proxy", &proxy, "--quick"]).await;
    let p = run.check("proxy");
    assert_eq!(
        (p["status"].as_str(), p["outcome"].as_str()),
        (Some("pass"), Some("connected")),
        "{p:#}\n{}",
        squid.logs()
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains(password) && !run.stderr.contains(password));
}

/// `LAB\agent` with the password, as a proxy URL writes them (the backslash percent-encoded).
fn ntlm_url(squid: &Squid) -> String {
    format!("http://LAB%5C{USER}:{PASSWORD}@{}", squid.addr)
}

#[e2e::lab::needs(lab, squid, ntlm_fake_auth)]
#[tokio::test]
async fn ntlm_through_squid_with_credentials_reaches_the_relay() {
    if !lab::require(&["squid", "ntlm_fake_auth"]) {
        return;
    }
    let squid = squid(SquidConfig::default().ntlm());
    let relay = Relay::serve(&[]).await;
    let proxy = ntlm_url(&squid);
    let run = probe(
        &relay,
        &relay_url(&relay),
        &["--proxy", &proxy, "--proxy-auth", "ntlm", "--quick", "-vv"],
    )
    .await;
    assert_eq!(
        run.code,
        0,
        "{}\n{}\n{}",
        run.stdout,
        run.stderr,
        squid.logs()
    );
    let p = run.check("proxy");
    assert_eq!(
        (p["status"].as_str(), p["outcome"].as_str()),
        (Some("pass"), Some("connected"))
    );
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("NTLM authentication accepted"),
        "{p}"
    );
    assert_eq!(run.check("tls")["outcome"], "ok");
    assert_eq!(run.check("websocket")["outcome"], "upgraded");
    // Squid's helper read the domain and user out of the authenticate message (Squid logs the
    // backslash escaped: `LAB\\agent`).
    let tunnel = |l: &str| l.contains("TCP_TUNNEL/200") && l.contains(&format!("LAB\\\\{USER}"));
    let log = squid.access_log_with(tunnel, Duration::from_secs(10));
    assert!(log.lines().any(tunnel), "{log}");
    assert_no_secret(&run);
}

#[e2e::lab::needs(lab, squid, ntlm_fake_auth)]
#[tokio::test]
async fn ntlm_squid_without_credentials_is_proxy_auth_required_listing_ntlm() {
    if !lab::require(&["squid", "ntlm_fake_auth"]) {
        return;
    }
    let squid = squid(SquidConfig::default().ntlm());
    let relay = Relay::serve(&[]).await;
    let run = probe(
        &relay,
        &relay_url(&relay),
        &["--proxy", &squid.url(), "--quick"],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let p = run.check("proxy");
    assert_eq!(p["outcome"], "proxy_auth_required", "{p}");
    assert_eq!(p["status_code"], 407);
    assert_eq!(p["auth_schemes"], serde_json::json!(["NTLM"]), "{p}");
    let message = p["message"].as_str().unwrap();
    assert!(
        message.contains("none were sent") && message.contains("--proxy-auth ntlm"),
        "{message}"
    );
    assert_eq!(run.check("tls")["status"], "skip");

    // Basic credentials (the default) are not what this proxy takes.
    let run = probe(
        &relay,
        &relay_url(&relay),
        &["--proxy", &ntlm_url(&squid), "--quick"],
    )
    .await;
    let p = run.check("proxy");
    assert_eq!(p["outcome"], "proxy_auth_required", "{p}");
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("does not take Basic credentials"),
        "{p}"
    );
    assert_no_secret(&run);
}

#[e2e::lab::needs(lab, squid, ntlm_fake_auth, negotiate_kerberos_auth)]
#[tokio::test]
async fn negotiate_without_a_ticket_lists_every_scheme_and_what_the_service_needs() {
    if !lab::require(&["squid", "ntlm_fake_auth", "negotiate_kerberos_auth"]) {
        return;
    }
    let squid = squid(SquidConfig::default().negotiate().ntlm());
    let relay = Relay::serve(&[]).await;
    let run = probe(
        &relay,
        &relay_url(&relay),
        &["--proxy", &squid.url(), "--quick"],
    )
    .await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let p = run.check("proxy");
    assert_eq!(p["outcome"], "proxy_auth_required", "{p}");
    assert_eq!(
        p["auth_schemes"],
        serde_json::json!(["Negotiate", "NTLM"]),
        "{p}"
    );
    let message = p["message"].as_str().unwrap();
    assert!(
        message.contains("Kerberos") && message.contains("--proxy-auth negotiate"),
        "{message}"
    );

    // With the account's credentials NTLM still passes where Negotiate is offered first.
    let run = probe(
        &relay,
        &relay_url(&relay),
        &[
            "--proxy",
            &ntlm_url(&squid),
            "--proxy-auth",
            "ntlm",
            "--quick",
        ],
    )
    .await;
    assert_eq!(
        run.check("proxy")["outcome"],
        "connected",
        "{}\n{}",
        run.check("proxy"),
        squid.logs()
    );
    assert_eq!(run.code, 0);
}

#[tokio::test]
async fn proxy_auth_without_credentials_or_with_a_bad_value_exits_2_naming_the_flag() {
    let relay = Relay::serve(&[]).await;
    let url = relay_url(&relay);
    let cases: [(&[&str], &str); 3] = [
        (
            // Without a password, ntlm and negotiate use the logon's own credentials; basic
            // has nothing to send.
            &["--proxy", "http://127.0.0.1:9", "--proxy-auth", "basic"],
            "--proxy-auth basic",
        ),
        (&["--proxy-auth", "ntlm"], "--proxy-auth ntlm"),
        (
            &["--proxy", "http://127.0.0.1:9", "--proxy-auth", "kerberos"],
            "--proxy-auth",
        ),
    ];
    for (extra, named) in cases {
        let mut args = vec!["run", "--target", &url, "--quick"];
        args.extend_from_slice(extra);
        let run = tokio::process::Command::new(e2e::bins::probe())
            .args(&args)
            .env_remove("HTTPS_PROXY")
            .env_remove("https_proxy")
            .env_remove("ALL_PROXY")
            .env_remove("all_proxy")
            .output();
        let out = tokio::time::timeout(LIMIT, run).await.unwrap().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(named), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}
