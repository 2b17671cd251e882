//! `probe watch`: a listener that lives like writeback's, for days, pushed at random times
//! through the relay; every delivery is recorded, consecutive failures become incidents, and
//! the figures are served to Prometheus and written as JSON lines.
//!
//! ```text
//! args        the flags
//! watcher     one target: listener, pushes, reopens (link: the listener; light: https://)
//! incident    consecutive failures -> incidents (pure)
//! schedule    random push times, the SDK's reopen backoff
//! event       the JSON lines (probe.watch-event/v1); sink: memory and rotated file
//! metrics     probe_watch_* families; summary: what a stopped watch prints
//! ```

pub mod args;
pub mod event;
pub mod incident;
mod light;
mod link;
pub mod metrics;
pub mod schedule;
pub mod sink;
pub mod summary;
pub mod watcher;

pub use args::WatchArgs;

use crate::error::{ConfigError, UserError};
use crate::exporter::web_config::WebConfig;
use crate::exporter::{self as http, Pages, METRICS_TYPE};
use crate::target::{Target, TargetKind};
use crate::{output, plan};
use hyper::StatusCode;
use metrics::TargetStats;
use sink::{Rotating, Sink};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use watcher::{Board, Settings, SharedBoard, Watcher};

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

/// `/metrics`, `/events` and an index.
struct WatchPages {
    board: SharedBoard,
    segment: String,
}

impl Pages for WatchPages {
    fn page(&self, path: &str) -> (StatusCode, &'static str, String) {
        let board = self.board.lock().unwrap_or_else(PoisonError::into_inner);
        match path {
            "/metrics" => (
                StatusCode::OK,
                METRICS_TYPE,
                metrics::render(&board.stats, &self.segment, Instant::now()),
            ),
            "/events" => (
                StatusCode::OK,
                "application/x-ndjson; charset=utf-8",
                board.sink.recent_lines(),
            ),
            "/" => (
                StatusCode::OK,
                "text/plain; charset=utf-8",
                format!(
                    "probe watch\n/metrics  Prometheus exposition (probe_watch_*)\n/events   the latest {} events, JSON lines ({})\n",
                    sink::RECENT,
                    event::SCHEMA
                ),
            ),
            _ => (
                StatusCode::NOT_FOUND,
                "text/plain; charset=utf-8",
                "not found: try /metrics or /events\n".into(),
            ),
        }
    }
}

/// This machine's name, for the events' `host`.
fn host_name() -> Option<String> {
    let from_env = ["HOSTNAME", "COMPUTERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok())
        .filter(|h| !h.is_empty());
    let name = from_env.or_else(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .map(|h| h.trim().to_string())
    })?;
    let clean = crate::result::sanitize::clean_text(&name).into_owned();
    (!clean.is_empty()).then_some(clean)
}
