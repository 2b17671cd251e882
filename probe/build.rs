// Build identity for `--version` and the JSON result's `probe_version`: the git commit, whether
// the tree was dirty, and the target triple, as the compile-time variables `BUILD_COMMIT`,
// `BUILD_TREE` (`clean`, `dirty` or `unknown`) and `BUILD_TARGET`. `mock-relay/build.rs`
// includes this file.
//
// `PROBE_BUILD_COMMIT` and `PROBE_BUILD_TREE`, when set (`tests/dist.sh` sets both), are used
// as they are. Otherwise git is asked; without git or outside a repository (a source tarball)
// both say `unknown`. The script reruns when HEAD moves, the branch it names moves, or the
// index changes (a commit, `git add`), never on every build: an edit not yet added may leave a
// development build saying `clean`; release builds through `tests/dist.sh` are always exact.

use std::path::PathBuf;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PROBE_BUILD_COMMIT");
    println!("cargo:rerun-if-env-changed=PROBE_BUILD_TREE");
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    let commit = std::env::var("PROBE_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["rev-parse", "HEAD"]))
        .unwrap_or_else(|| "unknown".into());
    let tree = std::env::var("PROBE_BUILD_TREE")
        .ok()
        .filter(|t| !t.is_empty())
        .or_else(|| {
            // --no-optional-locks: `git status` must not rewrite the index it is watched by.
            git(&["--no-optional-locks", "status", "--porcelain"])
                .map(|s| if s.is_empty() { "clean" } else { "dirty" }.to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    for path in watched() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
    println!("cargo:rustc-env=BUILD_COMMIT={commit}");
    println!("cargo:rustc-env=BUILD_TREE={tree}");
    println!("cargo:rustc-env=BUILD_TARGET={target}");
}

/// `git ARGS` in this package's directory: its trimmed stdout, or None when git is missing or
/// fails (no repository).
fn git(args: &[&str]) -> Option<String> {
    let dir = std::env::var_os("CARGO_MANIFEST_DIR")?;
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// HEAD, the branch ref it points to, packed-refs and the index, as git names them (in a
/// worktree they live in different directories). Only existing files: a missing one would
/// make Cargo rerun the script on every build.
fn watched() -> Vec<PathBuf> {
    let mut names = vec!["HEAD".to_string(), "packed-refs".into(), "index".into()];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        names.push(branch);
    }
    names
        .iter()
        .filter_map(|name| git(&["rev-parse", "--path-format=absolute", "--git-path", name]))
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .collect()
}
