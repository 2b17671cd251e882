//! Locating and running the workspace's real binaries (`probe`, `mock-relay`).
//!
//! The test crate is a separate package, so Cargo does not hand it `CARGO_BIN_EXE_*` for the other
//! packages' binaries. They sit beside the test executable's `deps/` folder; when they are missing
//! (a `cargo test -p e2e` run) they are built once.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The profile directory (`target/debug`) that holds this executable: a test sits in its
/// `deps/` folder, a binary of this crate (the load test) in the profile directory itself.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().expect("executable dir");
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().expect("profile dir").to_path_buf()
    } else {
        dir.to_path_buf()
    }
}

fn ensure_built() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = profile_dir();
        let missing = ["probe", "mock-relay"]
            .iter()
            .any(|b| !dir.join(exe_name(b)).exists());
        if missing {
            let profile = dir.file_name().and_then(|n| n.to_str()).unwrap_or("debug");
            let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
            cmd.args(["build", "-p", "probe", "-p", "mock-relay", "--bins"]);
            if profile == "release" {
                cmd.arg("--release");
            }
            let status = cmd.status().expect("run cargo build for the binaries");
            assert!(status.success(), "building probe and mock-relay failed");
        }
        dir
    })
}

fn exe_name(name: &str) -> String {
    format!("{name}{}", std::env::consts::EXE_SUFFIX)
}

/// Path of the `probe` binary.
pub fn probe() -> PathBuf {
    ensure_built().join(exe_name("probe"))
}

/// Path of the `mock-relay` binary.
pub fn mock_relay() -> PathBuf {
    ensure_built().join(exe_name("mock-relay"))
}
