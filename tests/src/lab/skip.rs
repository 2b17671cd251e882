//! The lab availability policy (the developers' guide): under `CI=true` a missing lab component
//! fails the test, naming it; elsewhere the test skips, saying why.
//!
//! nextest has no status a test can report at run time for a skip (a test that returns early
//! counts as passed), so the skip is decided at build time: `tests/build.rs` finds the missing
//! components and each test's `#[needs(...)]` ([`super::needs`]) ignores it, which nextest
//! counts as skipped and explains. A test that still gets here with something missing (run
//! with `--run-ignored`, or the machine changed after the build) prints `skipped: <why>` and
//! returns.

/// Call first in every lab test: `if !lab::require(&["nft"]) { return; }` (and mark the test
/// `#[lab::needs(lab, nft)]`).
///
/// `ip` is implied (every lab test needs namespaces or at least the lab's cleanup). Returns true
/// when the test can run. Without root or a tool: see [`unavailable`].
pub fn require(tools: &[&str]) -> bool {
    match missing(tools) {
        None => {
            super::stale::clean_once();
            true
        }
        Some(why) => {
            unavailable(&why);
            false
        }
    }
}

/// A component this test needs is missing (`why` names it and how to install it).
///
/// Under `CI=true` panics: the test fails. Elsewhere prints `skipped: <why>` to stderr and
/// returns; the caller returns early.
pub fn unavailable(why: &str) {
    if in_ci() {
        panic!("lab unavailable under CI=true: {why}");
    }
    eprintln!("skipped: {why}");
}

/// Why the lab cannot run here, or None when it can.
pub fn missing(tools: &[&str]) -> Option<String> {
    use super::components;
    if !components::is_root() {
        return components::component("root").map(components::Component::why);
    }
    let absent: Vec<String> = std::iter::once("ip")
        .chain(tools.iter().copied())
        .filter(|t| super::tools::find(t).is_none())
        .map(|t| match super::tools::apt_package(t) {
            Some(p) => format!("{t} (apt: {p})"),
            None => t.to_string(),
        })
        .collect();
    if absent.is_empty() {
        None
    } else {
        Some(format!("lab tools missing: {}", absent.join(", ")))
    }
}

/// Whether this is a CI run (`CI=true`), where a missing lab piece fails the test.
pub fn in_ci() -> bool {
    super::components::is_ci(std::env::var("CI").ok().as_deref())
}
