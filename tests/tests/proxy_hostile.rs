//! Corporate proxies that answer the CONNECT in ways Squid does not: a redirect to a login
//! portal (`proxy_redirect`, naming the portal's host), a 200 followed by an HTML block page
//! instead of the target's TLS (`proxy_block_page`, with the page's title), a 407 offering
//! four schemes across two headers, and an NTLM challenge on a connection the proxy then
//! closes. The hostile proxy runs on loopback and never connects anywhere; the probe resolves
//! nothing but its address.

use e2e::hostile_proxy::{html_page, HostileProxy, Hostility, PageTiming};
use e2e::probe_cli::{assert_matches_schema, run, ProbeRun};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);
/// Behind a proxy the probe never resolves the target: this name only travels in the CONNECT.
const TARGET: &str = "relay.lab.test";

async fn probe_through(proxy: &HostileProxy, extra: &[&str]) -> ProbeRun {
    let target = format!("https://{TARGET}/");
    let proxy_url = proxy.url();
    let mut args = vec![
        "run",
        "--target",
        &target,
        "--proxy",
        &proxy_url,
        "--quick",
        "--timeout",
        "5",
    ];
    args.extend_from_slice(extra);
    let run = run(&args, LIMIT).await;
    if extra.contains(&"json") {
        assert_matches_schema(&run.json());
    }
    run
}

#[tokio::test]
async fn a_redirected_connect_is_proxy_redirect_naming_the_portal_host() {
    for status in [302, 307] {
        let proxy = HostileProxy::start(Hostility::Redirect {
            status,
            location: "https://login.portal.lab.test:8443/auth?session=Tok3n-XYZ&to=relay".into(),
        })
        .await;
        let run = probe_through(&proxy, &["--format", "json"]).await;
        assert_eq!(run.code, 1, "{}", run.stderr);
        let p = run.check("proxy");
        assert_eq!(p["status"], "fail", "{p}");
        assert_eq!(p["outcome"], "proxy_redirect", "{p}");
        assert_eq!(p["status_code"], status, "{p}");
        assert_eq!(p["redirect_host"], "login.portal.lab.test", "{p}");
        let message = p["message"].as_str().unwrap();
        assert!(
            message.contains("login.portal.lab.test") && message.contains("authentication portal"),
            "{message}"
        );
        // Only the host is reported: a portal's URL may carry a session token.
        assert!(!run.stdout.contains("Tok3n-XYZ"), "{}", run.stdout);
        assert_eq!(run.check("tls")["status"], "skip");
        assert_eq!(proxy.requests(), [format!("CONNECT {TARGET}:443 HTTP/1.1")]);
    }
}

#[tokio::test]
async fn a_block_page_after_the_200_is_proxy_block_page_with_its_title() {
    for timing in [PageTiming::WithThe200, PageTiming::Split] {
        let proxy = HostileProxy::start(Hostility::BlockPage {
            page: html_page("403 Forbidden", "Web Filter &amp; <b>Access</b>\n Denied"),
            timing,
        })
        .await;
        let run = probe_through(&proxy, &["--format", "json"]).await;
        assert_eq!(run.code, 1, "{timing:?}: {}", run.stderr);
        let p = run.check("proxy");
        assert_eq!(
            (p["status"].as_str(), p["outcome"].as_str()),
            (Some("pass"), Some("connected")),
            "{p}"
        );
        let tls = run.check("tls");
        assert_eq!(tls["status"], "fail", "{timing:?}: {tls}");
        assert_eq!(tls["outcome"], "proxy_block_page", "{timing:?}: {tls}");
        assert_eq!(
            tls["block_page_title"], "Web Filter & Access Denied",
            "{timing:?}: {tls}"
        );
        let message = tls["message"].as_str().unwrap();
        assert!(
            message.contains("\"Web Filter & Access Denied\" (403 Forbidden)")
                && message.contains("block page"),
            "{message}"
        );
        let http = run.check("http");
        assert_eq!(http["status"], "skip");
        assert!(
            http["message"]
                .as_str()
                .unwrap()
                .contains("the proxy answered with a block page"),
            "{http}"
        );
    }
}

#[tokio::test]
async fn the_human_report_names_the_block_page_and_the_portal() {
    let proxy = HostileProxy::start(Hostility::BlockPage {
        page: html_page("200 OK", "Blocked\u{7} by policy"),
        timing: PageTiming::Split,
    })
    .await;
    let run = probe_through(&proxy, &["--format", "human"]).await;
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("proxy_block_page"), "{}", run.stdout);
    assert!(
        run.stdout.contains("\"Blocked by policy\""),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains('\u{7}'));
    let proxy = HostileProxy::start(Hostility::Redirect {
        status: 302,
        location: "http://captive.lab.test/".into(),
    })
    .await;
    let run = probe_through(&proxy, &["--format", "human"]).await;
    assert!(run.stdout.contains("proxy_redirect"), "{}", run.stdout);
    assert!(run.stdout.contains("captive.lab.test"), "{}", run.stdout);
}

/// Squid's ntlm_fake_auth challenge, as captured: a real NTLM CHALLENGE message.
const NTLM_CHALLENGE: &str =
    "NTLM TlRMTVNTUAACAAAACQAJAK6qqqoGgggAa/t4ncAj66IAAAAAAAA6AFdPUktHUk9VUA==";

#[tokio::test]
async fn every_challenge_of_every_header_is_listed() {
    let proxy = HostileProxy::start(Hostility::AuthRequiredThenClose {
        challenges: vec![
            "Negotiate, NTLM".into(),
            r#"Digest realm="corp, west", nonce="n0", qop="auth,auth-int", algorithm=SHA-256, Basic realm="corp""#.into(),
        ],
    })
    .await;
    let run = probe_through(&proxy, &["--format", "json"]).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let p = run.check("proxy");
    assert_eq!(p["outcome"], "proxy_auth_required", "{p}");
    assert_eq!(
        p["auth_schemes"],
        serde_json::json!(["Negotiate", "NTLM", "Digest", "Basic"]),
        "{p}"
    );
    let message = p["message"].as_str().unwrap();
    assert!(
        message.contains("it offers: Negotiate, NTLM, Digest, Basic")
            && message.contains("Digest is not supported")
            && message.contains("--proxy-auth negotiate")
            && message.contains("the service authenticates as itself"),
        "{message}"
    );
}

#[tokio::test]
async fn an_ntlm_challenge_on_a_connection_the_proxy_closes_is_named() {
    let proxy = HostileProxy::start(Hostility::AuthRequiredThenClose {
        challenges: vec![NTLM_CHALLENGE.into()],
    })
    .await;
    let url = format!("http://LAB%5Cagent:Pr0xy-s3cret-XYZ@{}", proxy.addr);
    let target = format!("https://{TARGET}/");
    let args = [
        "run",
        "--target",
        &target,
        "--proxy",
        &url,
        "--proxy-auth",
        "ntlm",
        "--quick",
        "--format",
        "json",
        "-vv",
    ];
    let run = run(&args, LIMIT).await;
    assert_eq!(run.code, 1, "{}", run.stderr);
    let p = run.check("proxy");
    assert_eq!(p["outcome"], "proxy_auth_required", "{p}");
    let message = p["message"].as_str().unwrap();
    assert!(
        message.contains("closed the connection after its NTLM challenge"),
        "{message}"
    );
    // One CONNECT with the negotiate message: the answer had nowhere to go.
    assert_eq!(proxy.requests().len(), 1, "{:?}", proxy.requests());
    assert!(!run.stdout.contains("Pr0xy-s3cret-XYZ") && !run.stderr.contains("Pr0xy-s3cret-XYZ"));
}
