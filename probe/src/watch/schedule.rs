//! When the next push goes out, and how long a failed listener waits before its next reopen.
//!
//! Pushes come at random, as password resets do: exponential gaps (a Poisson process) with the
//! mean asked for, each bounded between a tenth and three times the mean, so a run of very short
//! or very long gaps neither floods the relay nor leaves the path unwatched.

use std::time::Duration;

/// The relay SDK's reconnect backoff after a listener fails (the .NET SDK's
/// `ConnectDelayIntervals`): the first retry at once, then 1, 2, 5, 10 and 30 s, and 30 s on.
pub const BACKOFF: [Duration; 6] = [
    Duration::ZERO,
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(10),
    Duration::from_secs(30),
];

/// The wait before reopen attempt `attempt` (from 1).
pub fn backoff(attempt: u32) -> Duration {
    let i = (attempt.max(1) - 1) as usize;
    BACKOFF[i.min(BACKOFF.len() - 1)]
}

/// Random gaps with a mean; a small generator of its own (splitmix64), seeded per target, so the
/// watch needs no randomness crate and a seed replays a schedule.
pub struct Gaps {
    mean: Duration,
    state: u64,
}

impl Gaps {
    pub fn new(mean: Duration, seed: u64) -> Gaps {
        Gaps { mean, state: seed }
    }

    /// A seed that differs per process and per call.
    pub fn fresh_seed(salt: u64) -> u64 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or_default();
        nanos ^ (u64::from(std::process::id()) << 32) ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }

    /// The next gap: exponential with the mean, bounded to [mean/10, 3 x mean].
    pub fn next_gap(&mut self) -> Duration {
        // Uniform in (0, 1]: never 0, whose logarithm is infinite.
        let u = ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
        let mean = self.mean.as_secs_f64();
        let gap = (-u.ln() * mean).clamp(mean / 10.0, 3.0 * mean);
        Duration::from_secs_f64(gap)
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_average_the_mean_within_their_bounds() {
        let mean = Duration::from_secs(300);
        let mut gaps = Gaps::new(mean, 7);
        let n = 20_000;
        let all: Vec<f64> = (0..n).map(|_| gaps.next_gap().as_secs_f64()).collect();
        assert!(all.iter().all(|g| (30.0..=900.0).contains(g)), "bounded");
        let average = all.iter().sum::<f64>() / n as f64;
        // The bounds move the mean a little (up from the floor, down from the cap).
        assert!((270.0..330.0).contains(&average), "average {average}");
        // Exponential, not constant: a spread of short and long gaps.
        assert!(all.iter().filter(|g| **g < 100.0).count() > n / 5);
        assert!(all.iter().filter(|g| **g > 600.0).count() > n / 50);
    }

    #[test]
    fn the_same_seed_replays_the_same_schedule() {
        let mean = Duration::from_secs(1);
        let a: Vec<_> = {
            let mut g = Gaps::new(mean, 42);
            (0..10).map(|_| g.next_gap()).collect()
        };
        let mut g = Gaps::new(mean, 42);
        assert_eq!(a, (0..10).map(|_| g.next_gap()).collect::<Vec<_>>());
    }

    #[test]
    fn backoff_follows_the_sdk_then_stays_at_thirty_seconds() {
        let secs: Vec<u64> = (1..=8).map(|a| backoff(a).as_secs()).collect();
        assert_eq!(secs, [0, 1, 2, 5, 10, 30, 30, 30]);
    }
}
