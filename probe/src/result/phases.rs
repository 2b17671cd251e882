//! Phase durations of one pass, and their percentiles over `--count` passes.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A phase of one connection, named as in blackbox_exporter.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::VariantArray,
    strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Phase {
    Resolve,
    Connect,
    ProxyConnect,
    Tls,
    /// Time to the first byte of the answer.
    Processing,
    /// Time to read the body.
    Transfer,
}

impl Phase {
    /// Every word, in declaration order.
    pub const ALL: &'static [Phase] = <Phase as strum::VariantArray>::VARIANTS;

    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Phase durations of one pass, in milliseconds (the target's `phases_ms`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Phases {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_connect: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<f64>,
}

impl Phases {
    /// The duration of `phase`, when it was measured.
    pub fn get(&self, phase: Phase) -> Option<f64> {
        match phase {
            Phase::Resolve => self.resolve,
            Phase::Connect => self.connect,
            Phase::ProxyConnect => self.proxy_connect,
            Phase::Tls => self.tls,
            Phase::Processing => self.processing,
            Phase::Transfer => self.transfer,
        }
    }

    /// `(phase, milliseconds)` of every phase that was measured, in order.
    pub fn measured(&self) -> Vec<(Phase, f64)> {
        Phase::ALL
            .iter()
            .copied()
            .filter_map(|p| self.get(p).map(|v| (p, v)))
            .collect()
    }
}

/// Percentiles over every pass (the target's `timings_ms`, with `--count` above 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Timings {
    pub samples: u32,
    pub failed_samples: u32,
    #[serde(flatten)]
    pub phases: BTreeMap<Phase, Percentiles>,
}

/// Milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}
