//! `--proxy-auth negotiate` in `probe.exe` under Wine: the SSPI path is compiled and called,
//! and where Wine has no usable Negotiate (no Kerberos logon, no NTLM helper) the probe says so
//! in words, as a `proxy_auth_required` with the logon's cause, never a crash or a token shown.

use e2e::lab::{self, Site, Squid, SquidConfig};
use e2e::relay::Relay;
use e2e::windows::{self, win_path, Wine};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);
const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[e2e::lab::needs(windows, lab, squid, negotiate_kerberos_auth, ntlm_fake_auth)]
#[tokio::test]
async fn negotiate_under_wine_fails_with_a_clear_message() {
    let Some(tools) = windows::require() else {
        return;
    };
    if !lab::require(&["squid", "negotiate_kerberos_auth", "ntlm_fake_auth"]) {
        return;
    }
    // Negotiate offered (no keytab behind it), NTLM beside it.
    let squid = Squid::start(
        &Site::Host,
        LOCALHOST,
        0,
        &SquidConfig::default()
            .negotiate()
            .ntlm()
            .dns_server(LOCALHOST),
    );
    let wine = Wine::new(tools);
    let relay = Relay::serve(&[]).await;
    let url = format!("relay://127.0.0.1:{}", relay.tls().port());
    let ca = win_path(std::path::Path::new(&relay.ca_file()));
    let run = wine
        .probe(
            &[
                "run",
                "--target",
                &url,
                "--ca-file",
                &ca,
                "--quick",
                "--format",
                "json",
                "--timeout",
                "10",
                "-vv",
                "--proxy",
                &squid.url(),
                "--proxy-auth",
                "negotiate",
            ],
            LIMIT,
        )
        .await;
    let p = run.check("proxy");
    eprintln!("windows: Negotiate under Wine: {p}");
    assert_eq!(p["outcome"], "proxy_auth_required", "{p}\n{}", run.stderr);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let logon = &p["logon"];
    assert_eq!(logon["scheme"], "Negotiate", "{p}");
    assert_eq!(logon["spn"], "HTTP/127.0.0.1", "{p}");
    // Wine's SSPI either has no Negotiate at all, or one with no credentials to use.
    let cause = logon["cause"].as_str().unwrap_or_default();
    assert!(
        ["unavailable", "no_credentials", "security_library"].contains(&cause),
        "{p}"
    );
    let message = p["message"].as_str().unwrap();
    assert!(message.contains("no token could be made"), "{message}");
    assert!(!run.stdout.contains("YII") && !run.stderr.contains("YII"));
}
