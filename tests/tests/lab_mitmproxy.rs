//! mitmdump intercepts TLS: through it, the server's certificate is one mitmproxy made, signed
//! by the CA it generated in its temp confdir.

use e2e::certs::{TestCa, Validity};
use e2e::https_server::{ServerOptions, TestServer};
use e2e::lab::{self, curl::curl, Mitmdump, Site};
use std::net::{IpAddr, Ipv4Addr};

#[e2e::lab::needs(lab, mitmdump, curl)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mitmdump_intercepts_with_its_own_ca() {
    if !lab::require(&["mitmdump", "curl"]) {
        return;
    }
    let ca = TestCa::new("lab origin CA");
    let server = TestServer::https(
        ca.leaf(&["localhost", "127.0.0.1"], Validity::Current),
        ServerOptions::default(),
    )
    .await;
    let mitm = tokio::task::spawn_blocking(|| {
        Mitmdump::start(&Site::Host, IpAddr::V4(Ipv4Addr::LOCALHOST), 0)
    })
    .await
    .unwrap();
    let url = format!("https://127.0.0.1:{}/", server.port);
    let ca_path = mitm.ca_path.display().to_string();
    let proxy = mitm.url();
    let run = tokio::task::spawn_blocking(move || {
        curl(
            &Site::Host,
            20,
            &["-v", "-x", &proxy, "--cacert", &ca_path, &url],
        )
    })
    .await
    .unwrap();
    assert_eq!(run.code, 0, "{run:?}\n{}", mitm.log());
    assert_eq!(run.stdout, "ok\n");
    assert!(
        run.stderr.contains("issuer: CN=mitmproxy"),
        "the certificate should come from mitmproxy: {}",
        run.stderr
    );
}
