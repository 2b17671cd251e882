//! mitmproxy (`mitmdump`) as a TLS-intercepting proxy with its own CA in a temp dir.

use super::process::LabProcess;
use super::site::Site;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// A running mitmdump; stopped on drop.
pub struct Mitmdump {
    pub addr: SocketAddr,
    /// The interception CA certificate (PEM) mitmproxy generated for this instance.
    pub ca_path: PathBuf,
    process: LabProcess,
    _dir: tempfile::TempDir,
}

impl Mitmdump {
    /// Starts mitmdump in `site` on `ip:port` (0: a free port). Upstream certificates are not
    /// verified (the lab's servers use test CAs), as an inspecting proxy configured to pass
    /// everything would. Ready when its CA exists and the port accepts TCP.
    pub fn start(site: &Site, ip: IpAddr, port: u16) -> Mitmdump {
        let port = if port == 0 {
            super::dnsmasq::free_port(site, ip)
        } else {
            port
        };
        let addr = SocketAddr::new(ip, port);
        let dir = super::names::temp_dir("mitm");
        let confdir = dir.path().to_path_buf();
        let mut process = LabProcess::spawn(
            site,
            "mitmdump",
            super::tools::require("mitmdump"),
            &[
                "--listen-host".to_string(),
                ip.to_string(),
                "--listen-port".to_string(),
                port.to_string(),
                "--set".to_string(),
                format!("confdir={}", confdir.display()),
                "--set".to_string(),
                "ssl_insecure=true".to_string(),
            ],
            dir.path(),
        );
        let ca_path = confdir.join("mitmproxy-ca-cert.pem");
        process.wait_file(&ca_path, Duration::from_secs(30));
        process.wait_tcp(addr, Duration::from_secs(30));
        Mitmdump {
            addr,
            ca_path,
            process,
            _dir: dir,
        }
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn log(&self) -> String {
        self.process.log()
    }
}
