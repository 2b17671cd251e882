//! The idle ladder's shape: which idle periods to test, and the timing constants of a check.

pub use crate::scenario::Thresholds;
use crate::target::TargetKind;
use std::time::Duration;

/// What the user asked of the idle check (scenario `[idle]`, `--idle*` flags).
#[derive(Debug, Clone, PartialEq)]
pub struct IdleSettings {
    /// Seconds an idle connection must survive.
    pub required_s: f64,
    /// Seconds an idle connection should survive, when a recommendation applies.
    pub recommended_s: Option<f64>,
    /// Where the required and recommended figures come from, for messages.
    pub required_source: Option<String>,
    pub recommended_source: Option<String>,
    pub min_s: f64,
    pub max_s: f64,
    pub step_s: f64,
    /// Also hold a TCP-keepalive connection and a heartbeat connection for `max_s`.
    pub variants: bool,
    /// A second round inside the bracket, down to 1 s.
    pub refine: bool,
}

/// The most rungs one ladder may have (each is one connection held open).
pub const MAX_RUNGS: usize = 1000;

/// An idle ladder that cannot be run as asked.
#[derive(Debug, thiserror::Error)]
pub enum IdleSettingsError {
    #[error("{0} must be a positive number of seconds")]
    NotPositive(&'static str),
    #[error(
        "the recommended idle time ({recommended} s) is below the required one ({required} s)"
    )]
    RecommendedBelowRequired { recommended: f64, required: f64 },
    #[error("--idle-min ({min}) is above --idle-max ({max})")]
    MinAboveMax { min: f64, max: f64 },
    #[error(
        "--idle-min/--idle-max/--idle-step make more than {} connections; use a larger --idle-step",
        MAX_RUNGS
    )]
    TooManyRungs,
}

impl crate::error::UserError for IdleSettingsError {}

impl IdleSettings {
    /// Defaults from the thresholds: 30 s to the recommended value (at least required + 60 s)
    /// in steps of 15 s.
    pub fn new(
        thresholds: Thresholds,
        min_s: Option<f64>,
        max_s: Option<f64>,
        step_s: Option<f64>,
    ) -> Result<IdleSettings, IdleSettingsError> {
        let required_s = thresholds.required_s;
        let reach = thresholds
            .recommended_s
            .unwrap_or(0.0)
            .max(required_s + 60.0);
        let settings = IdleSettings {
            required_s,
            recommended_s: thresholds.recommended_s,
            required_source: thresholds.required_source,
            recommended_source: thresholds.recommended_source,
            min_s: min_s.unwrap_or(30.0),
            max_s: max_s.unwrap_or(reach),
            step_s: step_s.unwrap_or(15.0),
            variants: false,
            refine: false,
        };
        let positive = |v: f64, flag: &'static str| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(IdleSettingsError::NotPositive(flag))
            }
        };
        positive(
            settings.required_s,
            "--idle (or the scenario's idle.required_s)",
        )?;
        positive(settings.min_s, "--idle-min")?;
        positive(settings.max_s, "--idle-max")?;
        positive(settings.step_s, "--idle-step")?;
        if let Some(recommended) = settings.recommended_s {
            positive(
                recommended,
                "--idle-recommended (or the scenario's idle.recommended_s)",
            )?;
            if recommended < settings.required_s {
                return Err(IdleSettingsError::RecommendedBelowRequired {
                    recommended,
                    required: settings.required_s,
                });
            }
        }
        if settings.min_s > settings.max_s {
            return Err(IdleSettingsError::MinAboveMax {
                min: settings.min_s,
                max: settings.max_s,
            });
        }
        if settings.rungs().len() > MAX_RUNGS {
            return Err(IdleSettingsError::TooManyRungs);
        }
        Ok(settings)
    }

    /// The idle period of every test connection, shortest first; always ends at `max_s`.
    pub fn rungs(&self) -> Vec<f64> {
        ladder(self.min_s, self.max_s, self.step_s)
    }

    /// The longest the idle check can take when every phase runs to its deadline `timeout`:
    /// per round, a connection's setup (resolve, connect, proxy, TLS, upgrade or first request,
    /// hold), the longest idle period, the push's grace and the answer's deadline; `--refine`
    /// adds a second round, no longer than the first.
    ///
    /// A hybrid connection's rung adds its sender (one deadline for every attempt), the
    /// rendezvous and the Ping after it; a late answer adds the wait for the kernel's evidence;
    /// an HTTPS endpoint is first asked for its own limit (one more deadline).
    pub fn worst_case(&self, timeout: Duration) -> Duration {
        let rounds = if self.refine { 2 } else { 1 };
        let round = timeout
            .saturating_mul(SETUP_PHASES + 1 + 3)
            .saturating_add(Duration::try_from_secs_f64(self.max_s).unwrap_or(Duration::MAX))
            .saturating_add(PUSH_GRACE)
            .saturating_add(super::evidence::IN_FLIGHT);
        round.saturating_mul(rounds).saturating_add(timeout)
    }

    /// Interval of the control connection's exchanges and of the variants' heartbeats and
    /// keepalives: well below the shortest idle period tested, so activity always wins.
    pub fn activity_interval(&self) -> Duration {
        let base = (self.min_s.min(self.step_s) / 2.0).clamp(0.5, 15.0);
        Duration::from_secs_f64(base)
    }
}

/// `min, min+step, ...` up to and including `max`.
pub fn ladder(min: f64, max: f64, step: f64) -> Vec<f64> {
    let mut rungs = Vec::new();
    let mut i = 0u32;
    loop {
        let v = round_ms(min + step * f64::from(i));
        if v >= max - 1e-9 || rungs.len() > MAX_RUNGS {
            break;
        }
        rungs.push(v);
        i += 1;
    }
    rungs.push(round_ms(max));
    rungs
}

fn round_ms(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Phases one idle-test connection goes through before its idle time starts, each under the
/// phase deadline: resolve, connect, proxy, TLS, the upgrade (or first request), the hold.
const SETUP_PHASES: u32 = 6;

/// How long after its idle period a push may arrive and still count: the relay pushes on time,
/// so this only covers the path's latency.
pub const PUSH_GRACE: Duration = Duration::from_secs(1);

/// How long an answer to a client-side send may take: 1.5 s, or four times what the
/// connection's setup exchange took on a slow path (`baseline`), within the phase deadline.
/// Short, because a run must end soon after its longest idle period.
pub fn answer_deadline(kind: TargetKind, phase_timeout: Duration, baseline: Duration) -> Duration {
    let floor = Duration::from_millis(1500);
    let adaptive = match kind {
        // The mock-relay answers an echo at once: only the path's latency counts.
        TargetKind::Relay => floor,
        _ => (baseline * 4).max(floor),
    };
    adaptive.min(phase_timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_ladder_for_writeback() {
        let s = IdleSettings::new(Thresholds::required(180.0), None, None, None).unwrap();
        let rungs = s.rungs();
        assert_eq!(rungs.first(), Some(&30.0));
        assert_eq!(rungs.last(), Some(&240.0));
        assert_eq!(rungs.len(), 15);
        assert!(rungs.contains(&180.0));
        let recommended = Thresholds {
            recommended_s: Some(360.0),
            ..Thresholds::required(180.0)
        };
        let s = IdleSettings::new(recommended, None, None, None).unwrap();
        assert_eq!(
            s.rungs().last(),
            Some(&360.0),
            "the ladder reaches the recommendation"
        );
    }

    #[test]
    fn ladder_always_ends_at_max() {
        assert_eq!(ladder(1.0, 4.5, 1.0), vec![1.0, 2.0, 3.0, 4.0, 4.5]);
        assert_eq!(ladder(5.0, 5.0, 1.0), vec![5.0]);
    }

    #[test]
    fn answer_deadline_adapts_to_slow_endpoints_within_the_phase_deadline() {
        let t = Duration::from_secs(10);
        let ms = Duration::from_millis;
        assert_eq!(answer_deadline(TargetKind::Https, t, ms(20)), ms(1500));
        assert_eq!(answer_deadline(TargetKind::Https, t, ms(800)), ms(3200));
        assert_eq!(answer_deadline(TargetKind::Https, t, ms(5000)), t);
        assert_eq!(answer_deadline(TargetKind::Relay, t, ms(800)), ms(1500));
    }

    #[test]
    fn rejects_impossible_ladders() {
        let t = || Thresholds::required(180.0);
        assert!(IdleSettings::new(t(), Some(100.0), Some(50.0), None).is_err());
        assert!(IdleSettings::new(t(), None, None, Some(0.0)).is_err());
        assert!(IdleSettings::new(t(), Some(1.0), Some(10_000.0), Some(0.5)).is_err());
        let below = Thresholds {
            recommended_s: Some(100.0),
            ..t()
        };
        assert!(IdleSettings::new(below, None, None, None).is_err());
    }
}
