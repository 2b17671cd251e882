//! What this build is: the version, the git commit, whether the tree was dirty and the target
//! triple (`probe/build.rs` finds them). `probe --version` prints it after the name, and every
//! JSON result records it as `probe_version`.

/// E.g. `0.1.0 (commit 80c3948…, tree clean, target x86_64-unknown-linux-musl)`.
pub const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("BUILD_COMMIT"),
    ", tree ",
    env!("BUILD_TREE"),
    ", target ",
    env!("BUILD_TARGET"),
    ")"
);

#[cfg(test)]
mod tests {
    use super::LONG;

    #[test]
    fn names_the_version_commit_tree_and_target() {
        let rest = LONG
            .strip_prefix(concat!(env!("CARGO_PKG_VERSION"), " (commit "))
            .unwrap_or_else(|| panic!("{LONG}"));
        let (commit, rest) = rest.split_once(", tree ").expect("tree");
        assert!(
            commit == "unknown"
                || (commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit())),
            "{LONG}"
        );
        let (tree, target) = rest.split_once(", target ").expect("target");
        assert!(["clean", "dirty", "unknown"].contains(&tree), "{LONG}");
        assert!(target.ends_with(')') && target.len() > 5, "{LONG}");
    }
}
