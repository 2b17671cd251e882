//! idle: do idle connections through this path survive as long as the service needs?
//!
//! The relay pushes each password reset down an idle listener connection, so every middlebox on
//! the path must keep idle connections alive for minutes. A parallel ladder of connections, each
//! idle for a different period and checked once, brackets the cutoff in one run; a control
//! connection tells a middlebox's idle timer from a broken path; variants with TCP keepalives
//! and application heartbeats tell layer 4 from layer 7.

pub mod attribution;
mod channel;
pub mod ladder;
mod probe;
pub mod report;
pub mod settings;

pub use report::{Direction, IdleReport, IdleVerdict, ProbeRecord};
pub use settings::IdleSettings;

use super::{CheckName, CheckResult};
use crate::advice::{fmt_s, idle_advice};
use crate::net::NetContext;
use crate::outcome::{Outcome, Status};
use crate::progress::IdleProgress;
use crate::target::{Target, TargetKind};
use report::VariantReport;
use std::time::Instant;

/// Runs the ladder (and `--refine` round) against `target`.
pub async fn run(
    ctx: &NetContext,
    target: &Target,
    settings: &IdleSettings,
    progress: &IdleProgress,
) -> (CheckResult, IdleReport) {
    let started = Instant::now();
    let mut run = ladder::run(ctx, target, settings, &settings.rungs(), 1, progress).await;
    let first = attribution::bracket(&run.records);
    if settings.refine && run.control.outcome == Outcome::Survived {
        if let (Some(s), Some(f)) = (first.survived_s, first.failed_s) {
            let rungs = ladder::refine_rungs(s, f);
            if !rungs.is_empty() {
                let second = ladder::run(ctx, target, settings, &rungs, 2, progress).await;
                run.records.extend(second.records);
                run.setup_failures.extend(second.setup_failures);
                if second.control.outcome != Outcome::Survived {
                    run.control = second.control;
                }
            }
        }
    }
    progress.finish();
    run.records
        .sort_by(|a, b| a.idle_s.total_cmp(&b.idle_s).then(a.round.cmp(&b.round)));
    let bracket = attribution::bracket(&run.records);
    let control_ok = run.control.outcome == Outcome::Survived;
    let tested_any = !run.records.is_empty();
    let mut verdict = if tested_any {
        attribution::verdict(&bracket, settings.required_s, control_ok)
    } else {
        IdleVerdict::Inconclusive
    };
    // A real endpoint that closes idle keep-alive connections itself, cleanly, limits what can be
    // tested against it; it says nothing against the path (the relay listener is a WebSocket,
    // not an HTTP keep-alive). A mock-relay doing it is a rehearsed fault, judged as such.
    let endpoint_limited = verdict == IdleVerdict::Fail
        && bracket.failure == Some(Outcome::TlsCloseNotify)
        && target.kind != TargetKind::Relay;
    if endpoint_limited {
        verdict = IdleVerdict::Inconclusive;
    }
    let advice = idle_advice(
        settings.required_s,
        bracket.survived_s,
        bracket.failed_s,
        bracket.failure,
    );
    let mut message = match verdict {
        IdleVerdict::Inconclusive if endpoint_limited => format!(
            "{} itself closes idle connections cleanly (TLS close_notify) by {} s: a server keep-alive limit, not a middlebox, so longer idle periods cannot be tested against it (none was cut before). For the full ladder, rehearse against a mock-relay beyond the firewall",
            target.host,
            fmt_s(bracket.failed_s.unwrap_or_default())
        ),
        IdleVerdict::Pass if bracket.failed_s.is_none() => format!(
            "{advice}, in every direction checked"
        ),
        IdleVerdict::Pass => format!(
            "idle connections survive the {} s required, but {advice}",
            fmt_s(settings.required_s)
        ),
        IdleVerdict::Fail => advice.clone(),
        IdleVerdict::Inconclusive if !tested_any => format!(
            "no idle test connection could be opened: {}",
            run.setup_failures
                .first()
                .map(|f| f.1.as_str())
                .unwrap_or("unknown reason")
        ),
        IdleVerdict::Inconclusive if !control_ok => format!(
            "the control connection, active all along, failed too ({} after {} s): the path or the server broke, so no idle timer can be judged; {advice}",
            run.control.outcome,
            fmt_s(run.control.failed_after_s.unwrap_or_default())
        ),
        IdleVerdict::Inconclusive => format!(
            "the ladder stopped at {} s, short of the {} s required: raise --idle-max",
            fmt_s(settings.max_s),
            fmt_s(settings.required_s)
        ),
    };
    if let Some(note) = variants_note(&run.variants, bracket.failed_s) {
        message.push_str(&format!(". {note}"));
    }
    if !run.setup_failures.is_empty() && tested_any {
        message.push_str(&format!(
            ". {} test connection(s) could not be opened (first: {})",
            run.setup_failures.len(),
            run.setup_failures[0].1
        ));
    }
    let unprompted: Vec<String> = run
        .records
        .iter()
        .filter(|r| r.unprompted)
        .filter_map(|r| r.detected_after_s.map(|t| (r.outcome, t)))
        .map(|(o, t)| format!("{o} at {} s", fmt_s(t)))
        .take(3)
        .collect();
    if !unprompted.is_empty() {
        message.push_str(&format!(
            ". Arrived unprompted while idle: {}",
            unprompted.join(", ")
        ));
    }
    let (status, outcome) = match verdict {
        IdleVerdict::Pass if bracket.failed_s.is_some() => (Status::Warn, Outcome::Survived),
        IdleVerdict::Pass => (Status::Pass, Outcome::Survived),
        IdleVerdict::Fail => (Status::Fail, bracket.failure.unwrap_or(Outcome::SilentDrop)),
        IdleVerdict::Inconclusive if endpoint_limited => (Status::Warn, Outcome::TlsCloseNotify),
        IdleVerdict::Inconclusive => (Status::Fail, Outcome::Inconclusive),
    };
    let report = IdleReport {
        required_s: settings.required_s,
        survived_s: bracket.survived_s,
        failed_s: bracket.failed_s,
        failure: bracket.failure,
        verdict,
        step_s: settings.step_s,
        probes: run.records,
        control: run.control,
        variants: run.variants,
        advice,
    };
    let result = CheckResult::new(CheckName::Idle, status, outcome, message, started.elapsed());
    (result, report)
}

/// What the keepalive and heartbeat variants say about the layer of the cutoff.
fn variants_note(variants: &[VariantReport], failed_s: Option<f64>) -> Option<String> {
    let failed_s = failed_s?;
    let find = |name| variants.iter().find(|v| v.variant == name);
    let (keepalive, heartbeat) = (find("tcp_keepalive")?, find("heartbeat")?);
    if keepalive.idle_s < failed_s || keepalive.error.is_some() || heartbeat.error.is_some() {
        return None;
    }
    let alive = |v: &VariantReport| v.outcome == Outcome::Survived;
    Some(match (alive(keepalive), alive(heartbeat)) {
        (true, _) => format!(
            "Yet TCP keepalives every {} s kept a connection alive for {} s: the cutoff is at layer 4 (a NAT or stateful firewall); keepalives work around it, raising its idle timeout fixes it",
            fmt_s(keepalive.interval_s),
            fmt_s(keepalive.idle_s)
        ),
        (false, true) => format!(
            "Only application heartbeats (every {} s) kept a connection alive: the cutoff is at layer 7 (a proxy that counts payload bytes, not TCP keepalives)",
            fmt_s(heartbeat.interval_s)
        ),
        (false, false) => format!(
            "Neither TCP keepalives nor heartbeats every {} s kept a connection alive for {} s: something limits connection lifetime, not just idle time",
            fmt_s(heartbeat.interval_s),
            fmt_s(heartbeat.idle_s)
        ),
    })
}
