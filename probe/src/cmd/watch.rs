//! `probe watch`: a listener that lives like writeback's, for days, pushed at random times
//! through the relay (the engine: `watch/`). Its flags (the target selection of `probe run`,
//! and how the watch pushes, keeps its listener, stops and reports) and its start and end.

use crate::error::{ConfigError, UserError};
use crate::exporter::web_config::WebConfig;
use crate::exporter::{self as http, Pages};
use crate::output;
use crate::plan::{self, RunArgs};
use crate::target::{Target, TargetKind};
use crate::watch::metrics::TargetStats;
use crate::watch::pages::WatchPages;
use crate::watch::sink::{Rotating, Sink};
use crate::watch::summary;
use crate::watch::watcher::{host_name, Board, Settings, SharedBoard, Watcher};
use clap::Args;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Args)]
pub struct WatchArgs {
    /// Stop by itself after this long (e.g. 30m, 8h, 7d); absent: watch until stopped (Ctrl-C,
    /// SIGTERM, the console's close).
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_for)]
    pub run_for: Option<Duration>,
    /// Mean time between pushes: random (exponential) gaps, each between a tenth and three times
    /// the mean, as password resets come; at least 1s.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_push_every)]
    pub push_every: Duration,
    /// How often the listener sends the relay SDK's keep-alive (the SDK's 210s); `none` holds
    /// it completely idle between pushes.
    #[arg(long, value_name = "DURATION|none", default_value = "210s", value_parser = parse_keepalive)]
    pub keepalive: KeepAlive,
    /// Serve /metrics (Prometheus, `probe_watch_*`) and /events (recent events, JSON lines) at
    /// this address, e.g. 0.0.0.0:9465 (port 0: any free port; the address is printed on
    /// stderr).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// TLS and basic authentication for `--listen`, in the web configuration format of
    /// Prometheus exporters (as `probe serve --web-config`): /events names internal hosts.
    #[arg(long, value_name = "FILE", requires = "listen")]
    pub web_config: Option<std::path::PathBuf>,
    /// Append every push, reopen and incident to this file as JSON lines
    /// (`probe.watch-event/v1`), rotated by size.
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Rotate the events file past this size (e.g. 512KiB, 10MiB, 1GB): FILE becomes FILE.1,
    /// FILE.1 becomes FILE.2, and so on.
    #[arg(long, value_name = "SIZE", default_value = "10MiB", value_parser = parse_size)]
    pub events_max_size: u64,
    /// How many rotated event files are kept beside FILE (the oldest is deleted).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=1000))]
    pub events_keep: u32,
    /// Seed of the random push times: the same seed replays the same schedule.
    #[arg(long, value_name = "N", hide = true)]
    pub seed: Option<u64>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// `--keepalive`: an interval, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepAlive(pub Option<Duration>);

/// A value of `probe watch`'s own flags that is not one; each message names the flag.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FlagError {
    #[error("{flag}: `{given}` is not a duration like 30s, 5m or 1h ({error})")]
    NotDuration {
        flag: &'static str,
        given: String,
        error: humantime::DurationError,
    },
    #[error("--for: must be longer than 0s")]
    ZeroFor,
    /// `least` says the shortest allowed, in the flag's words.
    #[error("{flag}: {given} is too short: at least {least}")]
    TooShort {
        flag: &'static str,
        given: String,
        least: &'static str,
    },
    #[error("--events-max-size: `{0}` is not a size like 512KiB or 10MiB")]
    NotSize(String),
    #[error("--events-max-size: unknown unit `{0}` (KB, KiB, MB, MiB, GB, GiB)")]
    UnknownUnit(String),
    #[error("--events-max-size: {0} is too large")]
    SizeTooLarge(String),
    #[error("--events-max-size: {0} is too small: at least 1KiB")]
    SizeTooSmall(String),
}

fn duration(flag: &'static str, s: &str) -> Result<Duration, FlagError> {
    humantime::parse_duration(s).map_err(|error| FlagError::NotDuration {
        flag,
        given: s.to_string(),
        error,
    })
}

fn parse_for(s: &str) -> Result<Duration, FlagError> {
    let d = duration("--for", s)?;
    if d.is_zero() {
        return Err(FlagError::ZeroFor);
    }
    Ok(d)
}

fn parse_push_every(s: &str) -> Result<Duration, FlagError> {
    let d = duration("--push-every", s)?;
    if d < Duration::from_secs(1) {
        return Err(FlagError::TooShort {
            flag: "--push-every",
            given: s.to_string(),
            least: "1s",
        });
    }
    Ok(d)
}

fn parse_keepalive(s: &str) -> Result<KeepAlive, FlagError> {
    if s.eq_ignore_ascii_case("none") {
        return Ok(KeepAlive(None));
    }
    let d = duration("--keepalive", s)?;
    if d < Duration::from_millis(100) {
        return Err(FlagError::TooShort {
            flag: "--keepalive",
            given: s.to_string(),
            least: "100ms, or `none`",
        });
    }
    Ok(KeepAlive(Some(d)))
}

/// `--events-max-size`: bytes, with an optional unit (KB, KiB, MB, MiB, GB, GiB); at least 1 KiB.
pub fn parse_size(s: &str) -> Result<u64, FlagError> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| FlagError::NotSize(s.to_string()))?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "kib" | "k" => 1024,
        "mb" => 1000 * 1000,
        "mib" | "m" => 1024 * 1024,
        "gb" => 1000 * 1000 * 1000,
        "gib" | "g" => 1024 * 1024 * 1024,
        other => return Err(FlagError::UnknownUnit(other.to_string())),
    };
    let bytes = n
        .checked_mul(factor)
        .ok_or_else(|| FlagError::SizeTooLarge(s.to_string()))?;
    if bytes < 1024 {
        return Err(FlagError::SizeTooSmall(s.to_string()));
    }
    Ok(bytes)
}

/// What keeps `probe watch` from starting.
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("probe watch: {0} does not apply; events go to --events FILE and /events, figures to /metrics (--listen)")]
    DoesNotApply(&'static str),
    #[error("probe watch: no target to watch: name a relay://, hc:// or https:// target (--target, --hybrid-connection) or a scenario that has one")]
    NoTarget,
    #[error("--events {}: cannot open: {source}", path.display())]
    Events {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl UserError for WatchError {}

/// `probe watch`: the exit code is 0 when no incident happened, 1 otherwise.
pub async fn command(args: WatchArgs) -> Result<u8, ConfigError> {
    for (given, flag) in [
        (args.run.output.is_some(), "--output"),
        (args.run.format.is_some(), "--format"),
        (
            args.run.prometheus_textfile.is_some(),
            "--prometheus-textfile",
        ),
    ] {
        if given {
            return Err(WatchError::DoesNotApply(flag).into());
        }
    }
    let mut stop = Box::pin(crate::stop_signal::stop_signal()?);
    let plan = plan::from_args(&args.run, false)?;
    let (targets, left): (Vec<Target>, Vec<Target>) = plan.targets.into_iter().partition(|t| {
        matches!(
            t.kind,
            TargetKind::Relay | TargetKind::Hc(_) | TargetKind::Https { .. }
        )
    });
    for t in &left {
        output::stderr_line(&format!(
            "probe watch: {} ({}) is not watched: only relay://, hc:// and https:// targets are",
            t.name, t.url
        ));
    }
    if targets.is_empty() {
        return Err(WatchError::NoTarget.into());
    }
    let file = match &args.events {
        Some(path) => Some(
            Rotating::open(path, args.events_max_size, args.events_keep).map_err(|source| {
                WatchError::Events {
                    path: path.clone(),
                    source,
                }
            })?,
        ),
        None => None,
    };
    let board: SharedBoard = Arc::new(Mutex::new(Board {
        stats: targets.iter().map(|t| TargetStats::new(&t.name)).collect(),
        sink: Sink::new(file),
    }));
    let segment = plan.segment.clone();
    let (shutdown_tx, shutdown_rx) = tokio::sync::watch::channel(false);
    let web = WebConfig::from_flag(args.web_config.as_deref())?;
    let server = match args.listen {
        Some(addr) => {
            let (listener, bound) = http::listen(addr).await?;
            output::stderr_line(&format!(
                "probe watch: listening on {}://{bound} (/metrics, /events{})",
                web.scheme(),
                if web.auth.is_some() {
                    ", basic auth"
                } else {
                    ""
                },
            ));
            let pages: Arc<dyn Pages> = Arc::new(WatchPages {
                board: board.clone(),
                segment: segment.clone().unwrap_or_default(),
            });
            Some(tokio::spawn(http::serve(listener, pages, web, shutdown_rx)))
        }
        None => None,
    };
    let settings = Settings {
        push_every: args.push_every,
        keepalive: args.keepalive.0,
        seed: args.seed,
        segment,
        host: host_name(),
    };
    output::stderr_line(&format!(
        "probe watch: watching {} target(s), a push about every {} at random{}; stop with Ctrl-C",
        targets.len(),
        humantime::format_duration(args.push_every),
        match args.run_for {
            Some(d) => format!(", for {}", humantime::format_duration(d)),
            None => String::new(),
        }
    ));
    let started = Instant::now();
    let mut watchers: Vec<Watcher<'_>> = targets
        .iter()
        .enumerate()
        .map(|(i, t)| Watcher::new(&plan.net, t, i, board.clone(), &settings))
        .collect();
    let why = {
        let runs = futures_util::future::join_all(watchers.iter_mut().map(|w| w.run()));
        let deadline = async {
            match args.run_for {
                Some(d) => tokio::time::sleep(d).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            s = &mut stop => s,
            _ = deadline => "--for elapsed",
            _ = runs => "every watch ended",
        }
    };
    for w in &mut watchers {
        w.finish();
    }
    let summaries: Vec<summary::TargetSummary<'_>> = watchers
        .iter()
        .zip(&targets)
        .map(|(w, t)| summary::TargetSummary {
            name: &t.name,
            url: &t.url,
            pushes: w.pushes,
            failed: w.failed,
            reopens: w.reopens,
            incidents: w.tracker.count,
            longest: w.tracker.longest,
            recent: &w.recent,
        })
        .collect();
    let text = summary::render(&summaries, why, started.elapsed().as_secs_f64());
    output::write_stdout(text.as_bytes())?;
    let incidents: u64 = watchers.iter().map(|w| w.tracker.count).sum();
    drop(watchers);
    let _ = shutdown_tx.send(true);
    if let Some(server) = server {
        let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    }
    Ok(if incidents == 0 { 0 } else { 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_or_say_which_is_wrong() {
        assert_eq!(parse_size("10MiB"), Ok(10 * 1024 * 1024));
        assert_eq!(parse_size("2KB"), Ok(2000));
        assert!(parse_size("10")
            .unwrap_err()
            .to_string()
            .contains("too small"));
        assert!(parse_size("ten")
            .unwrap_err()
            .to_string()
            .starts_with("--events-max-size"));
        assert_eq!(parse_keepalive("none"), Ok(KeepAlive(None)));
        assert_eq!(
            parse_keepalive("210s"),
            Ok(KeepAlive(Some(Duration::from_secs(210))))
        );
        assert!(parse_push_every("500ms")
            .unwrap_err()
            .to_string()
            .contains("at least 1s"));
        assert!(parse_for("0s").is_err());
    }
}
