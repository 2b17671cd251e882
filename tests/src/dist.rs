//! The release (`tests/dist.sh`) as the tests see it: made once per commit into
//! `target/dist-e2e/` and shared by every test process (a file lock keeps two from making it at
//! once; a dirty tree is made anew each time). The builds are Cargo's, so a second release of
//! the same source reuses the compiled binaries and repeats only the packaging.
//!
//! Availability follows the lab's rule: without root, musl-gcc, cargo-about or cargo-cyclonedx
//! (`tests/setup-dist.sh` installs them) the tests fail under `CI=true` and skip elsewhere,
//! saying why; a Rust target rustup could not download is a skip everywhere.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

pub const LINUX: &str = "x86_64-unknown-linux-musl";
pub const WINDOWS: &str = "x86_64-pc-windows-gnu";
pub const TARGETS: [&str; 2] = [LINUX, WINDOWS];

/// A release directory: the archives, the SBOMs and `SHA256SUMS`.
#[derive(Debug, Clone)]
pub struct Release {
    pub dir: PathBuf,
    pub version: String,
}

impl Release {
    /// `probe-VERSION-TARGET`: the archive's name without extension, and its top directory.
    pub fn name(&self, target: &str) -> String {
        format!("probe-{}-{target}", self.version)
    }

    pub fn archive(&self, target: &str) -> PathBuf {
        let ext = if target.contains("windows") {
            "zip"
        } else {
            "tar.gz"
        };
        self.dir.join(format!("{}.{ext}", self.name(target)))
    }
}

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace dir")
        .to_path_buf()
}

/// Call first: `let Some(release) = dist::require() else { return };`.
pub fn require() -> Option<Release> {
    // A Rust target that rustup could not download is a skip, under CI too (as for the
    // Windows tests); anything else missing fails CI.
    if let Some(why) = missing_targets() {
        eprintln!("skipped: {why}");
        return None;
    }
    if let Some(why) = missing() {
        crate::lab::skip::unavailable(&why);
        return None;
    }
    Some(shared())
}

fn missing() -> Option<String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } != 0 {
        return Some("release tests need root (chroot, namespaces)".into());
    }
    let tools: Vec<&str> = [
        "cargo-about",
        "cargo-cyclonedx",
        "musl-gcc",
        "unshare",
        "chroot",
    ]
    .into_iter()
    .filter(|t| crate::lab::tools::find(t).is_none())
    .collect();
    (!tools.is_empty()).then(|| {
        format!(
            "not installed: {} (tests/setup-dist.sh installs them)",
            tools.join(", ")
        )
    })
}

fn missing_targets() -> Option<String> {
    let installed = output(Command::new("rustup").args(["target", "list", "--installed"]));
    let targets: Vec<&str> = TARGETS
        .into_iter()
        .filter(|t| !installed.lines().any(|l| l == *t))
        .collect();
    (!targets.is_empty()).then(|| {
        format!(
            "Rust targets not installed: {} (tests/setup-dist.sh)",
            targets.join(", ")
        )
    })
}

/// The release of the current commit in `target/dist-e2e/`, made if it is not there.
fn shared() -> Release {
    let root = workspace();
    let dir = root.join("target/dist-e2e");
    std::fs::create_dir_all(&dir).expect("create target/dist-e2e");
    let lock = std::fs::File::create(root.join("target/dist-e2e.lock")).expect("lock file");
    // SAFETY: flock on a descriptor this process owns; released when `lock` is dropped.
    unsafe {
        use std::os::fd::AsRawFd;
        libc::flock(lock.as_raw_fd(), libc::LOCK_EX);
    }
    let clean = output(
        Command::new("git")
            .args(["status", "--porcelain"])
            .current_dir(&root),
    )
    .trim()
    .is_empty();
    let stamp = format!(
        "{} {}",
        output(
            Command::new("git")
                .args(["rev-parse", "HEAD"])
                .current_dir(&root)
        )
        .trim(),
        if clean { "clean" } else { "dirty" }
    );
    let stamp_file = dir.join(".made-from");
    let made = std::fs::read_to_string(&stamp_file).ok();
    if !(clean && made.as_deref() == Some(stamp.as_str())) {
        let _ = std::fs::remove_file(&stamp_file);
        make(&dir);
        std::fs::write(&stamp_file, &stamp).expect("write the stamp");
    }
    drop(lock);
    Release {
        dir,
        version: version(),
    }
}

/// Runs `tests/dist.sh --out DIR` (both default targets); panics with its output on failure.
pub fn make(dir: &Path) {
    let started = Instant::now();
    let out = Command::new(workspace().join("tests/dist.sh"))
        .arg("--out")
        .arg(dir)
        .output()
        .expect("run tests/dist.sh");
    assert!(
        out.status.success(),
        "tests/dist.sh failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "dist: release made in {:.0} s in {}",
        started.elapsed().as_secs_f64(),
        dir.display()
    );
}

/// The workspace's version (Cargo.toml's `[workspace.package]`).
pub fn version() -> String {
    let manifest = std::fs::read_to_string(workspace().join("Cargo.toml")).expect("Cargo.toml");
    manifest
        .lines()
        .find_map(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .expect("a version line in Cargo.toml")
        .to_string()
}

/// Runs `cmd` and returns its stdout; panics when it cannot run or fails.
pub fn output(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Unpacks `archive` (.tar.gz or .zip) into `into`; returns the top directory.
pub fn unpack(release: &Release, target: &str, into: &Path) -> PathBuf {
    let archive = release.archive(target);
    if target.contains("windows") {
        output(
            Command::new("python3")
                .args(["-m", "zipfile", "-e"])
                .arg(&archive)
                .arg(into),
        );
    } else {
        output(
            Command::new("tar")
                .arg("-xzf")
                .arg(&archive)
                .arg("-C")
                .arg(into),
        );
    }
    into.join(release.name(target))
}
