//! `--no-proxy` connects directly whatever the environment says: a proxy named by
//! `HTTPS_PROXY` sees nothing, and a malformed `HTTPS_PROXY` is not even read.

use e2e::hostile::Hostile;
use e2e::probe_cli::{assert_matches_schema, run_command, ProbeRun};
use e2e::relay::Relay;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// The probe against `relay` (quick, JSON) with `HTTPS_PROXY` set to `https_proxy`.
async fn probe(relay: &Relay, https_proxy: &str, extra: &[&str]) -> ProbeRun {
    let ca = relay.ca_file();
    let url = format!("relay://127.0.0.1:{}", relay.tls().port());
    let mut args = vec!["run", "--target", &url, "--ca-file", &ca, "--quick"];
    args.extend_from_slice(&["--format", "json", "--timeout", "5"]);
    args.extend_from_slice(extra);
    let mut cmd = tokio::process::Command::new(e2e::bins::probe());
    for k in [
        "https_proxy",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("HTTPS_PROXY", https_proxy);
    run_command(cmd, &args, LIMIT).await
}

#[tokio::test]
async fn no_proxy_ignores_the_proxy_named_by_the_environment() {
    let relay = Relay::serve(&[]).await;
    let proxy = Hostile::recording_proxy().await;
    let url = format!("http://127.0.0.1:{}", proxy.port);

    // Without the flag the environment's proxy is used (and refuses with 407).
    let through = probe(&relay, &url, &[]).await;
    assert_eq!(
        through.check("proxy")["outcome"],
        "proxy_auth_required",
        "{}",
        through.stdout
    );
    let asked = proxy.seen.connections();
    assert!(asked > 0, "the environment's proxy was not used");

    let direct = probe(&relay, &url, &["--no-proxy"]).await;
    assert_eq!(direct.code, 0, "{}\n{}", direct.stdout, direct.stderr);
    assert_matches_schema(&direct.json());
    assert_eq!(
        direct.json()["proxy"],
        serde_json::Value::Null,
        "{}",
        direct.stdout
    );
    assert_eq!(direct.check("tls")["outcome"], "ok", "{}", direct.stdout);
    assert_eq!(direct.check("websocket")["outcome"], "upgraded");
    assert_eq!(
        proxy.seen.connections(),
        asked,
        "--no-proxy still connected to HTTPS_PROXY"
    );
}

#[tokio::test]
async fn no_proxy_ignores_a_malformed_https_proxy() {
    let relay = Relay::serve(&[]).await;
    let bad = "http://127.0.0.1:99999";
    // The malformed variable is an error without the flag (the control)...
    let refused = probe(&relay, bad, &[]).await;
    assert_eq!(refused.code, 2, "{}\n{}", refused.stdout, refused.stderr);
    assert!(refused.stderr.contains("HTTPS_PROXY"), "{}", refused.stderr);
    // ...and never read with it.
    let direct = probe(&relay, bad, &["--no-proxy"]).await;
    assert_eq!(direct.code, 0, "{}\n{}", direct.stdout, direct.stderr);
    assert_eq!(direct.check("tls")["outcome"], "ok", "{}", direct.stdout);
}
