//! Names of everything the lab creates: `e2elab-<pid>-<seq>...`.
//!
//! The creating process id is part of every namespace, temp dir and (through the temp dir) every
//! service command line, so a later run can tell leftovers of a crashed run (dead pid) from the
//! live resources of a test running in parallel (live pid). See `stale.rs`.

use std::sync::atomic::{AtomicU32, Ordering};

/// Prefix of every lab resource name.
pub const PREFIX: &str = "e2elab";

static SEQ: AtomicU32 = AtomicU32::new(0);

/// A name no other lab resource of any live process has: `e2elab-<pid>-<seq>`.
pub fn unique() -> String {
    format!(
        "{PREFIX}-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    )
}

/// The marker shared by every resource of this process: `e2elab-<pid>-`.
pub fn own_marker() -> String {
    marker(std::process::id())
}

/// The marker shared by every resource of process `pid`.
pub fn marker(pid: u32) -> String {
    format!("{PREFIX}-{pid}-")
}

/// The pid that created a resource called `name`, if the name is a lab name.
pub fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix(PREFIX)?.strip_prefix('-')?;
    rest.split('-').next()?.parse().ok()
}

/// Whether process `pid` is alive (a zombie counts as dead: a killed test process may wait a
/// while for its parent to reap it).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// A private temp dir named with the lab prefix, readable by services that drop root
/// (Squid runs as `proxy`), removed on drop.
pub fn temp_dir(label: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::Builder::new()
        .prefix(&format!("{}-{label}-", unique()))
        .tempdir()
        .expect("create lab temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777))
        .expect("chmod lab temp dir");
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_pid_parses_lab_names_only() {
        assert_eq!(owner_pid("e2elab-123-4-c"), Some(123));
        assert_eq!(owner_pid("e2elab-123-squid-x1"), Some(123));
        assert_eq!(owner_pid("other-123"), None);
        assert_eq!(owner_pid("e2elabx-1"), None);
        assert!(unique().starts_with(&own_marker()));
    }
}
