//! listener: a Hybrid Connections listener's control channel (`sb-hc-action=listen`) over the
//! tls check's connection, as writeback's agent opens its own to the relay. The service answers
//! a handshake it will not take with a plain HTTP status, named here the way a team acts on it.

use super::{Check, Ctx, Session};
use crate::net::hc::{refusal, Listener, Refusal};
use crate::outcome::{Outcome, Status};
use crate::result::{CheckName, CheckResult, Details, ListenerDetails};
use crate::seconds::Seconds;
use crate::target::Target;
use std::time::Instant;

/// This check, as the registry (`result/registry.rs`) finds it.
pub const CHECK: Check = Check {
    name: CheckName::Listener,
    // The control channel's handshake.
    phase_deadlines: 1,
    failed: "the listener's control channel did not open",
    failed_with: &[],
    run: |ctx, target, session| Box::pin(run(ctx, target, session)),
};

pub async fn run(ctx: &Ctx<'_>, target: &Target, session: &mut Session) -> CheckResult {
    let Some(hc) = target.hc() else {
        return CheckResult::skipped(CheckName::Listener, "not a hybrid connection");
    };
    let Some(stream) = session.tls.take() else {
        return CheckResult::skipped(
            CheckName::Listener,
            session.failed.unwrap_or("no TLS session"),
        );
    };
    let net = ctx.net;
    let entity = hc.entity();
    let where_ = format!("{}/{entity}", hc.namespace);
    let started = Instant::now();
    let opened = Listener::open(Box::new(stream), hc, entity, net.timeout).await;
    let elapsed = started.elapsed();
    let mut details = ListenerDetails {
        entity: entity.to_string(),
        listener_id: String::new(),
        status_code: None,
        description: None,
    };
    let (status, outcome, message) = match opened {
        Ok(listener) => {
            details.listener_id = listener.id.clone();
            details.status_code = Some(101);
            session.relay_idle_limit = listener
                .announced_idle_limit_s
                .filter(|s| s.is_finite() && *s > 0.0)
                .map(Seconds::from_f64);
            session.listener = Some(listener);
            (
                Status::Pass,
                Outcome::Listening,
                format!("the listener's control channel to {where_} is open: the relay accepts this machine as a listener"),
            )
        }
        Err(Refusal::Status { code, description }) => {
            details.status_code = Some(code);
            let said = description
                .as_deref()
                .map(|d| format!(": {}", d.trim_end_matches('.')))
                .unwrap_or_default();
            let (outcome, advice) = refusal(code, description.as_deref());
            details.description = description;
            (
                Status::Fail,
                outcome,
                format!("the relay refused the listener for {where_} with {code}{said}. {advice}"),
            )
        }
        Err(Refusal::Timeout) => (
            Status::Fail,
            Outcome::Timeout,
            format!(
                "no answer to the listener's handshake for {where_} within {} s: a proxy or firewall holding WebSocket upgrades, or the service is not answering",
                net.timeout.as_secs_f64()
            ),
        ),
        Err(Refusal::Failed { outcome, why }) => (
            Status::Fail,
            outcome,
            format!("the listener's handshake for {where_} failed: {why}"),
        ),
    };
    CheckResult::new(CheckName::Listener, status, outcome, message, elapsed)
        .with(Details::Listener(details))
}
