//! Microsoft's Node.js Hybrid Connections clients, `hyco-ws` 1.0.5 and `hyco-https` 1.4.5,
//! unchanged (installed by `tests/hyco/install.sh`, which `tests/setup-lab.sh` runs), against
//! the real `mock-relay` binary. Their URIs hard-code port 443 and the namespace name, so the
//! relay listens on 127.0.0.1:443 inside a lab namespace whose hosts file points [`NAMESPACE`]
//! at it, and the clients run in that namespace (`ip netns exec`) trusting the relay's
//! certificate through `NODE_EXTRA_CA_CERTS`. The case scripts (`tests/hyco/*.js`) print one
//! JSON result as their last line.

use crate::lab::{self, LabProcess, Netns, NetnsHosts, Site};
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// The namespace the clients address (resolved to the relay only inside the lab namespace).
pub const NAMESPACE: &str = "hycolab.servicebus.windows.net";
/// A gateway host of the namespace (resolved to the relay too), for `--gateway`.
pub const GATEWAY: &str = "g1-hycolab-sb.servicebus.windows.net";
/// The hybrid connection that exists.
pub const ENTITY: &str = "hc1";
const KEY_NAME: &str = "RootManageSharedAccessKey";
const KEY: &str = "aHljby1sYWIta2V5LWZvci1taWNyb3NvZnQtY2xpZW50cz0=";
/// Longest any case script may run before the test gives up on it.
const SCRIPT_LIMIT: Duration = Duration::from_secs(60);

/// Where the clients are installed.
pub fn modules_dir() -> PathBuf {
    scripts_dir().join("node_modules")
}

fn scripts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("hyco")
}

/// Whether the suite can run: the lab (root, `ip`), `node`, and the installed clients. Under
/// `CI=true` a missing piece fails the test; elsewhere the test prints why it skips.
pub fn available() -> bool {
    if !lab::require(&["node"]) {
        return false;
    }
    if modules_dir().join(".installed-v1").exists() {
        return true;
    }
    let why = format!(
        "Microsoft's clients are not installed in {} (run tests/hyco/install.sh)",
        modules_dir().display()
    );
    lab::skip::unavailable(&why);
    false
}

/// mock-relay on 443 in its own namespace, the namespace name resolving to it there.
pub struct HycoLab {
    relay: Option<LabProcess>,
    relay_args: Vec<String>,
    dir: tempfile::TempDir,
    cert: PathBuf,
    _hosts: NetnsHosts,
    netns: Netns,
}

impl HycoLab {
    /// Starts the relay with `extra` flags (besides the listener, certificate, key and entity).
    pub fn start(extra: &[&str]) -> HycoLab {
        let netns = Netns::create("hyco");
        let hosts = NetnsHosts::write(
            netns.name(),
            &[
                (NAMESPACE, IpAddr::V4(Ipv4Addr::LOCALHOST)),
                (GATEWAY, IpAddr::V4(Ipv4Addr::LOCALHOST)),
            ],
        );
        let dir = lab::names::temp_dir("hyco");
        // One certificate for every run of the relay, so a restarted relay is still trusted.
        let certified =
            rcgen::generate_simple_self_signed(vec![NAMESPACE.to_string(), GATEWAY.to_string()])
                .expect("certificate");
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        std::fs::write(&cert, certified.cert.pem()).expect("write certificate");
        std::fs::write(&key, certified.signing_key.serialize_pem()).expect("write key");
        let mut relay_args: Vec<String> = [
            "serve",
            "--listen",
            "127.0.0.1:443",
            "--cert",
            cert.to_str().expect("utf-8 path"),
            "--key",
            key.to_str().expect("utf-8 path"),
            "--ca-out",
            dir.path()
                .join("unused-ca.pem")
                .to_str()
                .expect("utf-8 path"),
            "--sas-key-name",
            KEY_NAME,
            "--sas-key",
            KEY,
            "--entity",
            ENTITY,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        relay_args.extend(extra.iter().map(|s| s.to_string()));
        let mut lab = HycoLab {
            relay: None,
            relay_args,
            dir,
            cert,
            _hosts: hosts,
            netns,
        };
        lab.start_relay();
        lab
    }

    fn site(&self) -> Site {
        self.netns.site()
    }

    fn start_relay(&mut self) {
        let runs = std::fs::read_dir(self.dir.path()).map_or(0, |d| d.count());
        let mut relay = LabProcess::spawn(
            &self.site(),
            &format!("mock-relay-{runs}"),
            crate::bins::mock_relay(),
            &self.relay_args,
            self.dir.path(),
        );
        relay.wait_log("listening ", Duration::from_secs(20));
        relay.wait_tcp(
            SocketAddr::from((Ipv4Addr::LOCALHOST, 443)),
            Duration::from_secs(10),
        );
        self.relay = Some(relay);
    }

    /// Stops the relay and starts it again with the same flags and certificate.
    pub fn restart_relay(&mut self) {
        if let Some(mut relay) = self.relay.take() {
            relay.stop();
        }
        self.start_relay();
    }

    /// What the relay logged so far (its current run).
    pub fn relay_log(&self) -> String {
        self.relay.as_ref().map(LabProcess::log).unwrap_or_default()
    }

    fn command(&self, script: &str, case: &str, env: &[(&str, &str)]) -> std::process::Command {
        let mut cmd = self.site().command(lab::tools::require("node"));
        cmd.arg(scripts_dir().join(script))
            .arg(case)
            .current_dir(scripts_dir())
            .env("NODE_EXTRA_CA_CERTS", &self.cert)
            .env("HYCO_NS", NAMESPACE)
            .env("HYCO_ENTITY", ENTITY)
            .env("HYCO_KEY_NAME", KEY_NAME)
            .env("HYCO_KEY", KEY)
            .env("HYCO_LIMIT_MS", "40000");
        for (name, value) in env {
            cmd.env(name, value);
        }
        cmd
    }

    /// Runs `node tests/hyco/SCRIPT CASE` in the namespace to its end and returns its result
    /// (the last JSON line of its output); panics with the output and the relay's log when
    /// there is none.
    pub fn run(&self, script: &str, case: &str, env: &[(&str, &str)]) -> Value {
        let mut process = self.spawn(script, case, env);
        let log = process.wait_exit(SCRIPT_LIMIT);
        last_json(&log).unwrap_or_else(|| {
            panic!(
                "{script} {case} gave no result; its output:\n{log}\nmock-relay's log:\n{}",
                self.relay_log()
            )
        })
    }

    /// Starts a case script and returns at once (for cases the test steps through).
    pub fn spawn(&self, script: &str, case: &str, env: &[(&str, &str)]) -> LabProcess {
        LabProcess::spawn_command(
            &self.site(),
            &format!("{}-{case}", script.trim_end_matches(".js")),
            self.command(script, case, env),
            self.dir.path(),
        )
    }
}

impl Drop for HycoLab {
    fn drop(&mut self) {
        if let Some(mut relay) = self.relay.take() {
            relay.stop();
        }
    }
}

/// The last line of `output` that is a JSON object.
pub fn last_json(output: &str) -> Option<Value> {
    output
        .lines()
        .rev()
        .filter(|l| l.starts_with('{'))
        .find_map(|l| serde_json::from_str(l).ok())
}
