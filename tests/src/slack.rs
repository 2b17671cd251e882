//! Margins for wall-clock bounds on a loaded machine.
//!
//! A test timing something the binaries do (a fault after S seconds, an answer "at once") can
//! be late by a second or more when the whole suite shares two cores: a bound on lateness is
//! written as `late(base)`, the base times `E2E_TIME_SLACK` (default 1; a slower machine sets
//! more). Earliness is never scaled: load delays a timer, it cannot make one fire early.

use std::time::Duration;

/// How much slower than a quiet machine this one may be (`E2E_TIME_SLACK`, at least 1).
pub fn factor() -> f64 {
    std::env::var("E2E_TIME_SLACK")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|f| f.is_finite() && *f >= 1.0)
        .unwrap_or(1.0)
}

/// A bound on how late something may be: `base` scaled by [`factor`].
pub fn late(base: Duration) -> Duration {
    base.mul_f64(factor())
}
