//! Reading what `probe watch` wrote (`--events FILE`, `probe.watch-event/v1` JSON lines), and
//! waiting on it: tests synchronise on the watch's own events, not on sleeps.

use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Every event in `path` (and none for a file not yet written).
pub fn read(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The events of one kind (`push`, `reopen`, `incident`, ...), of one target when given.
pub fn of<'a>(events: &'a [Value], kind: &str, target: Option<&str>) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["event"] == kind && target.is_none_or(|t| e["target"] == t))
        .collect()
}

/// Polls `path` until `done` holds for its events; panics with them after `limit`.
pub fn wait_for(path: &Path, limit: Duration, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + limit;
    loop {
        let events = read(path);
        if done(&events) {
            return events;
        }
        if Instant::now() > deadline {
            panic!(
                "the watch's events did not come in time:\n{}",
                std::fs::read_to_string(path).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// [`wait_for`] from an async test: the same bounded wait on the watch's events, off the
/// runtime's thread, so the tasks beside it (the watch itself) keep running.
pub async fn wait_for_async(
    path: &Path,
    limit: Duration,
    done: impl Fn(&[Value]) -> bool + Send + 'static,
) -> Vec<Value> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || wait_for(&path, limit, done))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// Whether any push among `events` was delivered.
pub fn delivered(events: &[Value]) -> bool {
    of(events, "push", None)
        .iter()
        .any(|p| p["outcome"] == "delivered")
}

/// An RFC 3339 field of an event.
pub fn time(event: &Value, field: &str) -> OffsetDateTime {
    let text = event[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {event}"));
    OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("{field} {text}: {e}"))
}

/// Whether a push event failed.
pub fn failed(push: &Value) -> bool {
    push["outcome"] != "delivered"
}

/// The watch's books balance: its `stopped` totals for `target` are the events it wrote.
pub fn assert_counts_add_up(events: &[Value], target: &str) {
    let pushes = of(events, "push", Some(target));
    let stopped = of(events, "stopped", Some(target));
    let stopped = stopped
        .first()
        .unwrap_or_else(|| panic!("no stopped event for {target}"));
    let failed_n = pushes.iter().filter(|p| failed(p)).count() as u64;
    assert_eq!(stopped["pushes"], pushes.len() as u64, "{stopped}");
    assert_eq!(stopped["failed"], failed_n, "{stopped}");
    let incidents = of(events, "incident", Some(target));
    assert_eq!(stopped["incidents"], incidents.len() as u64, "{stopped}");
    assert_eq!(
        stopped["reopens"],
        of(events, "reopen", Some(target)).len() as u64,
        "{stopped}"
    );
    let in_incidents: u64 = incidents
        .iter()
        .map(|i| {
            i["failed_pushes"]
                .as_u64()
                .unwrap_or_else(|| panic!("an incident without failed_pushes: {i}"))
        })
        .sum();
    assert_eq!(
        in_incidents, failed_n,
        "every failed push belongs to one incident"
    );
}
