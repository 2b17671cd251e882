//! Debian's Python with a given module, for the tests that drive an independent client.

use crate::report_tools::require_tool;
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// A Python interpreter that can `import module` (Debian package `apt`), or None: missing
/// fails the test under `CI=true` and skips it elsewhere ([`crate::lab::skip::unavailable`]).
pub fn require_module(module: &str, apt: &str) -> Option<PathBuf> {
    let python = require_tool("python3", "python3")?;
    // The system interpreter first: Debian's python3-* packages install into it, not into a
    // pyenv or virtualenv that may come first on PATH.
    for candidate in [PathBuf::from("/usr/bin/python3"), python] {
        let ok = Command::new(&candidate)
            .args(["-c", &format!("import {module}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(candidate);
        }
    }
    let why = format!("python module {module} not installed (apt: {apt})");
    crate::lab::skip::unavailable(&why);
    None
}

/// The path of a file in the tests folder (`tests/NAME`).
pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name)
}
