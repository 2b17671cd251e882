//! The lab availability policy: run when root and every tool is there; otherwise fail under
//! `CI=true` (a missing lab piece must fail CI) and skip elsewhere, saying why.

/// Call first in every lab test: `if !lab::require(&["ip", "nft"]) { return; }`.
///
/// `ip` is implied (every lab test needs namespaces or at least the lab's cleanup). Returns true
/// when the test can run. Without root or a tool: panics when `CI=true`, otherwise prints
/// `skipped: <why>` to stderr and returns false.
pub fn require(tools: &[&str]) -> bool {
    match missing(tools) {
        None => {
            super::stale::clean_once();
            true
        }
        Some(why) if in_ci() => panic!("lab unavailable under CI=true: {why}"),
        Some(why) => {
            eprintln!("skipped: {why}");
            false
        }
    }
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
