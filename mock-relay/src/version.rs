//! What this build is, for `mock-relay --version`: the version, the git commit, whether the tree
//! was dirty and the target triple (`mock-relay/build.rs` finds them).

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
