//! The lab's components, written once: what a test may need, how to tell whether it is here,
//! and how to install it. Three readers share this file: `tests/build.rs` (outside `CI=true` it
//! turns each missing component into `cfg(lab_missing_<id>)`), the `#[needs(...)]` attribute of
//! `tests/macros` (which turns those cfgs into `#[ignore = "<why>"]`, so nextest counts the test
//! as skipped), and the library at run time ([`crate::lab::require`] and friends). Hence only
//! `std` here.

use std::path::{Path, PathBuf};

/// How to tell whether a component is here.
pub enum Probe {
    /// The process runs as root (lab tests make network namespaces and nftables rules).
    Root,
    /// An executable of this name on `PATH` or in [`EXTRA_DIRS`].
    Program(&'static str),
    /// This file exists (relative to the `tests` crate).
    File(&'static str),
    /// Debian's Python (or the one on `PATH`) can `import` this module.
    PythonModule(&'static str),
    /// rustup installed this Rust target's standard library.
    RustTarget(&'static str),
}

/// How a missing component gets installed, for the skip's message.
pub enum Install {
    /// The Debian/Ubuntu package (`tests/setup-lab.sh` installs it).
    Apt(&'static str),
    /// What to run or do instead.
    Other(&'static str),
}

/// One thing a test may need.
pub struct Component {
    /// Its name in `#[needs(...)]` and in `cfg(lab_missing_<id>)`.
    pub id: &'static str,
    pub probe: Probe,
    pub install: Install,
}

impl Component {
    /// Why a test that needs this component skips when it is missing.
    pub fn why(&self) -> String {
        let what = match self.probe {
            Probe::Root => return "lab tests need root (network namespaces, nftables)".into(),
            Probe::Program(name) => format!("`{name}` not installed"),
            Probe::File(path) => format!("tests/{path} missing"),
            Probe::PythonModule(module) => format!("python module {module} not installed"),
            Probe::RustTarget(target) => format!("the Rust target {target} is not installed"),
        };
        match self.install {
            Install::Apt(package) => format!("{what} (apt: {package})"),
            Install::Other(how) => format!("{what} ({how})"),
        }
    }

    /// The cfg the build script sets when this component is missing outside CI.
    pub fn cfg(&self) -> String {
        format!("lab_missing_{}", self.id)
    }
}

/// Names in `#[needs(...)]` that stand for several components.
pub const GROUPS: &[(&str, &[&str])] = &[
    // What every lab test needs (as `lab::require` implies).
    ("lab", &["root", "ip"]),
    // A Kerberos realm of its own (`lab::Kdc`).
    ("kdc", &["krb5kdc", "kdb5_util", "kadmin_local", "kinit"]),
    // probe.exe under Wine (`windows::require`); the target first, as its skip comes first.
    (
        "windows",
        &["windows_target", "mingw_gcc", "wine64", "wineserver"],
    ),
    // The release (`dist::require`, `tests/setup-dist.sh`).
    (
        "dist",
        &[
            "root",
            "musl_target",
            "windows_target",
            "cargo_about",
            "cargo_cyclonedx",
            "musl_gcc",
            "unshare",
            "chroot",
        ],
    ),
];

/// The components `name` stands for: a group's, or the one of that id.
pub fn expand(name: &str) -> Vec<&str> {
    GROUPS
        .iter()
        .find(|(group, _)| *group == name)
        .map_or_else(|| vec![name], |(_, ids)| ids.to_vec())
}

const fn program(id: &'static str, name: &'static str, apt: &'static str) -> Component {
    Component {
        id,
        probe: Probe::Program(name),
        install: Install::Apt(apt),
    }
}

const DIST: Install = Install::Other("tests/setup-dist.sh installs it");

/// Every component a test can name.
pub const COMPONENTS: &[Component] = &[
    Component {
        id: "root",
        probe: Probe::Root,
        install: Install::Other("run as root"),
    },
    program("ip", "ip", "iproute2"),
    program("nft", "nft", "nftables"),
    program("conntrack", "conntrack", "conntrack"),
    program("dnsmasq", "dnsmasq", "dnsmasq-base"),
    program("squid", "squid", "squid"),
    program("basic_ncsa_auth", "basic_ncsa_auth", "squid"),
    program("ntlm_fake_auth", "ntlm_fake_auth", "squid"),
    program(
        "negotiate_kerberos_auth",
        "negotiate_kerberos_auth",
        "squid",
    ),
    program("htpasswd", "htpasswd", "apache2-utils"),
    program("mitmdump", "mitmdump", "mitmproxy"),
    program("curl", "curl", "curl"),
    program("krb5kdc", "krb5kdc", "krb5-kdc"),
    program("kdb5_util", "kdb5_util", "krb5-kdc"),
    program("kadmin_local", "kadmin.local", "krb5-admin-server"),
    program("kinit", "kinit", "krb5-user"),
    program("faketime", "faketime", "faketime"),
    program("python3", "python3", "python3"),
    program("node", "node", "nodejs"),
    Component {
        id: "hyco",
        probe: Probe::File("hyco/node_modules/.installed-v1"),
        install: Install::Other("Microsoft's clients: run tests/hyco/install.sh"),
    },
    program("promtool", "promtool", "prometheus"),
    program("chromium", "chromium", "chromium"),
    Component {
        id: "junitparser",
        probe: Probe::PythonModule("junitparser"),
        install: Install::Apt("python3-junitparser"),
    },
    Component {
        id: "websockets",
        probe: Probe::PythonModule("websockets"),
        install: Install::Apt("python3-websockets"),
    },
    program(
        "mingw_gcc",
        "x86_64-w64-mingw32-gcc",
        "gcc-mingw-w64-x86-64",
    ),
    program("wine64", "wine64", "wine64"),
    program("wineserver", "wineserver", "wine64"),
    Component {
        id: "windows_target",
        probe: Probe::RustTarget("x86_64-pc-windows-gnu"),
        install: Install::Other("rustup target add x86_64-pc-windows-gnu"),
    },
    Component {
        id: "musl_target",
        probe: Probe::RustTarget("x86_64-unknown-linux-musl"),
        install: Install::Other("rustup target add x86_64-unknown-linux-musl"),
    },
    Component {
        id: "cargo_about",
        probe: Probe::Program("cargo-about"),
        install: DIST,
    },
    Component {
        id: "cargo_cyclonedx",
        probe: Probe::Program("cargo-cyclonedx"),
        install: DIST,
    },
    program("musl_gcc", "musl-gcc", "musl-tools"),
    program("unshare", "unshare", "util-linux"),
    program("chroot", "chroot", "coreutils"),
];

/// The component named `id`, if there is one.
pub fn component(id: &str) -> Option<&'static Component> {
    COMPONENTS.iter().find(|c| c.id == id)
}

/// The component that is the program `name`, if there is one.
pub fn program_component(name: &str) -> Option<&'static Component> {
    COMPONENTS
        .iter()
        .find(|c| matches!(c.probe, Probe::Program(p) if p == name))
}

/// Places searched for programs after `PATH`: `sbin` (off a non-root `PATH`), Squid's helpers,
/// and Debian's Wine (`wine64`, `wineserver`).
pub const EXTRA_DIRS: &[&str] = &[
    "/usr/local/sbin",
    "/usr/sbin",
    "/sbin",
    "/usr/lib/squid",
    "/usr/lib64/squid",
    "/usr/lib/wine",
    "/usr/lib64/wine",
];

/// Every directory a program is looked for in, in order: `PATH`, then [`EXTRA_DIRS`].
pub fn program_dirs() -> Vec<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(EXTRA_DIRS.iter().map(PathBuf::from))
        .collect()
}

/// The path of program `name`, or None when it is not installed.
pub fn find_program(name: &str) -> Option<PathBuf> {
    program_dirs()
        .into_iter()
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

#[cfg(unix)]
fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn is_executable(p: &Path) -> bool {
    p.is_file()
}

/// Whether this process runs as root: `/proc/self` belongs to the effective user.
#[cfg(unix)]
pub fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

#[cfg(not(unix))]
pub fn is_root() -> bool {
    false
}

/// Whether `value` of the `CI` variable means a CI run, where a missing component fails.
pub fn is_ci(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_group_and_id_names_one_known_component() {
        for (group, ids) in GROUPS {
            assert!(component(group).is_none(), "{group} is a group and an id");
            for id in *ids {
                assert!(component(id).is_some(), "group {group}: unknown {id}");
            }
        }
        for (i, c) in COMPONENTS.iter().enumerate() {
            assert!(
                COMPONENTS[i + 1..].iter().all(|d| d.id != c.id),
                "{} twice",
                c.id
            );
            assert!(
                c.id.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '_'),
                "{} cannot be part of a cfg name",
                c.id
            );
        }
    }
}
