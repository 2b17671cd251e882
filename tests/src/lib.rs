//! Shared harness for the end-to-end tests: the real binaries, real peers, real networks.

pub mod bins;
