//! A hosts file for one lab namespace: `ip netns exec NAME` bind-mounts `/etc/netns/NAME/hosts`
//! over `/etc/hosts` for the command it runs, so a name resolves to a lab address there (and
//! only there). Commands started through [`super::Site::command`] use `ip netns exec` and see
//! it; code run with [`super::Site::enter`] (setns) does not. Removed on drop; a crashed run's
//! leftovers are removed by the stale cleanup.

use std::net::IpAddr;
use std::path::PathBuf;

/// Where `ip netns exec` looks for per-namespace files.
pub const NETNS_ETC: &str = "/etc/netns";

/// `/etc/netns/NAME/hosts`, deleted (with its directory) on drop.
#[derive(Debug)]
pub struct NetnsHosts {
    dir: PathBuf,
}

impl NetnsHosts {
    /// Writes the hosts file of namespace `ns`: loopback names, then `name -> addr` pairs.
    /// Must exist before the command that needs it starts.
    pub fn write(ns: &str, entries: &[(&str, IpAddr)]) -> NetnsHosts {
        let dir = PathBuf::from(NETNS_ETC).join(ns);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        let mut text = String::from("127.0.0.1 localhost\n::1 localhost\n");
        for (name, addr) in entries {
            text.push_str(&format!("{addr} {name}\n"));
        }
        let path = dir.join("hosts");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        NetnsHosts { dir }
    }
}

impl Drop for NetnsHosts {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
