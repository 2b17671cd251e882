//! The idle ladder's shape: which idle periods to test, and the timing constants of a check.

pub use crate::scenario::Thresholds;
use crate::seconds::Seconds;
use crate::target::TargetKind;
use std::time::Duration;

/// What the user asked of the idle check (scenario `[idle]`, `--idle*` flags).
#[derive(Debug, Clone, PartialEq)]
pub struct IdleSettings {
    /// How long an idle connection must survive.
    pub required_s: Seconds,
    /// How long an idle connection should survive, when a recommendation applies.
    pub recommended_s: Option<Seconds>,
    /// Where the required and recommended figures come from, for messages.
    pub required_source: Option<String>,
    pub recommended_source: Option<String>,
    pub min_s: Seconds,
    pub max_s: Seconds,
    pub step_s: Seconds,
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
    RecommendedBelowRequired {
        recommended: Seconds,
        required: Seconds,
    },
    #[error("--idle-min ({min}) is above --idle-max ({max})")]
    MinAboveMax { min: Seconds, max: Seconds },
    #[error(
        "--idle-min/--idle-max/--idle-step make more than {} connections; use a larger --idle-step",
        MAX_RUNGS
    )]
    TooManyRungs,
}

impl crate::error::UserError for IdleSettingsError {}

impl IdleSettings {
    /// Defaults from the thresholds: 30 s to the recommended value (at least required + 60 s)
    /// in steps of 15 s. The thresholds and `--idle-min`, `--idle-max` and `--idle-step` come as
    /// the user wrote them, numbers of seconds, and are checked here.
    pub fn new(
        thresholds: Thresholds,
        min: Option<Seconds>,
        max: Option<Seconds>,
        step: Option<Seconds>,
    ) -> Result<IdleSettings, IdleSettingsError> {
        let positive = |v: Seconds, flag: &'static str| {
            if v > Seconds::ZERO {
                Ok(v)
            } else {
                Err(IdleSettingsError::NotPositive(flag))
            }
        };
        let given = |v: Option<Seconds>, default: Seconds, flag: &'static str| match v {
            None => Ok(default),
            Some(v) if v > Seconds::ZERO => Ok(v),
            Some(_) => Err(IdleSettingsError::NotPositive(flag)),
        };
        let required_s = positive(
            thresholds.required_s,
            "--idle (or the scenario's idle.required_s)",
        )?;
        let recommended_s = match thresholds.recommended_s {
            Some(r) => Some(positive(
                r,
                "--idle-recommended (or the scenario's idle.recommended_s)",
            )?),
            None => None,
        };
        let reach = recommended_s
            .unwrap_or(Seconds::ZERO)
            .max(required_s + Seconds::new(60));
        let settings = IdleSettings {
            required_s,
            recommended_s,
            required_source: thresholds.required_source,
            recommended_source: thresholds.recommended_source,
            min_s: given(min, Seconds::new(30), "--idle-min")?,
            max_s: given(max, reach, "--idle-max")?,
            step_s: given(step, Seconds::new(15), "--idle-step")?,
            variants: false,
            refine: false,
        };
        if let Some(recommended) = recommended_s {
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
    pub fn rungs(&self) -> Vec<Seconds> {
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
            .saturating_add(self.max_s.duration())
            .saturating_add(PUSH_GRACE)
            .saturating_add(super::evidence::IN_FLIGHT);
        round.saturating_mul(rounds).saturating_add(timeout)
    }

    /// Interval of the control connection's exchanges and of the variants' heartbeats and
    /// keepalives: well below the shortest idle period tested, so activity always wins.
    pub fn activity_interval(&self) -> Duration {
        let base = self.min_s.min(self.step_s).duration() / 2;
        base.clamp(Duration::from_millis(500), Duration::from_secs(15))
    }
}

/// `min, min+step, ...` up to and including `max`.
pub fn ladder(min: Seconds, max: Seconds, step: Seconds) -> Vec<Seconds> {
    let round_ms = |s: Seconds| Seconds::rounded_to_ms(s.duration());
    let mut rungs = Vec::new();
    let mut i = 0u32;
    loop {
        let v = round_ms(min + Seconds::from(step.duration().saturating_mul(i)));
        if v >= max || rungs.len() > MAX_RUNGS {
            break;
        }
        rungs.push(v);
        i += 1;
    }
    rungs.push(round_ms(max));
    rungs
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
pub fn answer_deadline(kind: &TargetKind, phase_timeout: Duration, baseline: Duration) -> Duration {
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
        let s = IdleSettings::new(Thresholds::required(Seconds::new(180)), None, None, None).unwrap();
        let rungs = s.rungs();
        assert_eq!(rungs.first(), Some(&Seconds::new(30)));
        assert_eq!(rungs.last(), Some(&Seconds::new(240)));
        assert_eq!(rungs.len(), 15);
        assert!(rungs.contains(&Seconds::new(180)));
        let recommended = Thresholds {
            recommended_s: Some(Seconds::new(360)),
            ..Thresholds::required(Seconds::new(180))
        };
        let s = IdleSettings::new(recommended, None, None, None).unwrap();
        assert_eq!(
            s.rungs().last(),
            Some(&Seconds::new(360)),
            "the ladder reaches the recommendation"
        );
    }

    #[test]
    fn ladder_always_ends_at_max() {
        let s = Seconds::from_f64;
        let secs = |v: &[f64]| v.iter().copied().map(s).collect::<Vec<_>>();
        assert_eq!(
            ladder(s(1.0), s(4.5), s(1.0)),
            secs(&[1.0, 2.0, 3.0, 4.0, 4.5])
        );
        assert_eq!(ladder(s(5.0), s(5.0), s(1.0)), secs(&[5.0]));
    }

    #[test]
    fn answer_deadline_adapts_to_slow_endpoints_within_the_phase_deadline() {
        let t = Duration::from_secs(10);
        let ms = Duration::from_millis;
        assert_eq!(answer_deadline(&TargetKind::HTTPS, t, ms(20)), ms(1500));
        assert_eq!(answer_deadline(&TargetKind::HTTPS, t, ms(800)), ms(3200));
        assert_eq!(answer_deadline(&TargetKind::HTTPS, t, ms(5000)), t);
        assert_eq!(answer_deadline(&TargetKind::Relay, t, ms(800)), ms(1500));
    }

    #[test]
    fn rejects_impossible_ladders() {
        let t = || Thresholds::required(Seconds::new(180));
        assert!(IdleSettings::new(t(), Some(Seconds::new(100)), Some(Seconds::new(50)), None).is_err());
        assert!(IdleSettings::new(t(), None, None, Some(Seconds::ZERO)).is_err());
        assert!(IdleSettings::new(
            t(),
            Some(Seconds::new(1)),
            Some(Seconds::new(10_000)),
            Some(Seconds::from_millis(500)),
        ).is_err());
        let below = Thresholds {
            recommended_s: Some(Seconds::new(100)),
            ..t()
        };
        assert!(IdleSettings::new(below, None, None, None).is_err());
    }
}
