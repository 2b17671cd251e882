//! Finding the lab's external programs, also where a non-root `PATH` lacks `sbin` (the places
//! searched are [`super::components::EXTRA_DIRS`], shared with the build script).

use super::components::{self, Install};
use std::path::PathBuf;

/// The path of program `name`, or None when it is not installed.
pub fn find(name: &str) -> Option<PathBuf> {
    components::find_program(name)
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

/// The Debian/Ubuntu package that ships `name` (from [`components::COMPONENTS`]).
pub fn apt_package(name: &str) -> Option<&'static str> {
    match components::program_component(name)?.install {
        Install::Apt(package) => Some(package),
        Install::Other(_) => None,
    }
}
