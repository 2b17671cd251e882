//! Scenarios embedded in the binary, so `probe run` works with no files at hand.

/// `(name, TOML text)` of every built-in scenario; the first is the default.
pub const BUILTIN: &[(&str, &str)] = &[(
    "password-writeback",
    include_str!("../../../scenarios/password-writeback.toml"),
)];

/// The scenario `probe run` uses when none is named.
pub const DEFAULT: &str = "password-writeback";

pub fn find(name: &str) -> Option<&'static str> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}
