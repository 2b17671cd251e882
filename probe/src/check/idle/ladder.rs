//! The parallel ladder: one connection per idle period, all opened at once and each checked
//! once, beside a control connection that stays active. Resolution = the step; wall time = the
//! longest idle period plus the time to check it.

use super::channel::{Channel, Watch};
use super::probe::{probe, Hold};
use super::settings::{answer_deadline, ladder, IdleSettings};
use super::setup::SetupError;
use crate::net::connect::SocketOptions;
use crate::net::NetContext;
use crate::outcome::Outcome;
use crate::progress::IdleProgress;
use crate::result::{ControlReport, HcLadder, ProbeRecord, Variant, VariantReport};
use crate::seconds::Seconds;
use crate::target::Target;
use std::time::Instant;
use tokio::sync::watch;

/// Everything one or two ladder rounds produced.
pub struct LadderRun {
    pub records: Vec<ProbeRecord>,
    pub control: ControlReport,
    pub variants: Vec<VariantReport>,
    /// Connections that could not even be set up, with why.
    pub setup_failures: Vec<(Seconds, String)>,
    /// The layout over a hybrid connection's entities (hybrid connection targets).
    pub hc_ladder: Option<HcLadder>,
}

impl LadderRun {
    /// Adds a later round's findings; a control that failed in it stands.
    pub fn absorb(&mut self, later: LadderRun) {
        self.records.extend(later.records);
        self.setup_failures.extend(later.setup_failures);
        if later.control.outcome != Outcome::Survived {
            self.control = later.control;
        }
    }
}

/// Runs one round over `rungs` beside a control connection (round 1 also holds the variants).
pub async fn run(
    ctx: &NetContext,
    target: &Target,
    settings: &IdleSettings,
    rungs: &[Seconds],
    round: u8,
    progress: &IdleProgress,
) -> LadderRun {
    let interval = settings.activity_interval();
    let (stop_tx, stop_rx) = watch::channel(false);
    let rung_probes = futures_util::future::join_all(rungs.iter().map(|idle| async move {
        let hold = Hold {
            idle_s: *idle,
            socket: ctx.socket.clone(),
            heartbeat: None,
            round,
        };
        let result = probe(ctx, target, &hold).await;
        progress.checked(match &result {
            Ok(records) => records.iter().any(|r| r.outcome != Outcome::Survived),
            Err(_) => true,
        });
        (*idle, result)
    }));
    let variants = async {
        if !settings.variants || round != 1 {
            return Vec::new();
        }
        let keepalive = Hold {
            idle_s: settings.max_s,
            socket: SocketOptions {
                // TCP keepalive timers count whole seconds.
                keepalive: Some(interval.max(std::time::Duration::from_secs(1))),
            },
            heartbeat: None,
            round,
        };
        let heartbeat = Hold {
            idle_s: settings.max_s,
            socket: ctx.socket.clone(),
            heartbeat: Some(interval),
            round,
        };
        let (k, h) = tokio::join!(
            probe(ctx, target, &keepalive),
            probe(ctx, target, &heartbeat)
        );
        vec![
            variant(Variant::TcpKeepalive, &keepalive, k),
            variant(Variant::Heartbeat, &heartbeat, h),
        ]
    };
    let ladder = async {
        let both = tokio::join!(rung_probes, variants);
        let _ = stop_tx.send(true);
        both
    };
    let ((results, variants), control) =
        tokio::join!(ladder, control(ctx, target, interval, stop_rx));
    let mut records = Vec::new();
    let mut setup_failures = Vec::new();
    for (idle, result) in results {
        match result {
            Ok(r) => records.extend(r),
            Err(e) => setup_failures.push((idle, e.to_string())),
        }
    }
    LadderRun {
        records,
        control,
        variants,
        setup_failures,
        hc_ladder: None,
    }
}

/// Rungs for `--refine`: every second strictly inside the bracket.
pub fn refine_rungs(survived_s: Seconds, failed_s: Seconds) -> Vec<Seconds> {
    let second = Seconds::new(1);
    if failed_s - survived_s <= second {
        return Vec::new();
    }
    let mut rungs = ladder(
        survived_s + second,
        failed_s - Seconds::from_millis(1),
        second,
    );
    rungs.pop(); // `ladder` always ends at its max, which here is just below the failure.
    rungs.retain(|r| *r < failed_s);
    rungs
}

fn variant(
    name: Variant,
    hold: &Hold,
    result: Result<Vec<ProbeRecord>, SetupError>,
) -> VariantReport {
    let interval = hold
        .heartbeat
        .or(hold.socket.keepalive)
        .map(Seconds::from)
        .unwrap_or_default();
    let (outcome, detected_after_s, error) = match result {
        Ok(records) => {
            let outcome = crate::result::connection_outcome(&records);
            let at = records
                .iter()
                .find(|r| r.outcome == outcome)
                .and_then(|r| r.detected_after_s);
            (outcome, at, None)
        }
        Err(e) => (Outcome::Skipped, None, Some(e.to_string())),
    };
    VariantReport {
        variant: name,
        interval_s: interval,
        idle_s: hold.idle_s,
        outcome,
        detected_after_s,
        error,
    }
}

/// The control connection: one exchange every `interval` until told to stop.
async fn control(
    ctx: &NetContext,
    target: &Target,
    interval: std::time::Duration,
    mut stop: watch::Receiver<bool>,
) -> ControlReport {
    let started = Instant::now();
    let report = |outcome, failed: bool| ControlReport::at(interval, outcome, failed, started);
    let mut channel = match Channel::open(ctx, target, &ctx.socket, None).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(target = %target.url, "idle control connection failed to open: {e}");
            return report(Outcome::HandshakeFailed, true);
        }
    };
    let answer = answer_deadline(&target.kind, ctx.timeout, channel.baseline());
    loop {
        // Between exchanges, watch: an end that arrives unprompted counts too.
        tokio::select! {
            _ = stop.changed() => break,
            watch = channel.watch(Instant::now() + interval, None) => {
                if let Watch::Ended(outcome) = watch {
                    return report(outcome, true);
                }
            }
        }
        let outcome = channel.exchange(answer).await;
        if outcome != Outcome::Survived {
            return report(outcome, true);
        }
    }
    // One last exchange: the control must have outlived every test connection.
    let outcome = channel.exchange(answer).await;
    channel.close().await;
    report(outcome, outcome != Outcome::Survived)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refine_fills_the_bracket_by_seconds() {
        let s = Seconds::new;
        assert_eq!(refine_rungs(s(30), s(45)).len(), 14);
        assert_eq!(refine_rungs(s(30), s(45)).first(), Some(&s(31)));
        assert_eq!(refine_rungs(s(30), s(45)).last(), Some(&s(44)));
        assert!(refine_rungs(s(4), s(5)).is_empty());
    }
}
