//! `probe serve`: the exporter for fleets. Runs the scenario on an interval (one run at a time)
//! and serves the latest result at `/metrics` (Prometheus) and `/results` (JSON), so one
//! Prometheus can collect from a probe in every segment.

use crate::error::ConfigError;
use crate::exporter::web_config::WebConfig;
use crate::exporter::{self, Shared, State};
use crate::plan::{self, RunArgs};
use crate::report::{self, Format};
use crate::result::RunResult;
use crate::{output, runner};
use clap::Args;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address for /metrics and /results, e.g. 0.0.0.0:9464 (port 0: any free port; the
    /// address is printed on stderr).
    #[arg(long, value_name = "ADDR")]
    pub listen: SocketAddr,
    /// Time from the start of one run to the start of the next, e.g. 30s, 5m, 1h. A run never
    /// overlaps the next: a slow one delays it.
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub interval: Duration,
    /// TLS and basic authentication for the exporter, in the web configuration format of
    /// Prometheus exporters (exporter-toolkit: `tls_server_config`, `basic_auth_users` with
    /// bcrypt hashes, `http_server_config.headers`). It guards every path: /results names
    /// internal hosts and proxies.
    #[arg(long, value_name = "FILE")]
    pub web_config: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// An `--interval` that is not one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum IntervalError {
    #[error("`{given}` is not a duration like 30s, 5m or 1h ({error})")]
    NotDuration {
        given: String,
        error: humantime::DurationError,
    },
    #[error("{0} is too short: at least 1s")]
    TooShort(String),
}

/// `--interval`: `30s`, `5m`, `1h30m`...; at least one second.
pub fn parse_interval(s: &str) -> Result<Duration, IntervalError> {
    let d = humantime::parse_duration(s).map_err(|error| IntervalError::NotDuration {
        given: s.to_string(),
        error,
    })?;
    if d < Duration::from_secs(1) {
        return Err(IntervalError::TooShort(s.to_string()));
    }
    Ok(d)
}

pub async fn command(args: ServeArgs) -> Result<u8, ConfigError> {
    if args.run.format.is_some() && args.run.output.is_none() {
        return Err(ConfigError::Usage(
            "probe serve: --format applies to --output only; the results are served at /metrics and /results",
        ));
    }
    // Register the signal handlers first, so a signal during the first run is ours too.
    let mut stop = Box::pin(crate::stop_signal::stop_signal()?);
    // Bad flags or scenario: fail now, with exit code 2, rather than at the first run.
    plan::from_args(&args.run, false)?;
    let web = WebConfig::from_flag(args.web_config.as_deref())?;
    let (listener, addr) = exporter::listen(args.listen).await?;
    output::stderr_line(&format!(
        "probe serve: listening on {}://{addr} (/metrics, /results{}); a run every {}",
        web.scheme(),
        if web.auth.is_some() {
            ", basic auth"
        } else {
            ""
        },
        humantime::format_duration(args.interval)
    ));
    // The first run starts at once: say so from the first request on.
    let state: Shared = Arc::new(Mutex::new(State {
        running_since: Some(runner::now_rfc3339()),
        ..State::default()
    }));
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(exporter::serve(listener, state.clone(), web, shutdown_rx));
    let mut ticker = tokio::time::interval(args.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let signal = loop {
        tokio::select! {
            s = &mut stop => break s,
            _ = ticker.tick() => {}
        }
        state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .running_since = Some(runner::now_rfc3339());
        let plan = match plan::from_args(&args.run, false) {
            Ok(prepared) => prepared,
            Err(e) => {
                state
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .running_since = None;
                output::stderr_line(&format!("probe serve: run skipped: {e}"));
                continue;
            }
        };
        let result = tokio::select! {
            s = &mut stop => break s,
            r = runner::run(plan) => Arc::new(r),
        };
        let run = {
            let mut st = state.lock().unwrap_or_else(PoisonError::into_inner);
            st.finished += 1;
            st.running_since = None;
            st.latest = Some(result.clone());
            st.finished
        };
        output::stderr_line(&format!(
            "probe serve: run {run} finished: {} ({} target(s))",
            result.verdict.as_str(),
            result.targets.len()
        ));
        write_files(&args, &result);
    };
    output::stderr_line(&format!("probe serve: {signal}: shutting down"));
    let _ = shutdown_tx.send(true);
    match tokio::time::timeout(Duration::from_secs(5), server).await {
        Ok(_) => output::stderr_line("probe serve: stopped"),
        Err(_) => output::stderr_line("probe serve: stopped (connections still open were dropped)"),
    }
    Ok(0)
}

/// `--output` and `--prometheus-textfile` after every run; a failure is logged, not fatal.
fn write_files(args: &ServeArgs, result: &RunResult) {
    if let Some(path) = &args.run.output {
        let text = report::render(
            result,
            args.run.format.unwrap_or(Format::Json),
            report::Layout::default(),
        );
        if let Err(e) = output::write_file(path, "--output", text.as_bytes()) {
            output::stderr_line(&format!("probe serve: {e}"));
        }
    }
    if let Some(path) = &args.run.prometheus_textfile {
        if let Err(e) = output::write_textfile(path, result) {
            output::stderr_line(&format!("probe serve: {e}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_interval("30s"), Ok(Duration::from_secs(30)));
        assert!(parse_interval("0s").is_err());
        assert!(parse_interval("soon").is_err());
    }
}
