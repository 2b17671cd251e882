//! Leftovers of a crashed run (a dead creator pid in their lab name) are removed at the next
//! start: the namespace with a process still in it, a service outside any namespace, its temp
//! dir. Resources of live processes are left alone.

use e2e::lab::{self, inventory, stale, Site};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A pid that belonged to a process that has exited.
fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().expect("spawn true");
    let pid = child.id();
    child.wait().expect("reap true");
    pid
}

fn wait_exit(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if child.try_wait().expect("try_wait").is_some() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[e2e::lab::needs(lab)]
#[test]
fn stale_resources_of_a_dead_run_are_cleaned() {
    if !lab::require(&[]) {
        return;
    }
    let dead = dead_pid();
    let ns = format!("e2elab-{dead}-0-c");
    let live_ns = format!("{}stalecheck", lab::names::own_marker());
    Site::Host.run("ip", &["netns", "add", &ns]);
    Site::Host.run("ip", &["netns", "add", &live_ns]);
    let mut in_ns = Site::Netns(ns.clone())
        .command("sleep")
        .arg("300")
        .stdin(Stdio::null())
        .spawn()
        .expect("spawn sleep in the stale namespace");
    let dir = std::env::temp_dir().join(format!("e2elab-{dead}-1-squid-test"));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("cache.log");
    std::fs::write(&log, "").unwrap();
    let mut service = Command::new("tail")
        .args(["-f"])
        .arg(&log)
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn a fake leftover service");
    // Let the kernel publish the new process's command line.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !inventory::processes()
        .iter()
        .any(|(p, _)| *p as u32 == service.id())
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(20));
    }

    stale::clean();

    let namespaces = inventory::namespaces();
    assert!(!namespaces.contains(&ns), "{namespaces:?}");
    assert!(
        namespaces.contains(&live_ns),
        "a live owner's namespace must stay"
    );
    lab::netns::remove(&live_ns);
    assert!(
        wait_exit(&mut in_ns, Duration::from_secs(5)),
        "process in the stale namespace killed"
    );
    assert!(
        wait_exit(&mut service, Duration::from_secs(5)),
        "stale service killed"
    );
    assert!(!dir.exists(), "stale temp dir removed");
}
