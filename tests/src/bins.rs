//! Locating and running the workspace's real binaries (`probe`, `mock-relay`).
//!
//! The test crate is a separate package, so Cargo does not hand it `CARGO_BIN_EXE_*` for the other
//! packages' binaries. They sit beside the test executable's `deps/` folder. When one is missing,
//! or older than a source file of the crates it is built from (a `cargo nextest run -p e2e` after
//! an edit builds only the tests), they are built once per test process.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::SystemTime;

/// The crates the binaries are built from, relative to the workspace.
const SOURCES: &[&str] = &["probe", "mock-relay", "relay-protocol"];

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

/// The Cargo profile the tests were built with (`debug`, `release`).
pub fn profile_name() -> String {
    profile_dir()
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("debug")
        .to_string()
}

fn ensure_built() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = profile_dir();
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let newest_source = SOURCES
            .iter()
            .filter_map(|c| newest(&workspace.join(c)))
            .max();
        let stale = ["probe", "mock-relay"].iter().any(|b| {
            let built = std::fs::metadata(dir.join(exe_name(b))).and_then(|m| m.modified());
            match (built, newest_source) {
                (Err(_), _) => true,
                (Ok(built), Some(source)) => source > built,
                (Ok(_), None) => false,
            }
        });
        if stale {
            let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
            cmd.args(["build", "-p", "probe", "-p", "mock-relay", "--bins"]);
            if profile_name() == "release" {
                cmd.arg("--release");
            }
            let status = cmd.status().expect("run cargo build for the binaries");
            assert!(status.success(), "building probe and mock-relay failed");
        }
        dir
    })
}

/// The newest modification time of any file under `dir` (sources and manifests).
fn newest(dir: &Path) -> Option<SystemTime> {
    let mut newest = std::fs::metadata(dir.join("Cargo.toml"))
        .and_then(|m| m.modified())
        .ok();
    let mut stack = vec![dir.join("src")];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(path);
            } else if let Ok(m) = meta.modified() {
                newest = newest.max(Some(m));
            }
        }
    }
    newest
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

/// For a tool among the built binaries (`bench-hold`, `load-mock-relay`): the `mock-relay` beside
/// it, else `mock-relay` on PATH. Never builds.
pub fn sibling_mock_relay() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("mock-relay")))
        .unwrap_or_else(|| PathBuf::from("mock-relay"))
}
