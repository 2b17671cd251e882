//! probe: proves a network path is fit for the long-lived relay connections of Entra Connect
//! password writeback.
//!
//! One run flows top-down: scenario -> targets -> checks -> verdicts -> report. Every import
//! points down these layers:
//!
//! ```text
//! cli                                   the command line and its dispatch
//! cmd                                   one file per subcommand: what it does
//! plan, runner, report, matrix, watch,  flags -> plan -> run -> result -> formats -> files;
//!   output, exporter                    many runs (and watch events) -> one matrix; `probe watch`'s engine;
//!                                       the HTTP side of `serve` and `watch`
//! check                                 one file per check, one signature
//! result, timing, advice, progress,     the result document and what fills it (writeback: the
//!   writeback                           model of what a cut costs password resets)
//! net, scenario, namespace_from         how bytes reach the far end; scenario files
//! target, seconds, stop_signal, cloud,  the vocabulary, time as a type, what stops a long run
//!   outcome, error, ...                 (version: what this build is)
//! ```
//!
//! (`tests/tests/layering.rs` holds the probe to it.)

pub mod advice;
pub mod check;
pub mod cli;
pub mod cloud;
pub mod cmd;
pub mod error;
pub mod exporter;
pub mod matrix;
pub mod namespace_from;
pub mod net;
pub mod outcome;
pub mod output;
pub mod plan;
pub mod progress;
pub mod report;
pub mod result;
pub mod runner;
pub mod scenario;
pub mod seconds;
pub mod stop_signal;
pub mod target;
pub mod timing;
pub mod version;
pub mod watch;
pub mod windows_text;
pub mod writeback;
