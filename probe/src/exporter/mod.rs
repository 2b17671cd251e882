//! The HTTP exporter of `probe serve`: the latest result at `/metrics` (Prometheus) and
//! `/results` (JSON), kept answering while a run is in progress and while clients misbehave.
//! `probe watch --listen` serves its own pages through the same server; both take
//! `--web-config` (TLS, basic authentication).

pub mod basic_auth;
mod http;
mod listen;
mod stall;
pub mod web_config;

pub use http::{serve, Pages, METRICS_TYPE};
pub use listen::{listen, ListenError};

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
