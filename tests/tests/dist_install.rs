//! The README's Install section works as written on a machine without Rust: its first `sh`
//! block runs in a mount namespace where the toolchain's directories are empty and a network
//! namespace with loopback only, beside the Linux archive and SHA256SUMS. `./probe run` needs
//! the internet, so it is left out; everything before it runs as written.

use e2e::dist::{self, LINUX};
use std::path::PathBuf;
use std::process::Command;

/// The first ```sh block after `## Install`.
fn install_block() -> String {
    let readme =
        std::fs::read_to_string(dist::workspace().join("README.md")).expect("read README.md");
    let section = readme
        .split_once("\n## Install\n")
        .expect("README has an Install section")
        .1;
    let section = section.split("\n## ").next().unwrap_or_default();
    let block = section
        .split_once("```sh\n")
        .expect("an sh block in Install")
        .1;
    block
        .split_once("```")
        .expect("the block ends")
        .0
        .to_string()
}

/// Where a toolchain could be found: rustup's and Cargo's homes and the directories of the
/// `cargo`, `rustc` and `rustup` on PATH.
fn toolchain_dirs() -> Vec<PathBuf> {
    let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_else(|| "/root".into()));
    let mut dirs: Vec<PathBuf> = [
        std::env::var_os("CARGO_HOME").map(PathBuf::from),
        std::env::var_os("RUSTUP_HOME").map(PathBuf::from),
        Some(home.join(".cargo")),
        Some(home.join(".rustup")),
    ]
    .into_iter()
    .flatten()
    .collect();
    for tool in ["cargo", "rustc", "rustup"] {
        if let Some(dir) = e2e::lab::tools::find(tool).and_then(|p| p.parent().map(PathBuf::from)) {
            dirs.push(dir);
        }
    }
    dirs.retain(|d| d.is_dir());
    dirs.sort();
    // A directory inside one already hidden is gone with it (and could not be mounted on).
    let mut outer: Vec<PathBuf> = Vec::new();
    for d in dirs {
        if !outer.iter().any(|o| d.starts_with(o)) {
            outer.push(d);
        }
    }
    outer
}

#[e2e::lab::needs(dist)]
#[test]
fn the_readme_install_steps_work_without_rust() {
    let Some(release) = dist::require() else {
        return;
    };
    let block = install_block();
    assert!(block.contains("./probe demo"), "Install block:\n{block}");
    let steps: Vec<&str> = block.lines().filter(|l| !l.contains("probe run")).collect();
    let download = tempfile::tempdir().expect("temp dir");
    for file in [release.archive(LINUX), release.dir.join("SHA256SUMS")] {
        std::fs::copy(&file, download.path().join(file.file_name().unwrap())).expect("copy");
    }
    let hide: String = toolchain_dirs()
        .iter()
        .map(|d| format!("mount -t tmpfs none '{}'\n", d.display()))
        .collect();
    let script = format!(
        "set -eu\nip link set lo up\n{hide}cd '{}'\n\
         if command -v cargo || command -v rustc; then echo 'a toolchain is visible' >&2; exit 99; fi\n\
         set -x\n{}\n",
        download.path().display(),
        steps.join("\n")
    );
    let out = Command::new("unshare")
        .args(["--mount", "--net", "--fork", "sh", "-c", &script])
        .env_clear()
        .env(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        )
        .env("HOME", "/root")
        .output()
        .expect("unshare");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the README's Install steps failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(": OK")
            && stdout.contains("\"relay direct\"")
            && stdout.contains("\"verdict\""),
        "sha256sum said OK and the demo reported (JSON: stdout is not a terminal):\n{stdout}"
    );
}
