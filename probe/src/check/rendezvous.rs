//! rendezvous: the probe connects to its own hybrid connection as a sender; the service must
//! hand the sender to the probe's listener (an `accept` down the control channel, the way a
//! password reset reaches writeback), the listener accepts at the rendezvous address the service
//! names (often a gateway host, not the namespace), and one message crosses each way end to end.

use super::{Check, Ctx, Session};
use crate::net::hc::strangers::{Busy, Strangers};
use crate::net::hc::{self, listener, round_trip, sender, Event, Listener, Refusal};
use crate::net::websocket::Ws;
use crate::net::{Endpoint, NetContext};
use crate::outcome::{Failure, Outcome, Status};
use crate::result::{millis, CheckName, CheckResult, Details, RendezvousDetails};
use crate::target::{HybridConnection, Target};
use relay_protocol::hc::control::AcceptMessage;
use std::time::{Duration, Instant};

/// This check, as the registry (`result/registry.rs`) finds it.
pub const CHECK: Check = Check {
    name: CheckName::Rendezvous,
    // A sender (one deadline for the accept), the listener's rendezvous, a message each way.
    phase_deadlines: 3,
    failed: "no sender reached the listener",
    failed_with: &[],
    run: |ctx, target, session| Box::pin(run(ctx, target, session)),
};

pub async fn run(ctx: &Ctx<'_>, target: &Target, session: &mut Session) -> CheckResult {
    let (Some(hc), Some(mut listener)) = (target.hc(), session.listener.take()) else {
        return CheckResult::skipped(
            CheckName::Rendezvous,
            session.failed.unwrap_or("no listener is open"),
        );
    };
    let net = ctx.net;
    let started = Instant::now();
    let meeting = meet(net, target, hc, &mut listener).await;
    listener.close().await;
    let mut details = RendezvousDetails {
        sender_id: meeting.sender_id.clone(),
        status_code: None,
        description: None,
        accept_ms: meeting.accept_after.map(millis),
        rendezvous_host: meeting.rendezvous_host.clone(),
        round_trip_ms: None,
    };
    let entity = hc.entity();
    let (status, outcome, message) = match meeting.result {
        Ok((mut sent, mut taken)) => {
            details.status_code = Some(101);
            match round_trip(&mut sent, &mut taken, net.timeout).await {
                Ok(took) => {
                    details.round_trip_ms = Some(millis(took));
                    (
                        Status::Pass,
                        Outcome::Accepted,
                        format!(
                            "a sender reached the listener through the relay ({} for the accept), and a message crossed each way ({} ms): the relay can deliver to this machine",
                            details
                                .accept_ms
                                .map(|ms| format!("{ms} ms"))
                                .unwrap_or_else(|| "-".into()),
                            details.round_trip_ms.unwrap_or_default()
                        ),
                    )
                }
                Err(Failure {
                    outcome,
                    detail: why,
                }) => (
                    Status::Fail,
                    outcome,
                    format!("the sender and the listener met, but {why}"),
                ),
            }
        }
        Err(failure) => {
            let (outcome, message) = failure.describe(entity, net.timeout, &mut details);
            (Status::Fail, outcome, message)
        }
    };
    CheckResult::new(
        CheckName::Rendezvous,
        status,
        outcome,
        message,
        started.elapsed(),
    )
    .with(Details::Rendezvous(details))
}

/// How a sender and the listener did not meet.
enum Missed {
    /// The sender's handshake was refused: by the service, or by another listener.
    Sender(Refusal),
    /// The accept arrived, but the listener could not reach the rendezvous address.
    Rendezvous { host: String, refusal: Refusal },
    /// The listener's control channel ended while waiting.
    ListenerEnded { outcome: Outcome, detail: String },
    /// No accept reached the listener in time.
    NoAccept,
    /// The relay kept handing the listener senders it did not start.
    Busy(Busy),
}

impl Missed {
    fn describe(
        self,
        entity: &relay_protocol::hc::EntityPath,
        timeout: Duration,
        details: &mut RendezvousDetails,
    ) -> (Outcome, String) {
        let secs = timeout.as_secs_f64();
        match self {
            Missed::Sender(Refusal::Status { code, description }) => {
                details.status_code = Some(code);
                details.description = description.clone();
                let said = description
                    .as_deref()
                    .map(|d| format!(" ({})", d.trim_end_matches('.')))
                    .unwrap_or_default();
                match code {
                    404 => (
                        Outcome::NoListener,
                        format!("the relay had no listener to hand the sender to ({code}), although the probe's listener was connected: its control channel was dropped on the way{said}"),
                    ),
                    401 | 403 => {
                        let (outcome, advice) =
                            hc::refusal(code, details.description.as_deref());
                        (outcome, format!("the relay refused the sender with {code}{said}. {advice}"))
                    }
                    _ => (
                        Outcome::Rejected,
                        format!("a listener turned the sender away with {code}{said}: another listener is connected to {entity} (another probe, or an application) and took it; give each probe a hybrid connection of its own"),
                    ),
                }
            }
            Missed::Sender(Refusal::Timeout) | Missed::NoAccept => (
                Outcome::Timeout,
                format!("no sender was handed to the listener within {secs} s: the relay did not deliver the accept down the control channel"),
            ),
            Missed::Sender(Refusal::Failed { outcome, why }) => (
                outcome,
                format!("the sender's connection failed: {why}"),
            ),
            Missed::Rendezvous { host, refusal } => {
                let outcome = refusal.outcome().unwrap_or(Outcome::ProtocolError);
                (
                    outcome,
                    format!("the accept reached the listener, but the rendezvous address {host} could not be reached ({refusal}): the service hands out gateway hosts, not the namespace, and writeback's listener connects there for every request; allow TCP 443 to {}", domain_wildcard(&host)),
                )
            }
            Missed::Busy(busy) => (Outcome::EntityBusy, busy.describe(entity.as_str())),
            Missed::ListenerEnded { outcome, detail } => (
                outcome,
                format!("the listener's control channel ended while waiting for the sender: {detail}"),
            ),
        }
    }
}

/// `*.PARENT` for a rendezvous host (`*.servicebus.windows.net` for
/// `g3-prod-sb.servicebus.windows.net`): the gateways live beside the namespace, under the
/// cloud's relay suffix. An address, or a host without a parent domain, is named as it is.
fn domain_wildcard(host: &str) -> String {
    if host.parse::<std::net::IpAddr>().is_ok() {
        return host.to_string();
    }
    match host.split_once('.') {
        Some((_, parent)) if parent.contains('.') => format!("*.{parent}"),
        _ => host.to_string(),
    }
}

/// What one meeting attempt produced.
struct Meeting {
    sender_id: String,
    accept_after: Option<Duration>,
    rendezvous_host: Option<String>,
    /// The sender's and the listener's ends of the rendezvous.
    result: Result<(Ws, Ws), Missed>,
}

/// Connects a sender and, at the same time, waits on `listener` for its accept and takes it.
async fn meet(
    net: &NetContext,
    target: &Target,
    hc: &HybridConnection,
    listener: &mut Listener,
) -> Meeting {
    let sender_id = hc::connection_id("sender");
    let started = Instant::now();
    let deadline = tokio::time::Instant::now() + net.timeout;
    let sending = sender::connect(
        net,
        Endpoint::of(target),
        hc,
        hc.entity(),
        &sender_id,
        net.timeout,
    );
    let mut accept_after = None;
    let mut rendezvous_host = None;
    let mut strangers = Strangers::default();
    let taking = async {
        loop {
            match listener.next_event(deadline, None).await {
                Event::Accept(accept) if hc::is_for(&accept.id, &sender_id) => {
                    accept_after = Some(started.elapsed());
                    rendezvous_host = address_host(&accept);
                    return listener::accept(net, hc, target.direct, &accept)
                        .await
                        .map_err(|refusal| Missed::Rendezvous {
                            host: rendezvous_host.clone().unwrap_or_default(),
                            refusal,
                        });
                }
                Event::Accept(other) => strangers
                    .turn_away(net, hc, target.direct, &other)
                    .await
                    .map_err(Missed::Busy)?,
                Event::Ended { outcome, detail } => {
                    return Err(Missed::ListenerEnded { outcome, detail })
                }
                Event::Quiet => return Err(Missed::NoAccept),
            }
        }
    };
    let result = both(sending, taking).await;
    Meeting {
        sender_id,
        accept_after,
        rendezvous_host,
        result,
    }
}

/// Runs the sender and the listener side together; a sender refused outright ends the wait for
/// the listener at once.
async fn both(
    sending: impl std::future::Future<Output = Result<Ws, Refusal>>,
    taking: impl std::future::Future<Output = Result<Ws, Missed>>,
) -> Result<(Ws, Ws), Missed> {
    tokio::pin!(sending);
    tokio::pin!(taking);
    let mut sent = None;
    let mut taken = None;
    loop {
        tokio::select! {
            s = &mut sending, if sent.is_none() => match s {
                Ok(ws) => sent = Some(ws),
                Err(refusal) => return Err(Missed::Sender(refusal)),
            },
            t = &mut taking, if taken.is_none() => match t {
                Ok(ws) => taken = Some(ws),
                Err(missed) => return Err(missed),
            },
        }
        if let (Some(_), Some(_)) = (&sent, &taken) {
            break;
        }
    }
    match (sent, taken) {
        (Some(s), Some(t)) => Ok((s, t)),
        _ => Err(Missed::NoAccept),
    }
}

fn address_host(accept: &AcceptMessage) -> Option<String> {
    url::Url::parse(&accept.address)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::domain_wildcard;

    #[test]
    fn the_advice_names_the_gateways_domain() {
        assert_eq!(
            domain_wildcard("g3-prod-sb.servicebus.windows.net"),
            "*.servicebus.windows.net"
        );
        assert_eq!(
            domain_wildcard("g1-x-sb.servicebus.chinacloudapi.cn"),
            "*.servicebus.chinacloudapi.cn"
        );
        assert_eq!(domain_wildcard("127.0.0.1"), "127.0.0.1");
        assert_eq!(domain_wildcard("relay"), "relay");
    }
}
