//! Cleaning what a crashed run left behind: namespaces (and their /etc/netns files),
//! root-namespace links, processes, temp dirs and Squid's shared-memory segments whose lab name carries the pid of a process that no
//! longer exists.

use super::names::{alive, marker, owner_pid, PREFIX};
use std::sync::Once;

/// Cleans stale lab resources once per test process.
pub fn clean_once() {
    static ONCE: Once = Once::new();
    ONCE.call_once(clean);
}

/// Removes every lab resource whose creator is dead. Resources of live processes (tests
/// running in parallel) are left alone.
pub fn clean() {
    let dead = |name: &str| owner_pid(name).is_some_and(|pid| !alive(pid));
    for ns in super::inventory::namespaces()
        .into_iter()
        .filter(|n| dead(n))
    {
        super::netns::remove(&ns);
    }
    for link in super::inventory::host_links()
        .into_iter()
        .filter(|n| dead(n))
    {
        let _ = std::process::Command::new(super::tools::require("ip"))
            .args(["link", "del", &link])
            .status();
    }
    for (pid, cmdline) in super::inventory::processes() {
        if let Some(owner) = lab_owner(&cmdline) {
            if !alive(owner) {
                // SAFETY: plain kill(2) of a leftover lab service.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir("/dev/shm") {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if super::squid::shm_owner(&name).is_some_and(|pid| !alive(pid)) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(super::hosts::NETNS_ETC) {
        for entry in entries.flatten() {
            if dead(&entry.file_name().to_string_lossy()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if dead(&name) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// The creator pid of a lab service, from the lab temp dir named in its command line.
fn lab_owner(cmdline: &str) -> Option<u32> {
    let at = cmdline.find(&format!("{PREFIX}-"))?;
    let pid = owner_pid(cmdline[at..].split(['/', ' ', '=']).next()?)?;
    cmdline.contains(&marker(pid)).then_some(pid)
}

#[cfg(test)]
mod tests {
    #[test]
    fn lab_owner_reads_the_temp_dir_pid() {
        assert_eq!(
            super::lab_owner("squid -N -f /tmp/e2elab-77-3-squid-abc/squid.conf"),
            Some(77)
        );
        assert_eq!(
            super::lab_owner("dnsmasq --conf-file=/tmp/e2elab-8-0-dns-x/d.conf"),
            Some(8)
        );
        assert_eq!(super::lab_owner("sshd: root"), None);
    }

    #[test]
    fn squid_shm_segments_name_their_owner() {
        use super::super::squid::shm_owner;
        assert_eq!(shm_owner("e2elab4242x3-cf__queues.shm"), Some(4242));
        assert_eq!(shm_owner("squid-cf__queues.shm"), None);
        assert_eq!(shm_owner("e2elab-12-0-squid"), None);
    }
}
