//! Property tests for every parser in the crate: no panic on arbitrary input, errors that name
//! what is wrong, and round trips wherever a format is both written and read.
//!
//! One test binary (one link) for all of them; each property runs [`CASES`] cases.

mod connection_string;
mod control;
mod gen;
mod hc_request;
mod sas;

/// Cases per property: about 20 properties, a few thousand cases in all, a few seconds in debug.
pub const CASES: u32 = 192;

pub fn config() -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases: CASES,
        ..proptest::test_runner::Config::default()
    }
}
