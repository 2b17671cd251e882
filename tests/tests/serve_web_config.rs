//! `probe serve --web-config FILE` (exporter-toolkit's format): the exporter speaks TLS with
//! the configured certificate, every path needs the right basic-auth credentials (checked
//! against a bcrypt hash), the configured headers come with every answer, and a bad file is a
//! usage error naming the field.

use base64::Engine;
use e2e::certs::{TestCa, Validity};
use e2e::report_tools::closed_port;
use e2e::served::Served;
use e2e::tls_client::{connect_tls, request, HttpResponse};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

const PASSWORD: &str = "correct horse";

/// `probe serve` with `--web-config web`, a run every second against a closed port.
async fn serve(web: &Path, ca_file: &Path) -> Served {
    let target = format!("https://localhost:{}/", closed_port());
    let (ca_file, web) = (ca_file.display().to_string(), web.display().to_string());
    Served::start(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--interval",
        "1s",
        "--target",
        &target,
        "--quick",
        "--timeout",
        "2",
        "--ca-file",
        &ca_file,
        "--web-config",
        &web,
    ])
    .await
}

async fn get(addr: &str, ca_pem: &str, path: &str, auth: Option<(&str, &str)>) -> HttpResponse {
    let addr: SocketAddr = addr.parse().unwrap();
    let mut tls = connect_tls(addr, ca_pem, "localhost")
        .await
        .expect("TLS to the exporter");
    let header = auth.map(|(user, password)| {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {encoded}")
    });
    let headers: Vec<(&str, &str)> = header
        .iter()
        .map(|h| ("Authorization", h.as_str()))
        .collect();
    request(&mut tls, "GET", path, &headers)
        .await
        .expect("an HTTP answer")
}

#[tokio::test]
async fn tls_and_basic_auth_guard_every_path() {
    let dir = tempfile::tempdir().unwrap();
    let ca = TestCa::new("exporter CA");
    let leaf = ca.leaf(&["localhost"], Validity::Current);
    std::fs::write(dir.path().join("tls.crt"), &leaf.cert_pem).unwrap();
    std::fs::write(dir.path().join("tls.key"), &leaf.key_pem).unwrap();
    let ca_file = ca.write(dir.path(), "ca.pem");
    // Cost 4, bcrypt's least: each wrong guess costs the server a real verification.
    let hash = bcrypt::hash(PASSWORD, 4).unwrap();
    let web = dir.path().join("web.yml");
    // Relative paths are taken from the file's folder, as exporter-toolkit does.
    std::fs::write(
        &web,
        format!(
            "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n  min_version: TLS12\n\
             basic_auth_users:\n  prometheus: {hash}\n\
             http_server_config:\n  headers:\n    X-Frame-Options: deny\n"
        ),
    )
    .unwrap();
    let Served {
        mut child,
        addr,
        line,
        ..
    } = serve(&web, &ca_file).await;
    assert!(line.contains("https://"), "{line}");

    for path in ["/metrics", "/results", "/", "/nope"] {
        let none = get(&addr, &ca.pem, path, None).await;
        assert_eq!(
            none.status, 401,
            "{path} without credentials: {}",
            none.body
        );
        assert!(
            none.header("www-authenticate")
                .is_some_and(|v| v.starts_with("Basic")),
            "{none:?}"
        );
        assert!(!none.body.contains("localhost"), "{}", none.body);
        let wrong = get(&addr, &ca.pem, path, Some(("prometheus", "wrong"))).await;
        assert_eq!(wrong.status, 401, "{path} with a wrong password");
        let stranger = get(&addr, &ca.pem, path, Some(("admin", PASSWORD))).await;
        assert_eq!(stranger.status, 401, "{path} for an unknown user");
    }
    let metrics = get(&addr, &ca.pem, "/metrics", Some(("prometheus", PASSWORD))).await;
    assert_eq!(metrics.status, 200, "{}", metrics.body);
    assert!(metrics.body.contains("# probe serve"), "{}", metrics.body);
    assert_eq!(metrics.header("x-frame-options"), Some("deny"));
    // Twice: the second answer comes from the remembered verification, and is still right.
    let again = get(&addr, &ca.pem, "/", Some(("prometheus", PASSWORD))).await;
    assert_eq!(again.status, 200);

    // Plain HTTP gets no answer; a client that does not trust the certificate gets no session.
    let plain = e2e::tls_client::http_get(addr.parse().unwrap(), "/metrics").await;
    assert!(
        plain.as_ref().map_or(true, |r| r.status != 200),
        "{plain:?}"
    );
    let other = TestCa::new("another CA");
    assert!(connect_tls(addr.parse().unwrap(), &other.pem, "localhost")
        .await
        .is_err());
    child.kill().await.unwrap();
}

#[tokio::test]
async fn a_bad_web_config_names_the_field_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let hash = bcrypt::hash(PASSWORD, 4).unwrap();
    for (text, field) in [
        (
            format!("basic_auth_users:\n  prometheus: {hash}\nbasic_auth_user:\n  x: y\n"),
            "basic_auth_user",
        ),
        (
            "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  min_versoin: TLS12\n"
                .to_string(),
            "min_versoin",
        ),
        (
            "tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n".to_string(),
            "tls_server_config.cert_file",
        ),
        (
            "basic_auth_users:\n  prometheus: hunter2\n".to_string(),
            "basic_auth_users.prometheus",
        ),
        ("tls_server_config: [\n".to_string(), "--web-config"),
    ] {
        let web = dir.path().join("web.yml");
        std::fs::write(&web, &text).unwrap();
        let r = e2e::probe_cli::run(
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--interval",
                "5m",
                "--target",
                "https://localhost/",
                "--web-config",
                &web.display().to_string(),
            ],
            Duration::from_secs(60),
        )
        .await;
        assert_eq!(r.code, 2, "{text}: {}", r.stderr);
        assert!(r.stderr.contains(field), "{text}: {}", r.stderr);
        assert!(r.stderr.contains("web.yml"), "{}", r.stderr);
        assert!(!r.stderr.contains("hunter2"), "{}", r.stderr);
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
        assert_eq!(
            r.stderr.trim().lines().count(),
            1,
            "one message: {}",
            r.stderr
        );
    }
}
