//! Percentiles of phase timings over `--count` passes (hdrhistogram).

use crate::result::{Percentiles, Phase, Phases, Timings};
use hdrhistogram::Histogram;
use std::collections::BTreeMap;

/// Microsecond histograms per phase.
#[derive(Default)]
pub struct PhaseSamples {
    histograms: BTreeMap<Phase, Histogram<u64>>,
    passes: u32,
    failed: u32,
}

impl PhaseSamples {
    pub fn record(&mut self, phases: &Phases, passed: bool) {
        self.passes += 1;
        if !passed {
            self.failed += 1;
        }
        for (name, ms) in phases.measured() {
            let h = self.histograms.entry(name).or_insert_with(|| {
                Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
            });
            h.saturating_record((ms * 1000.0).round().max(1.0) as u64);
        }
    }

    pub fn summary(&self) -> Timings {
        let ms = |us: u64| us as f64 / 1000.0;
        Timings {
            samples: self.passes,
            failed_samples: self.failed,
            phases: self
                .histograms
                .iter()
                .map(|(name, h)| {
                    (
                        *name,
                        Percentiles {
                            p50: ms(h.value_at_quantile(0.50)),
                            p90: ms(h.value_at_quantile(0.90)),
                            p99: ms(h.value_at_quantile(0.99)),
                            max: ms(h.max()),
                        },
                    )
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_over_samples() {
        let mut s = PhaseSamples::default();
        for i in 1..=100 {
            let p = Phases {
                connect: Some(i as f64),
                ..Phases::default()
            };
            s.record(&p, i != 50);
        }
        let t = s.summary();
        assert_eq!((t.samples, t.failed_samples), (100, 1));
        let c = t.phases[&Phase::Connect];
        assert!((c.p50 - 50.0).abs() < 0.1, "{c:?}");
        assert!((c.p99 - 99.0).abs() < 0.1, "{c:?}");
        assert!((c.max - 100.0).abs() < 0.1, "{c:?}");
        assert!(!t.phases.contains_key(&Phase::Tls));
    }
}
