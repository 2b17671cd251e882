//! The watch's listener on one target, and one push to it: a mock-relay listener channel
//! (`relay://`: the relay pushes after a hold) or a Hybrid Connections listener (`hc://`: a
//! sender connects through the relay and the listener takes its accept), kept alive the way
//! the relay SDK keeps writeback's.

use crate::check::idle::channel::{Channel, Watch};
use crate::net::hc::{self, listener, sender, Event as HcEvent, Listener, Refusal};
use crate::net::tcp_info::TcpEvidence;
use crate::net::{Endpoint, NetContext};
use crate::outcome::Outcome;
use crate::target::{Target, TargetKind};
use std::time::Duration;
use tokio::time::Instant;

/// How long the listener is still watched for the accept once the sender has been refused: an
/// ending that coincides is the better evidence.
const SENDER_GRACE: Duration = Duration::from_millis(500);

/// An open listener.
pub enum Link {
    Relay(Box<Channel>),
    Hc(Box<Listener>),
}

/// What became of one push.
#[derive(Debug, Clone, PartialEq)]
pub enum Cycle {
    /// The push reached the listener, this long after it was sent.
    Delivered(Duration),
    /// The listener's connection ended before the push was due, visibly (the SDK reconnects at
    /// once): reopen, and push at the same time.
    EndedEarly { outcome: Outcome, detail: String },
    /// The push did not reach the listener.
    Failed {
        outcome: Outcome,
        detail: String,
        evidence: Option<TcpEvidence>,
    },
}

impl Link {
    /// Opens the target's listener; a failure comes with its outcome word.
    pub async fn open(net: &NetContext, target: &Target) -> Result<Link, (Outcome, String)> {
        match &target.kind {
            TargetKind::Hc(hc) => Listener::connect(net, Endpoint::of(target), hc, hc.entity())
                .await
                .map(|l| Link::Hc(Box::new(l)))
                .map_err(|r| {
                    (
                        refusal_outcome(&r),
                        format!("the listener did not open: {r}"),
                    )
                }),
            TargetKind::Relay => Channel::open_listener(net, target)
                .await
                .map(|c| Link::Relay(Box::new(c))),
            _ => Err((
                Outcome::Skipped,
                "only relay:// and hc:// targets have a listener".into(),
            )),
        }
    }

    /// Keeps the listener alive until `due` (a keep-alive every `keepalive`), then pushes to
    /// it.
    pub async fn cycle(
        &mut self,
        net: &NetContext,
        target: &Target,
        due: Instant,
        keepalive: Option<Duration>,
    ) -> Cycle {
        match self {
            Link::Relay(channel) => relay_cycle(channel, net.timeout, due, keepalive).await,
            Link::Hc(l) => hc_cycle(l, net, target, due, keepalive).await,
        }
    }
}

/// A relay's channel: hold, idle (keep-alive pings), the push at `due`; no push by `due` plus
/// the deadline: an echo asks the connection, and the kernel says what it knows.
async fn relay_cycle(
    channel: &mut Channel,
    deadline: Duration,
    due: Instant,
    keepalive: Option<Duration>,
) -> Cycle {
    let after = due.saturating_duration_since(Instant::now());
    // The hold is the client's own request: its own deadline is longer, so an unanswered hold
    // is told from a refused one.
    match tokio::time::timeout(deadline, channel.hold_for(after, deadline * 2)).await {
        Ok(Ok(())) => {}
        Ok(Err(why)) => {
            return Cycle::EndedEarly {
                outcome: Outcome::Closed,
                detail: why.to_string(),
            }
        }
        Err(_) => {
            // Nothing came back: the path went silent, which writeback's listener would not
            // notice until the push it then misses.
            tokio::time::sleep_until(due).await;
            let (outcome, evidence) = channel.exchange_judged(deadline).await;
            let outcome = match outcome {
                Outcome::Survived => Outcome::SilentDrop,
                other => other,
            };
            return Cycle::Failed {
                outcome,
                detail: format!("the relay never confirmed the hold for this push ({outcome})"),
                evidence: evidence.or_else(|| channel.tcp().and_then(|t| t.evidence())),
            };
        }
    }
    let watched = channel.watch((due + deadline).into_std(), keepalive).await;
    let now = Instant::now();
    match watched {
        Watch::Push => Cycle::Delivered(now.saturating_duration_since(due)),
        Watch::Ended(outcome) if now < due => Cycle::EndedEarly {
            outcome,
            detail: format!("the listener's connection ended while idle ({outcome})"),
        },
        Watch::Ended(outcome) => Cycle::Failed {
            outcome,
            detail: format!("the listener's connection ended instead of the push ({outcome})"),
            evidence: channel.tcp().and_then(|t| t.evidence()),
        },
        Watch::Quiet => match channel.exchange_judged(deadline).await {
            (Outcome::Survived, _) => Cycle::Failed {
                outcome: Outcome::SilentDrop,
                detail: "the push never came, though the channel still answers an echo".into(),
                evidence: channel.tcp().and_then(|t| t.evidence()),
            },
            (outcome, evidence) => Cycle::Failed {
                outcome,
                detail: format!("the push never came, and an echo got {outcome}"),
                evidence: evidence.or_else(|| channel.tcp().and_then(|t| t.evidence())),
            },
        },
    }
}

/// What the listener saw of the push.
enum Seen {
    Accepted(Duration),
    Ended(Outcome, String),
    Nothing,
}

/// A hybrid connection's listener: idle until `due` (SDK keep-alives, token renewal), then a
/// sender through the relay, and the listener watched for its accept.
async fn hc_cycle(
    l: &mut Listener,
    net: &NetContext,
    target: &Target,
    due: Instant,
    keepalive: Option<Duration>,
) -> Cycle {
    loop {
        match l.next_event(due, keepalive).await {
            HcEvent::Quiet => break,
            // A sender of an earlier push that gave up: not this push's.
            HcEvent::Accept(_) => {}
            HcEvent::Ended { outcome, detail } => {
                return Cycle::EndedEarly { outcome, detail };
            }
        }
    }
    let Some(hc) = target.hc() else {
        return Cycle::EndedEarly {
            outcome: Outcome::Skipped,
            detail: "no hybrid connection".into(),
        };
    };
    let entity = hc.entity();
    let id = hc::connection_id("sender");
    let sent_at = Instant::now();
    let until = sent_at + net.timeout;
    let (seen, refused) = {
        let sending = sender::connect(net, Endpoint::of(target), hc, entity, &id, net.timeout);
        let watching = async {
            loop {
                match l.next_event(until, keepalive).await {
                    HcEvent::Accept(a) if hc::is_for(&a.id, &id) => {
                        let latency = sent_at.elapsed();
                        // The push arrived; the rendezvous completes it for the sender.
                        let _ = listener::accept(net, hc, target.direct, &a).await;
                        return Seen::Accepted(latency);
                    }
                    HcEvent::Accept(_) => {}
                    HcEvent::Ended { outcome, detail } => return Seen::Ended(outcome, detail),
                    HcEvent::Quiet => return Seen::Nothing,
                }
            }
        };
        tokio::pin!(sending, watching);
        let mut refused: Option<Refusal> = None;
        let mut sender_done = false;
        let seen = tokio::select! {
            seen = &mut watching => seen,
            sent = &mut sending => match sent {
                Ok(_) => {
                    sender_done = true;
                    watching.await
                }
                Err(r) => {
                    refused = Some(r);
                    tokio::time::timeout(SENDER_GRACE, &mut watching)
                        .await
                        .unwrap_or(Seen::Nothing)
                }
            },
        };
        if matches!(seen, Seen::Accepted(_)) && refused.is_none() && !sender_done {
            // Let the sender's side of the rendezvous finish before both are dropped.
            let _ = tokio::time::timeout(net.timeout, &mut sending).await;
        }
        (seen, refused)
    };
    match seen {
        Seen::Accepted(latency) => Cycle::Delivered(latency),
        Seen::Ended(outcome, detail) => Cycle::Failed {
            outcome,
            detail,
            evidence: None,
        },
        Seen::Nothing => {
            if let Some(r) = &refused {
                let timed_out =
                    matches!(r, Refusal::Timeout) || r.outcome() == Some(Outcome::Timeout);
                if !timed_out {
                    let outcome = refusal_outcome(r);
                    return Cycle::Failed {
                        outcome,
                        detail: format!("the sender was refused: {r}"),
                        evidence: None,
                    };
                }
            }
            let (outcome, evidence, _) = l.pong_check(net.timeout).await;
            match outcome {
                Outcome::Survived => Cycle::Failed {
                    outcome: Outcome::SilentDrop,
                    detail: "the relay never handed the sender to the listener, though the listener's connection still takes a keep-alive".into(),
                    evidence,
                },
                o => Cycle::Failed {
                    outcome: o,
                    detail: format!("the relay never handed the sender to the listener, and its keep-alive got {o}"),
                    evidence,
                },
            }
        }
    }
}

/// The outcome word of a refused listener or sender.
fn refusal_outcome(r: &Refusal) -> Outcome {
    match r {
        Refusal::Status { code: 404, .. } => Outcome::NoListener,
        Refusal::Status { code, description } if matches!(code, 401 | 403) => {
            hc::refusal(*code, description.as_deref()).0
        }
        Refusal::Status { .. } => Outcome::Rejected,
        other => other.outcome().unwrap_or(Outcome::ProtocolError),
    }
}
