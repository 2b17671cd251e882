//! The HTTP exporter of `probe serve`: the latest result at `/metrics` (Prometheus) and
//! `/results` (JSON), kept answering while a run is in progress and while clients misbehave.

mod http;
mod stall;

pub use http::{serve, Pages, METRICS_TYPE};

use crate::result::RunResult;
use std::sync::{Arc, Mutex};

/// What the HTTP side shows: the latest finished run, and whether one is in progress.
#[derive(Default)]
pub struct State {
    pub latest: Option<Arc<RunResult>>,
    pub finished: u64,
    /// RFC 3339 start of the run in progress.
    pub running_since: Option<String>,
}

pub type Shared = Arc<Mutex<State>>;
