//! Finding the lab's external programs, also where a non-root `PATH` lacks `sbin`.

use std::path::{Path, PathBuf};

/// Extra places searched after `PATH`.
const EXTRA_DIRS: &[&str] = &[
    "/usr/local/sbin",
    "/usr/sbin",
    "/sbin",
    "/usr/lib/squid",
    "/usr/lib64/squid",
];

/// The path of program `name`, or None when it is not installed.
pub fn find(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(EXTRA_DIRS.iter().map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

/// Like [`find`], but a missing program is a test failure naming its apt package.
pub fn require(name: &str) -> PathBuf {
    find(name).unwrap_or_else(|| {
        panic!(
            "`{name}` not found (apt package {})",
            apt_package(name).unwrap_or("?")
        )
    })
}

/// The Debian/Ubuntu package that ships `name`.
pub fn apt_package(name: &str) -> Option<&'static str> {
    Some(match name {
        "ip" => "iproute2",
        "nft" => "nftables",
        "dnsmasq" => "dnsmasq-base",
        "squid" | "basic_ncsa_auth" | "ntlm_fake_auth" | "negotiate_kerberos_auth" => "squid",
        "mitmdump" => "mitmproxy",
        "htpasswd" => "apache2-utils",
        "krb5kdc" | "kdb5_util" => "krb5-kdc",
        "kadmin.local" => "krb5-admin-server",
        "kinit" => "krb5-user",
        "faketime" => "faketime",
        "curl" => "curl",
        "python3" => "python3",
        "node" => "nodejs",
        _ => return None,
    })
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}
