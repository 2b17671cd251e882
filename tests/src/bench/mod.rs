//! Load generators and measurements for the benchmark (`tests/bench/run.sh`); not tests.

pub mod flight;
pub mod handshake;
pub mod hold;
pub mod idle;
pub mod relayed;
pub mod watch;
