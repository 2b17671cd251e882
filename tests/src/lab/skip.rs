//! The lab availability policy: run when root and every tool is there; otherwise the test
//! fails, saying what is missing, unless skips are allowed outside CI (`E2E_ALLOW_SKIP=1`).
//!
//! nextest has no skipped status a test can report at run time: a test that returns early is
//! counted as passed. So a missing lab piece fails by default, visible in nextest's summary,
//! and a run that means to go without the lab says so (it then prints `skipped: <why>`).

/// Call first in every lab test: `if !lab::require(&["ip", "nft"]) { return; }`.
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

/// The variable that lets a run outside CI skip the tests whose lab pieces are missing.
pub const ALLOW_SKIP: &str = "E2E_ALLOW_SKIP";

/// A piece of the lab this test needs is missing (`why` names it and how to install it).
///
/// Panics (the test fails) unless skips are allowed: `E2E_ALLOW_SKIP=1` outside `CI=true`.
/// Then prints `skipped: <why>` to stderr and returns; the caller returns early.
pub fn unavailable(why: &str) {
    if in_ci() {
        panic!("lab unavailable under CI=true: {why}");
    }
    if !skips_allowed() {
        panic!("lab unavailable: {why} (set {ALLOW_SKIP}=1 to skip such tests instead)");
    }
    eprintln!("skipped: {why}");
}

/// Whether this run outside CI allows skipping tests whose lab pieces are missing.
pub fn skips_allowed() -> bool {
    std::env::var(ALLOW_SKIP).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

/// Why the lab cannot run here, or None when it can.
pub fn missing(tools: &[&str]) -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("lab tests need root (network namespaces, nftables)".into());
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
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}
