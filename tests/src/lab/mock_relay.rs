//! The real `mock-relay` binary as a lab service (`mock-relay serve --listen ADDR --ca-out
//! PATH ...`), ready when it prints its address line and accepts TCP.

use super::process::LabProcess;
use super::site::Site;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The first word of mock-relay's address line on stdout.
const ADDRESS_LINE: &str = "listening ";

/// A running mock-relay; stopped on drop.
pub struct MockRelay {
    /// Its first TLS listener (with the real port when started on port 0).
    pub addr: SocketAddr,
    /// The CA (PEM) that issued its certificate: the probe's `--ca-file`.
    pub ca_path: PathBuf,
    /// The whole address line, for tests that need other listeners (`plain=`, `middlebox=`).
    pub address_line: String,
    process: LabProcess,
    _dir: tempfile::TempDir,
}

impl MockRelay {
    /// Starts `mock-relay serve --listen LISTEN --ca-out DIR/ca.pem EXTRA...` in `site`.
    pub fn start(site: &Site, listen: SocketAddr, extra: &[&str]) -> MockRelay {
        let dir = super::names::temp_dir("relay");
        let ca_path = dir.path().join("ca.pem");
        let mut args = vec![
            "serve".to_string(),
            "--listen".to_string(),
            listen.to_string(),
            "--ca-out".to_string(),
            ca_path.display().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        let mut process = LabProcess::spawn(
            site,
            "mock-relay",
            crate::bins::mock_relay(),
            &args,
            dir.path(),
        );
        process.wait_log(ADDRESS_LINE, Duration::from_secs(20));
        let address_line = process
            .log()
            .lines()
            .find(|l| l.starts_with(ADDRESS_LINE))
            .expect("address line")
            .to_string();
        let addr = token(&address_line, "tls")
            .and_then(|a| a.parse().ok())
            .unwrap_or(listen);
        process.wait_tcp(addr, Duration::from_secs(10));
        process.wait_file(&ca_path, Duration::from_secs(5));
        MockRelay {
            addr,
            ca_path,
            address_line,
            process,
            _dir: dir,
        }
    }

    /// The value of the first `key=value` token of the address line.
    pub fn token(&self, key: &str) -> Option<String> {
        token(&self.address_line, key).map(str::to_string)
    }

    pub fn log(&self) -> String {
        self.process.log()
    }
}

fn token<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|t| t.strip_prefix(key)?.strip_prefix('='))
}
