//! Properties (proptest, stable Rust) of every parser that takes outside input:
//! scenario TOML, target URLs and `--resolve`, proxy URLs and `NO_PROXY`, machine.config, the
//! result JSON `probe report` reads, and the relay channel's messages as the probe reads them
//! (the listener channel's own properties live in relay-protocol). Properties: no panic, no
//! hang, errors that name the file or field, round trips where a format is written and read.
//!
//! Each property runs `PROPTEST_CASES` cases ([`DEFAULT_CASES`] in a normal test run) from a
//! random seed, and prints its rate. A longer run, and the replay of a failure:
//!
//! ```text
//! PROPTEST_CASES=100000 cargo test -p probe --test properties -- --nocapture --test-threads 2
//! PROBE_FUZZ_SEED=<seed printed by the failure> cargo test -p probe --test properties scenario
//! ```

mod machine_config;
mod proxy;
mod relay_frames;
mod result_json;
mod scenario;
mod urls;

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use std::time::{Duration, Instant};

/// Cases per property in a normal test run: a few thousand, a few seconds in all in debug.
pub const DEFAULT_CASES: u32 = 2000;
/// The most one case may take: far above any real parse, so only a pathological input (a
/// near-hang) trips it.
const CASE_LIMIT: Duration = Duration::from_secs(5);

/// `PROPTEST_CASES`, else [`DEFAULT_CASES`].
pub fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_CASES)
}

/// `PROBE_FUZZ_SEED` (64 hex digits), else a fresh random seed.
fn seed() -> [u8; 32] {
    if let Some(seed) = std::env::var("PROBE_FUZZ_SEED")
        .ok()
        .and_then(|s| from_hex(&s))
    {
        return seed;
    }
    use std::hash::{BuildHasher, Hasher};
    let mut seed = [0u8; 32];
    for chunk in seed.chunks_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default(),
        );
        chunk.copy_from_slice(&h.finish().to_le_bytes());
    }
    seed
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(text: &str) -> Option<[u8; 32]> {
    let text = text.trim();
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Runs `property` on `cases()` values of the strategy `make()` builds, on a thread of its
/// own so a hang fails the test instead of stalling it; prints cases per second, and on a
/// failure the minimal input and the seed that replays it.
pub fn check<S, F>(name: &str, make: impl FnOnce() -> S + Send + 'static, property: F)
where
    S: Strategy,
    F: Fn(S::Value) -> Result<(), TestCaseError> + Send + 'static,
{
    let cases = cases();
    let seed = seed();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let config = Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        };
        let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed);
        let mut runner = TestRunner::new_with_rng(config, rng);
        let started = Instant::now();
        let result = runner.run(&make(), |value| {
            let t = Instant::now();
            property(value)?;
            if t.elapsed() > CASE_LIMIT {
                return Err(TestCaseError::fail(format!(
                    "one case took {:?}",
                    t.elapsed()
                )));
            }
            Ok(())
        });
        let _ = tx.send((result.map_err(|e| e.to_string()), started.elapsed()));
    });
    let limit = Duration::from_secs(120) + Duration::from_millis(20) * cases;
    match rx.recv_timeout(limit) {
        Ok((Ok(()), took)) => eprintln!(
            "fuzz {name}: {cases} cases in {:.2} s ({:.0} cases/s)",
            took.as_secs_f64(),
            f64::from(cases) / took.as_secs_f64().max(1e-9)
        ),
        Ok((Err(e), _)) => panic!(
            "fuzz {name}: {e}\nreplay: PROBE_FUZZ_SEED={} PROPTEST_CASES={cases}",
            hex(&seed)
        ),
        Err(_) => panic!(
            "fuzz {name}: {cases} cases did not finish within {limit:?}: a case hangs\nreplay: PROBE_FUZZ_SEED={} PROPTEST_CASES={cases}",
            hex(&seed)
        ),
    }
}

/// Fails the case with `message` unless `ok`.
pub fn ensure(ok: bool, message: impl FnOnce() -> String) -> Result<(), TestCaseError> {
    if ok {
        Ok(())
    } else {
        Err(TestCaseError::fail(message()))
    }
}

#[test]
fn seeds_round_trip_through_hex() {
    let seed = seed();
    assert_eq!(from_hex(&hex(&seed)), Some(seed));
    assert_eq!(from_hex("zz"), None);
}
