//! Live progress of long checks: bars on a terminal (indicatif), periodic lines otherwise. On a
//! terminal, a run that holds idle connections says so at its start, and every bar shows the
//! time left for the whole run.

use crate::seconds::Seconds;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// Where progress goes for a whole run.
#[derive(Clone)]
pub struct Progress {
    multi: Option<MultiProgress>,
    /// Print a plain line this often when not on a terminal (`None`: stay quiet).
    plain_every: Option<Duration>,
    /// When the whole run is expected to end, once a long run is announced.
    run_ends: Arc<OnceLock<Instant>>,
}

impl Progress {
    /// Bars when stderr is a terminal, plain lines every 15 s otherwise.
    pub fn new(terminal: bool) -> Progress {
        if terminal {
            Progress {
                multi: Some(MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
                plain_every: None,
                run_ends: Arc::default(),
            }
        } else {
            Progress {
                multi: None,
                plain_every: Some(Duration::from_secs(15)),
                run_ends: Arc::default(),
            }
        }
    }

    /// No output at all (library use).
    pub fn hidden() -> Progress {
        Progress {
            multi: None,
            plain_every: None,
            run_ends: Arc::default(),
        }
    }

    /// A long run starts: `notice` (how long, how to skip it) goes on the terminal, and from
    /// now on every bar shows the time left until `expected` has passed. Off a terminal
    /// nothing is printed (the log has the notice at info level).
    pub fn long_run(&self, notice: &str, expected: Duration) {
        let _ = self.run_ends.set(Instant::now() + expected);
        if let Some(multi) = &self.multi {
            // Wrapped to the terminal here: indicatif would pad it to the width, not wrap it.
            let text = match terminal_size::terminal_size_of(std::io::stderr()) {
                Some((width, _)) => textwrap::fill(
                    notice,
                    textwrap::Options::new(usize::from(width.0))
                        .break_words(false)
                        .word_splitter(textwrap::WordSplitter::NoHyphenation),
                ),
                None => notice.to_string(),
            };
            multi.suspend(|| {
                use std::io::Write;
                // A closed stderr ends the line quietly.
                let _ = writeln!(std::io::stderr(), "{text}");
            });
        }
    }

    /// Progress of one target's idle ladder.
    pub fn idle(&self, target: &str, longest: Seconds, probes: usize) -> IdleProgress {
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new((longest.as_f64() * 10.0) as u64));
            bar.set_style(
                ProgressStyle::with_template("{prefix:>20} idle {bar:30} {msg}")
                    .expect("valid progress template"),
            );
            bar.set_prefix(target.to_string());
            bar
        });
        let state = Arc::new(State {
            run_ends: self.run_ends.get().copied(),
            target: target.to_string(),
            started: Instant::now(),
            longest,
            probes,
            checked: AtomicUsize::new(0),
            failed: AtomicUsize::new(0),
        });
        let every = if bar.is_some() {
            Some(Duration::from_millis(250))
        } else {
            self.plain_every
        };
        let ticker = every.map(|every| {
            let (state, bar) = (state.clone(), bar.clone());
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    match &bar {
                        Some(bar) => state.draw(bar),
                        // A closed stderr ends the line quietly.
                        None => {
                            use std::io::Write;
                            let _ = writeln!(std::io::stderr(), "progress: {}", state.line());
                        }
                    }
                }
            })
        });
        IdleProgress { state, bar, ticker }
    }
}

struct State {
    run_ends: Option<Instant>,
    target: String,
    started: Instant,
    /// The longest idle time the ladder tries.
    longest: Seconds,
    probes: usize,
    checked: AtomicUsize,
    failed: AtomicUsize,
}

impl State {
    /// Seconds since the ladder started, at most the longest idle time.
    fn elapsed_s(&self) -> f64 {
        self.started
            .elapsed()
            .as_secs_f64()
            .min(self.longest.as_f64())
    }

    fn draw(&self, bar: &ProgressBar) {
        let elapsed = self.elapsed_s();
        bar.set_position((elapsed * 10.0) as u64);
        bar.set_message(format!(
            "{:.0}/{:.0} s  {}/{} checked  {} failed{}",
            elapsed,
            self.longest.as_f64(),
            self.checked.load(Ordering::Relaxed),
            self.probes,
            self.failed.load(Ordering::Relaxed),
            self.run_ends
                .map(|end| format!("  {}", time_left(end, Instant::now())))
                .unwrap_or_default()
        ));
    }

    fn line(&self) -> String {
        format!(
            "{} idle {:.0}/{:.0} s, {}/{} connections checked, {} failed",
            self.target,
            self.elapsed_s(),
            self.longest.as_f64(),
            self.checked.load(Ordering::Relaxed),
            self.probes,
            self.failed.load(Ordering::Relaxed)
        )
    }
}

/// The whole run's time left, to the second: `run: 5m 10s left`, `run: finishing` once past.
fn time_left(end: Instant, now: Instant) -> String {
    let left = end.saturating_duration_since(now);
    if left.is_zero() {
        "run: finishing".into()
    } else {
        let secs = Duration::from_secs(left.as_secs_f64().ceil() as u64);
        format!("run: {} left", humantime::format_duration(secs))
    }
}

/// Progress of one idle ladder.
pub struct IdleProgress {
    state: Arc<State>,
    bar: Option<ProgressBar>,
    ticker: Option<tokio::task::JoinHandle<()>>,
}

impl IdleProgress {
    /// One test connection has been checked.
    pub fn checked(&self, failed: bool) {
        self.state.checked.fetch_add(1, Ordering::Relaxed);
        if failed {
            self.state.failed.fetch_add(1, Ordering::Relaxed);
        }
        self.redraw();
    }

    fn redraw(&self) {
        if let Some(bar) = &self.bar {
            self.state.draw(bar);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        if let Some(t) = &self.ticker {
            t.abort();
        }
    }
}

impl Drop for IdleProgress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_left_is_counted_to_the_second_and_ends_in_finishing() {
        let now = Instant::now();
        let end = now + Duration::from_millis(370_400);
        assert_eq!(time_left(end, now), "run: 6m 11s left");
        assert_eq!(time_left(now, end), "run: finishing");
    }

    #[test]
    fn a_long_run_sets_its_end_once() {
        let p = Progress::hidden();
        p.long_run("notice", Duration::from_secs(60));
        let first = p.run_ends.get().copied();
        p.long_run("again", Duration::from_secs(600));
        assert!(first.is_some());
        assert_eq!(p.run_ends.get().copied(), first);
        // The clones of a run share it.
        assert_eq!(p.clone().run_ends.get().copied(), first);
    }
}
