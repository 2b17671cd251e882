//! probe: proves a network path is fit for the long-lived relay connections of Entra Connect
//! password writeback.
//!
//! One run flows top-down: scenario -> targets -> checks -> verdicts -> report.

pub mod advice;
pub mod app;
pub mod check;
pub mod cli;
pub mod demo;
pub mod error;
pub mod namespace_from;
pub mod net;
pub mod outcome;
pub mod progress;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod serve;
pub mod target;
pub mod timing;
pub mod windows_text;
