//! How long idle connections must live, and should: the service's thresholds, as data.

use crate::seconds::Seconds;

/// How long idle connections must live, and where that figure comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct Thresholds {
    /// The pass line (scenario `idle.required_s`, `--idle`).
    pub required_s: Seconds,
    pub required_source: Option<String>,
    /// Survival below this, though above the pass line, earns a warning (scenario
    /// `idle.recommended_s`, `--idle-recommended`).
    pub recommended_s: Option<Seconds>,
    pub recommended_source: Option<String>,
}

impl Thresholds {
    /// A pass line alone, with no recommendation above it.
    pub fn required(required_s: Seconds) -> Thresholds {
        Thresholds {
            required_s,
            required_source: None,
            recommended_s: None,
            recommended_source: None,
        }
    }
}
