//! Looks for the lab's components once per build and, outside `CI=true`, sets
//! `cfg(lab_missing_<id>)` for each one missing, so that the tests marked `#[needs(<id>)]` are
//! ignored and nextest's summary counts them as skipped, with the reason. Under `CI=true` no cfg
//! is set: every test runs, and one whose component is missing fails naming it.
//!
//! Cargo runs this again when `CI` or `PATH` changes or a directory it looked in does (a tool
//! installed or removed there), so the cfgs follow the machine.

#[path = "src/lab/components.rs"]
#[allow(dead_code)]
mod components;

use components::{Component, Probe, COMPONENTS};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/lab/components.rs");
    println!("cargo::rerun-if-env-changed=CI");
    println!("cargo::rerun-if-env-changed=PATH");
    for c in COMPONENTS {
        println!("cargo::rustc-check-cfg=cfg({})", c.cfg());
    }
    if components::is_ci(std::env::var("CI").ok().as_deref()) {
        return;
    }
    let mut watched = Watched::default();
    for dir in components::program_dirs() {
        watched.add(&dir);
    }
    for c in COMPONENTS {
        if !present(c, &mut watched) {
            println!("cargo::rustc-cfg={}", c.cfg());
        }
    }
}

fn present(c: &Component, watched: &mut Watched) -> bool {
    match c.probe {
        Probe::Root => components::is_root(),
        Probe::Program(name) => components::find_program(name).is_some(),
        Probe::File(path) => {
            let path = Path::new(path);
            if let Some(existing) = path.ancestors().skip(1).find(|a| a.is_dir()) {
                watched.add(existing);
            }
            path.exists()
        }
        Probe::PythonModule(module) => {
            watched.add(Path::new("/usr/lib/python3/dist-packages"));
            ["/usr/bin/python3", "python3"].iter().any(|python| {
                Command::new(python)
                    .args(["-c", &format!("import {module}")])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            })
        }
        Probe::RustTarget(target) => {
            let Some(libdir) = target_libdir(target) else {
                return false;
            };
            // rustup rewrites this list when it adds or removes a target.
            if let Some(rustlib) = libdir.parent().and_then(Path::parent) {
                watched.add(&rustlib.join("components"));
            }
            std::fs::read_dir(&libdir).is_ok_and(|entries| {
                entries
                    .flatten()
                    .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
            })
        }
    }
}

/// Where rustc keeps `target`'s standard library (it need not exist).
fn target_libdir(target: &str) -> Option<PathBuf> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let out = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", target])
        .output()
        .ok()?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (out.status.success() && !dir.is_empty()).then(|| PathBuf::from(dir))
}

/// The paths whose change reruns this script (a directory: anything in it). Only existing ones:
/// Cargo reruns a build script on every build while a path it watches is missing.
#[derive(Default)]
struct Watched(Vec<PathBuf>);

impl Watched {
    fn add(&mut self, path: &Path) {
        if path.exists() && !self.0.iter().any(|p| p == path) {
            println!("cargo::rerun-if-changed={}", path.display());
            self.0.push(path.to_path_buf());
        }
    }
}
