//! The release (`tests/dist.sh`): the archives hold what the README says, the sums check, a
//! second run gives the same bytes, the static Linux probe runs in an empty root, the Windows
//! archive's probe.exe runs the demo under Wine, and the third-party licences cover every crate
//! compiled into the binaries.

use e2e::dist::{self, output, LINUX, TARGETS, WINDOWS};
use e2e::windows::{self as win, Wine};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// What every archive holds besides the binaries, relative to its top directory.
const DOCS: &[&str] = &[
    "LICENSE-APACHE",
    "LICENSE-MIT",
    "README.md",
    "THIRD-PARTY-LICENSES.txt",
    "completions/_probe",
    "completions/_probe.ps1",
    "completions/probe.bash",
    "completions/probe.elv",
    "completions/probe.fish",
    "man/probe.1",
    "scenarios/password-writeback.toml",
    "schema/result-v1.json",
];

fn files_under(dir: &Path, base: &Path, found: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("read dir").flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, base, found);
        } else {
            let rel = path.strip_prefix(base).expect("under base");
            found.insert(rel.to_string_lossy().into_owned());
        }
    }
}

#[e2e::lab::needs(dist)]
#[test]
fn archives_hold_everything_and_the_sums_check() {
    let Some(release) = dist::require() else {
        return;
    };
    output(
        Command::new("sha256sum")
            .args(["--check", "--strict", "SHA256SUMS"])
            .current_dir(&release.dir),
    );
    let sums = std::fs::read_to_string(release.dir.join("SHA256SUMS")).expect("SHA256SUMS");
    for target in TARGETS {
        let name = release.name(target);
        for file in [
            release
                .archive(target)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned(),
            format!("{name}.cdx.json"),
        ] {
            assert!(
                sums.contains(&format!("  {file}\n")),
                "{file} not in SHA256SUMS:\n{sums}"
            );
        }
        let unpacked = tempfile::tempdir().expect("temp dir");
        let top = dist::unpack(&release, target, unpacked.path());
        let mut found = BTreeSet::new();
        files_under(&top, &top, &mut found);
        let exe = if target == WINDOWS { ".exe" } else { "" };
        let mut expected: BTreeSet<String> = DOCS.iter().map(|s| s.to_string()).collect();
        expected.insert(format!("probe{exe}"));
        expected.insert(format!("mock-relay{exe}"));
        assert_eq!(found, expected, "{name}'s files");
        let sbom: serde_json::Value = serde_json::from_slice(
            &std::fs::read(release.dir.join(format!("{name}.cdx.json"))).expect("SBOM"),
        )
        .expect("the SBOM is JSON");
        assert_eq!(sbom["bomFormat"], "CycloneDX", "{name}.cdx.json");
        let components = sbom["components"].as_array().map(Vec::len).unwrap_or(0);
        assert!(
            components > 50,
            "{name}.cdx.json lists only {components} components"
        );
    }
}

#[e2e::lab::needs(dist)]
#[test]
fn the_same_source_gives_the_same_bytes() {
    let Some(release) = dist::require() else {
        return;
    };
    let again = tempfile::tempdir().expect("temp dir");
    dist::make(again.path());
    let mut names = BTreeSet::new();
    files_under(&release.dir, &release.dir, &mut names);
    names.retain(|n| !n.starts_with('.'));
    let mut names_again = BTreeSet::new();
    files_under(again.path(), again.path(), &mut names_again);
    assert_eq!(names, names_again, "the same files");
    for name in &names {
        let a = std::fs::read(release.dir.join(name)).expect("read");
        let b = std::fs::read(again.path().join(name)).expect("read");
        assert!(
            a == b,
            "{name} differs between two releases of the same source"
        );
    }
}

/// The demo's JSON report: its build identity names `target`, the direct path passes and the
/// one through the middlebox fails (the demo's design).
fn demo_report_is_whole(stdout: &[u8], target: &str) {
    let report: serde_json::Value = serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "the demo's report is not JSON ({e}):\n{}",
            String::from_utf8_lossy(stdout)
        )
    });
    let version = report["probe_version"].as_str().unwrap_or_default();
    assert!(
        version.ends_with(&format!("target {target})")),
        "probe_version: {version}"
    );
    let verdicts: Vec<(&str, &str)> = report["targets"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap_or_default(),
                t["verdict"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        [("relay via middlebox", "fail"), ("relay direct", "pass")],
        "the demo's verdicts"
    );
}

#[e2e::lab::needs(dist)]
#[test]
fn the_static_probe_runs_in_an_empty_root() {
    let Some(release) = dist::require() else {
        return;
    };
    let unpacked = tempfile::tempdir().expect("temp dir");
    let top = dist::unpack(&release, LINUX, unpacked.path());
    for bin in ["probe", "mock-relay"] {
        let ldd = Command::new("ldd")
            .arg(top.join(bin))
            .output()
            .expect("ldd");
        let said = String::from_utf8_lossy(&ldd.stdout).to_string()
            + &String::from_utf8_lossy(&ldd.stderr);
        assert!(
            said.contains("statically linked") || said.contains("not a dynamic executable"),
            "ldd {bin}: {said}"
        );
    }
    // A root with nothing but the binary: no libc, no /etc, no /proc, no /dev; a network
    // namespace with loopback only.
    let root = tempfile::tempdir().expect("temp dir");
    std::fs::copy(top.join("probe"), root.path().join("probe")).expect("copy probe");
    let chrooted = |args: &str| {
        Command::new("unshare")
            .args(["--net", "--mount", "--fork", "sh", "-c"])
            .arg(format!(
                "ip link set lo up && exec chroot {} /probe {args}",
                root.path().display()
            ))
            .env_clear()
            .output()
            .expect("unshare")
    };
    let version = chrooted("--version");
    let text = String::from_utf8_lossy(&version.stdout);
    assert!(version.status.success(), "--version: {version:?}");
    assert!(
        text.starts_with(&format!("probe {} (commit ", release.version))
            && text.contains(&format!("target {LINUX})")),
        "--version: {text}"
    );
    let demo = chrooted("demo --format json");
    assert!(demo.status.success(), "demo in an empty root: {demo:?}");
    demo_report_is_whole(&demo.stdout, LINUX);
}

#[e2e::lab::needs(dist, windows)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_windows_archive_runs_the_demo_under_wine() {
    let Some(release) = dist::require() else {
        return;
    };
    let Some(tools) = win::require() else {
        return;
    };
    let unpacked = tempfile::tempdir().expect("temp dir");
    let top = dist::unpack(&release, WINDOWS, unpacked.path());
    let wine = Wine::new(tools);
    let run = |args: &'static [&'static str]| {
        e2e::probe_cli::run_command(
            wine.command(&top.join("probe.exe")),
            args,
            Duration::from_secs(180),
        )
    };
    let version = run(&["--version"]).await;
    assert_eq!(version.code, 0, "probe.exe --version: {}", version.stderr);
    assert!(
        version.stdout.contains(&format!("target {WINDOWS})")),
        "probe.exe --version: {}",
        version.stdout
    );
    let demo = run(&["demo", "--format", "json"]).await;
    assert_eq!(demo.code, 0, "probe.exe demo: {}", demo.stderr);
    demo_report_is_whole(demo.stdout.as_bytes(), WINDOWS);
}

/// `name version` of every crate from Cargo.lock compiled into probe or mock-relay for
/// `target` (normal dependencies: no build scripts, no tests), the workspace's own left out.
fn compiled_crates(target: &str) -> BTreeSet<String> {
    let tree = output(
        Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["tree", "--locked", "-e", "normal", "--prefix", "none"])
            .args(["-p", "probe", "-p", "mock-relay", "--target", target])
            .current_dir(dist::workspace()),
    );
    tree.lines()
        .filter(|l| !l.contains('/') && !l.trim().is_empty())
        .map(|l| {
            let mut words = l.split_whitespace();
            let name = words.next().unwrap_or_default();
            let version = words.next().unwrap_or_default().trim_start_matches('v');
            format!("{name} {version}")
        })
        .collect()
}

#[e2e::lab::needs(dist)]
#[test]
fn the_licences_cover_every_compiled_crate() {
    let Some(release) = dist::require() else {
        return;
    };
    for target in TARGETS {
        let unpacked = tempfile::tempdir().expect("temp dir");
        let top = dist::unpack(&release, target, unpacked.path());
        let licences =
            std::fs::read_to_string(top.join("THIRD-PARTY-LICENSES.txt")).expect("licences");
        let listed: BTreeSet<String> = licences
            .lines()
            .filter_map(|l| l.trim().strip_prefix("crate: "))
            .map(str::to_string)
            .collect();
        let compiled = compiled_crates(target);
        assert!(compiled.len() > 100, "cargo tree found {compiled:?}");
        let missing: Vec<&String> = compiled.difference(&listed).collect();
        assert!(
            missing.is_empty(),
            "{target}: crates compiled in but not in THIRD-PARTY-LICENSES.txt: {missing:?}"
        );
    }
}
