//! Live progress of long checks: bars on a terminal (indicatif), periodic lines otherwise.

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where progress goes for a whole run.
#[derive(Clone)]
pub struct Progress {
    multi: Option<MultiProgress>,
    /// Print a plain line this often when not on a terminal (`None`: stay quiet).
    plain_every: Option<Duration>,
}

impl Progress {
    /// Bars when stderr is a terminal, plain lines every 15 s otherwise.
    pub fn new(terminal: bool) -> Progress {
        if terminal {
            Progress {
                multi: Some(MultiProgress::with_draw_target(ProgressDrawTarget::stderr())),
                plain_every: None,
            }
        } else {
            Progress {
                multi: None,
                plain_every: Some(Duration::from_secs(15)),
            }
        }
    }

    /// No output at all (library use).
    pub fn hidden() -> Progress {
        Progress {
            multi: None,
            plain_every: None,
        }
    }

    /// Progress of one target's idle ladder.
    pub fn idle(&self, target: &str, max_s: f64, probes: usize) -> IdleProgress {
        let bar = self.multi.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new((max_s * 10.0) as u64));
            bar.set_style(
                ProgressStyle::with_template("{prefix:>20} idle {bar:30} {msg}")
                    .expect("valid progress template"),
            );
            bar.set_prefix(target.to_string());
            bar
        });
        let state = Arc::new(State {
            target: target.to_string(),
            started: Instant::now(),
            max_s,
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
    target: String,
    started: Instant,
    max_s: f64,
    probes: usize,
    checked: AtomicUsize,
    failed: AtomicUsize,
}

impl State {
    fn draw(&self, bar: &ProgressBar) {
        let elapsed = self.started.elapsed().as_secs_f64().min(self.max_s);
        bar.set_position((elapsed * 10.0) as u64);
        bar.set_message(format!(
            "{:.0}/{:.0} s  {}/{} checked  {} failed",
            elapsed,
            self.max_s,
            self.checked.load(Ordering::Relaxed),
            self.probes,
            self.failed.load(Ordering::Relaxed)
        ));
    }

    fn line(&self) -> String {
        format!(
            "{} idle {:.0}/{:.0} s, {}/{} connections checked, {} failed",
            self.target,
            self.started.elapsed().as_secs_f64().min(self.max_s),
            self.max_s,
            self.checked.load(Ordering::Relaxed),
            self.probes,
            self.failed.load(Ordering::Relaxed)
        )
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
