//! One target watched: its listener opened and kept, a push at each random time, every push,
//! reopen and incident recorded, until the watch stops.

use super::event::{self, Body, Event, PushOutcome};
use super::incident::Tracker;
use super::light;
use super::link::{Cycle, Link};
use super::metrics::TargetStats;
use super::schedule::{backoff, Gaps};
use super::sink::Sink;
use crate::net::tcp_info::TcpEvidence;
use crate::net::NetContext;
use crate::outcome::Outcome;
use crate::target::{Target, TargetKind};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::time::Instant;

/// What the HTTP side and the summary read while the watch goes on.
pub struct Board {
    pub stats: Vec<TargetStats>,
    pub sink: Sink,
}

pub type SharedBoard = Arc<Mutex<Board>>;

/// How every target is watched.
#[derive(Debug, Clone)]
pub struct Settings {
    pub push_every: Duration,
    pub keepalive: Option<Duration>,
    pub seed: Option<u64>,
    pub segment: Option<String>,
    pub host: Option<String>,
}

/// One target's watch.
pub struct Watcher<'a> {
    net: &'a NetContext,
    target: &'a Target,
    index: usize,
    board: SharedBoard,
    settings: &'a Settings,
    pub tracker: Tracker,
    seq: u64,
    pub pushes: u64,
    pub failed: u64,
    pub reopens: u64,
    /// The latest incidents, for the summary (at most [`RECENT_INCIDENTS`]).
    pub recent: Vec<event::Incident>,
    started: Instant,
}

/// Incidents a target's summary lists.
pub const RECENT_INCIDENTS: usize = 20;

/// A listener that is down: since when, why, and how its reopening goes.
struct Down {
    since: Instant,
    reason: Outcome,
    attempt: u32,
    /// The last attempt's failure: what a push meanwhile fails with.
    last_error: Option<Outcome>,
    /// When the next attempt is due.
    next_attempt: Instant,
}

impl<'a> Watcher<'a> {
    pub fn new(
        net: &'a NetContext,
        target: &'a Target,
        index: usize,
        board: SharedBoard,
        settings: &'a Settings,
    ) -> Watcher<'a> {
        Watcher {
            net,
            target,
            index,
            board,
            settings,
            tracker: Tracker::default(),
            seq: 0,
            pushes: 0,
            failed: 0,
            reopens: 0,
            recent: Vec::new(),
            started: Instant::now(),
        }
    }

    /// Watches until the future is dropped.
    pub async fn run(&mut self) {
        self.emit(
            OffsetDateTime::now_utc(),
            Body::Started(event::Started {
                push_every_s: self.settings.push_every.as_secs_f64(),
                keepalive_s: self.settings.keepalive.map(|k| k.as_secs_f64()),
                probe_version: crate::version::LONG.to_string(),
            }),
        );
        let seed = self
            .settings
            .seed
            .map(|s| s.wrapping_add(self.index as u64))
            .unwrap_or_else(|| Gaps::fresh_seed(self.index as u64));
        let mut gaps = Gaps::new(self.settings.push_every, seed);
        if matches!(self.target.kind, TargetKind::Https { .. }) {
            return self.light_loop(&mut gaps).await;
        }
        let keepalive = self.settings.keepalive;
        let mut link: Option<(Link, Instant)> = None;
        let mut down: Option<Down> = None;
        let mut last_push = Instant::now();
        let mut due = Instant::now() + gaps.next_gap();
        loop {
            let Some((open, opened_at)) = link.as_mut() else {
                // Open (the first time), or reopen with the SDK's backoff, counted from the
                // last attempt; a push that falls due meanwhile fails as the reopening does.
                let (attempt_at, wait) = match &down {
                    Some(d) => (d.next_attempt, backoff(d.attempt + 1)),
                    None => (Instant::now(), Duration::ZERO),
                };
                if let Some(d) = &down {
                    if let (Some(error), true) = (d.last_error, attempt_at > due) {
                        tokio::time::sleep_until(due).await;
                        let idle = due.saturating_duration_since(last_push);
                        self.pushed(
                            due,
                            idle,
                            None,
                            PushOutcome::Failed(error),
                            None,
                            None,
                            Some("no listener: it is being reopened".into()),
                            Vec::new(),
                        );
                        last_push = due;
                        due = Instant::now() + gaps.next_gap();
                        continue;
                    }
                }
                tokio::time::sleep_until(attempt_at).await;
                let tried = Instant::now();
                let result = Link::open(self.net, self.target).await;
                let took = tried.elapsed();
                match (result, down.as_mut()) {
                    (Ok(l), d) => {
                        let now = Instant::now();
                        if let Some(d) = d {
                            d.attempt += 1;
                            self.reopen_event(d, wait, took, None, Some(now - d.since));
                            self.tracker.reopened();
                        }
                        down = None;
                        self.tracker.listening(OffsetDateTime::now_utc());
                        self.with_stats(|s| s.listening_since = Some(now.into_std()));
                        link = Some((l, now));
                    }
                    (Err((outcome, why)), None) => {
                        tracing::warn!(target = %self.target.name, "the listener did not open: {why}");
                        down = Some(Down {
                            since: tried,
                            reason: outcome,
                            attempt: 1,
                            last_error: Some(outcome),
                            next_attempt: Instant::now() + backoff(2),
                        });
                    }
                    (Err((outcome, why)), Some(d)) => {
                        d.attempt += 1;
                        d.last_error = Some(outcome);
                        d.next_attempt = Instant::now() + backoff(d.attempt + 1);
                        let d = down.as_ref().expect("down");
                        self.reopen_event(d, wait, took, Some(why), None);
                    }
                }
                continue;
            };
            let age = Instant::now().saturating_duration_since(*opened_at);
            let cycle = open.cycle(self.net, self.target, due, keepalive).await;
            let (reason, failure) = match cycle {
                Cycle::Delivered(latency) => {
                    let idle = due.saturating_duration_since(last_push);
                    let age = Instant::now().saturating_duration_since(*opened_at);
                    self.pushed(
                        due,
                        idle,
                        Some(age),
                        PushOutcome::Delivered,
                        Some(latency),
                        None,
                        None,
                        Vec::new(),
                    );
                    last_push = due;
                    due = Instant::now() + gaps.next_gap();
                    continue;
                }
                Cycle::EndedEarly { outcome, detail } => {
                    tracing::info!(target = %self.target.name, "the listener's connection ended while idle: {detail}");
                    (outcome, None)
                }
                Cycle::Failed {
                    outcome,
                    detail,
                    evidence,
                } => (outcome, Some((detail, evidence))),
            };
            if let Some((detail, evidence)) = failure {
                let idle = due.saturating_duration_since(last_push);
                let _ = age;
                let age = Instant::now().saturating_duration_since(*opened_at);
                self.pushed(
                    due,
                    idle,
                    Some(age),
                    PushOutcome::Failed(reason),
                    None,
                    evidence,
                    Some(detail),
                    Vec::new(),
                );
                last_push = due;
                due = Instant::now() + gaps.next_gap();
            }
            if let Some((l, _)) = link.take() {
                // A dead connection is dropped, not closed politely: a close would wait on it.
                drop(l);
            }
            self.with_stats(|s| s.listening_since = None);
            down = Some(Down {
                since: Instant::now(),
                reason,
                attempt: 0,
                last_error: None,
                next_attempt: Instant::now(),
            });
        }
    }

    /// An `https://` target: a light check at each push time.
    async fn light_loop(&mut self, gaps: &mut Gaps) {
        let mut last = Instant::now();
        loop {
            let due = Instant::now() + gaps.next_gap();
            tokio::time::sleep_until(due).await;
            let light = light::check(self.net, self.target).await;
            let idle = due.saturating_duration_since(last);
            last = due;
            self.pushed(
                due,
                idle,
                None,
                light.outcome,
                light.latency,
                None,
                light.detail,
                light.phases,
            );
        }
    }

    /// The watch stopped: the open incident as it stands, and the totals.
    pub fn finish(&mut self) {
        let now = OffsetDateTime::now_utc();
        if let Some(incident) = self.tracker.finish(now) {
            self.remember(&incident);
            self.emit(now, Body::Incident(incident));
        }
        self.emit(
            now,
            Body::Stopped(event::Stopped {
                pushes: self.pushes,
                failed: self.failed,
                incidents: self.tracker.count,
                reopens: self.reopens,
                ran_s: self.started.elapsed().as_secs_f64(),
            }),
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn pushed(
        &mut self,
        due: Instant,
        idle: Duration,
        age: Option<Duration>,
        outcome: PushOutcome,
        latency: Option<Duration>,
        evidence: Option<TcpEvidence>,
        detail: Option<String>,
        phases: Vec<event::Phase>,
    ) {
        let at = wall(due);
        self.seq += 1;
        self.pushes += 1;
        self.with_stats(|s| s.push(outcome, latency));
        let ms = |d: Duration| (d.as_secs_f64() * 1e6).round() / 1000.0;
        let secs = |d: Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
        self.emit(
            at,
            Body::Push(event::Push {
                seq: self.seq,
                outcome,
                latency_ms: latency.map(ms),
                idle_s: secs(idle),
                listener_age_s: age.map(secs),
                evidence: evidence.map(Into::into),
                detail,
                phases,
            }),
        );
        match outcome {
            PushOutcome::Delivered => {
                if let Some(incident) = self.tracker.delivered(at) {
                    self.say(&format!(
                        "incident {} ended: {} push(es) failed ({}), {:.1} s",
                        incident.id, incident.failed_pushes, incident.cause, incident.duration_s
                    ));
                    let seconds = incident.duration_s;
                    self.with_stats(|s| {
                        s.incident_closed_s += seconds;
                        s.incident_open_since = None;
                    });
                    self.remember(&incident);
                    self.emit(at, Body::Incident(incident));
                }
            }
            PushOutcome::Failed(o) => {
                self.failed += 1;
                if self.tracker.failed(at, o) {
                    let id = self.tracker.count;
                    self.say(&format!(
                        "push {} failed ({o}): incident {id} began",
                        self.seq
                    ));
                    self.with_stats(|s| {
                        s.incidents += 1;
                        s.incident_open_since = Some(due.into_std());
                    });
                }
            }
        }
    }

    fn reopen_event(
        &mut self,
        d: &Down,
        wait: Duration,
        took: Duration,
        error: Option<String>,
        down_for: Option<Duration>,
    ) {
        self.reopens += 1;
        let reason = d.reason;
        self.with_stats(|s| s.reopened(reason));
        let ok = error.is_none();
        self.emit(
            OffsetDateTime::now_utc(),
            Body::Reopen(event::Reopen {
                reason,
                attempt: d.attempt.max(1),
                backoff_s: wait.as_secs_f64(),
                took_ms: (took.as_secs_f64() * 1e6).round() / 1000.0,
                ok,
                error,
                down_s: down_for.map(|d| (d.as_secs_f64() * 1000.0).round() / 1000.0),
            }),
        );
    }

    fn remember(&mut self, incident: &event::Incident) {
        if self.recent.len() == RECENT_INCIDENTS {
            self.recent.remove(0);
        }
        self.recent.push(incident.clone());
    }

    fn say(&self, line: &str) {
        crate::output::stderr_line(&format!("probe watch: {}: {line}", self.target.name));
    }

    fn with_stats(&self, f: impl FnOnce(&mut TargetStats)) {
        let mut board = self.board.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(s) = board.stats.get_mut(self.index) {
            f(s);
        }
    }

    fn emit(&self, time: OffsetDateTime, body: Body) {
        let event = Event {
            schema: event::SCHEMA.into(),
            time,
            target: self.target.name.clone(),
            url: self.target.url.clone(),
            segment: self.settings.segment.clone(),
            host: self.settings.host.clone(),
            body,
        };
        self.board
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .sink
            .record(&event);
    }
}

/// The wall-clock time of a monotonic instant (now, less the time since).
fn wall(at: Instant) -> OffsetDateTime {
    let now = Instant::now();
    let wall = OffsetDateTime::now_utc();
    if at <= now {
        wall - (now - at)
    } else {
        wall + (at - now)
    }
}

/// This machine's name, for the events' `host`.
pub fn host_name() -> Option<String> {
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
