//! One network namespace, named with the lab prefix and deleted (with every process still in
//! it) on drop.

use super::site::Site;
use std::time::{Duration, Instant};

/// A lab network namespace. Dropping it kills what still runs inside and deletes it, which also
/// destroys its veth ends.
#[derive(Debug)]
pub struct Netns {
    name: String,
}

impl Netns {
    /// Creates `e2elab-<pid>-<seq>-<role>` with loopback up.
    pub fn create(role: &str) -> Netns {
        super::stale::clean_once();
        let name = format!("{}-{role}", super::names::unique());
        Site::Host.run("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where to run commands and code inside this namespace.
    pub fn site(&self) -> Site {
        Site::Netns(self.name.clone())
    }

    /// `ip -n NAME ARGS...`; panics on failure.
    pub fn ip(&self, args: &[&str]) -> String {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        Site::Host.run("ip", &all)
    }

    /// Sets a sysctl of this namespace, e.g. `net.ipv4.ip_forward`.
    pub fn sysctl(&self, key: &str, value: &str) {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        // /proc/sys/net follows the network namespace of the thread that opens it.
        self.site()
            .enter(|| std::fs::write(&path, value))
            .unwrap_or_else(|e| panic!("sysctl {key}={value} in {}: {e}", self.name));
    }

    /// Reads a sysctl of this namespace.
    pub fn sysctl_get(&self, key: &str) -> String {
        let path = format!("/proc/sys/{}", key.replace('.', "/"));
        self.site()
            .enter(|| std::fs::read_to_string(&path))
            .unwrap_or_else(|e| panic!("read sysctl {key} in {}: {e}", self.name))
            .trim()
            .to_string()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        remove(&self.name);
    }
}

/// Pids of the processes living in namespace `name`.
pub fn pids(name: &str) -> Vec<i32> {
    let out = std::process::Command::new(super::tools::require("ip"))
        .args(["netns", "pids", name])
        .output();
    out.map(|o| {
        String::from_utf8_lossy(&o.stdout)
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect()
    })
    .unwrap_or_default()
}

/// Kills every process in namespace `name` (bounded wait for them to go) and deletes it.
pub fn remove(name: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = pids(name);
        if left.is_empty() || Instant::now() > deadline {
            break;
        }
        for pid in left {
            // SAFETY: plain kill(2) on a pid that lives in our lab namespace.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = std::process::Command::new(super::tools::require("ip"))
        .args(["netns", "del", name])
        .stderr(std::process::Stdio::null())
        .status();
}
