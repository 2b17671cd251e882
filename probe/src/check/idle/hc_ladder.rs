//! The idle ladder against a hybrid connection: writeback's own pattern, end to end through the
//! relay. Each rung is a listener left completely idle (no ping, no pong) on an entity of its
//! own, since the service hands a sender to any one of an entity's listeners; at the rung's time
//! the probe connects a sender, and the service's `accept` must come down the idle listener
//! (`server_push`, the direction a password reset travels), then a Ping checks the other way
//! (`client_send`: an unsolicited Pong, as the SDK's keep-alive, and the kernel's word that it
//! was acknowledged; never a WebSocket Ping, which the service answers by dropping the
//! listener). A control listener keeps itself alive with a Pong every few seconds, as the .NET
//! SDK's listener does (every 210 s), and its last Pong must still be acknowledged at the end.
//!
//! One entity gives one definitive rung at the required idle time (the control listener shares
//! the entity and turns away any sender it is handed, which then tries again); more entities give
//! a parallel ladder, the last entity holding the control listener alone.

use super::ladder::LadderRun;
use super::settings::{answer_deadline, IdleSettings, PUSH_GRACE};
use super::setup::SetupError;
use crate::net::hc::round_trip;
use crate::net::hc::strangers::{Busy, Strangers, NOT_OURS_DESCRIPTION, NOT_OURS_STATUS};
use crate::net::hc::{self, listener, sender, Event, Listener, Refusal};
use crate::net::websocket::Ws;
use crate::net::{Endpoint, NetContext};
use crate::outcome::Outcome;
use crate::progress::IdleProgress;
use crate::result::{ControlReport, Direction, HcLadder, ProbeRecord, SenderView};
use crate::seconds::Seconds;
use crate::target::{HybridConnection, Target};
use relay_protocol::hc::EntityPath;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How a control listener turns away a sender it is handed; the sender recognises it and tries
/// again, so the service can hand it to the idle listener.
const CONTROL_STATUS: u16 = 503;
const CONTROL_DESCRIPTION: &str = "probe control listener: try again";
/// Senders one rung may try before giving up on reaching its listener.
const SENDER_ATTEMPTS: usize = 3;

/// Which entity each listener uses.
pub struct Layout {
    /// `(idle period, entity)` of every rung.
    pub rungs: Vec<(Seconds, EntityPath)>,
    pub control: EntityPath,
}

impl Layout {
    /// Lays `periods` (the ladder's, shortest first) over the entities of `hc`: one entity
    /// tests the required period alone; with more, the last holds the control listener and the
    /// others test periods spread over the ladder, the required one always among them.
    pub fn new(hc: &HybridConnection, periods: &[Seconds], required_s: Seconds) -> Layout {
        match hc.more_entities.split_last() {
            None => Layout {
                rungs: vec![(required_s, hc.entity.clone())],
                control: hc.entity.clone(),
            },
            Some((control, others)) => {
                let testers: Vec<&EntityPath> = std::iter::once(&hc.entity).chain(others).collect();
                let chosen = spread(periods, testers.len(), required_s);
                Layout {
                    rungs: chosen
                        .into_iter()
                        .zip(testers.into_iter().cloned())
                        .collect(),
                    control: control.clone(),
                }
            }
        }
    }

    pub fn report(&self, hc: &HybridConnection) -> HcLadder {
        HcLadder {
            entities: 1 + hc.more_entities.len(),
            rungs: self.rungs.len(),
            control_entity: self.control.to_string(),
        }
    }
}

/// Picks `k` of `periods` evenly, always including `required_s` (when the ladder reaches it).
pub fn spread(periods: &[Seconds], k: usize, required_s: Seconds) -> Vec<Seconds> {
    if k == 0 || periods.is_empty() {
        return Vec::new();
    }
    if k >= periods.len() {
        return periods.to_vec();
    }
    let last = periods.len() - 1;
    let mut picks: Vec<usize> = if k == 1 {
        vec![last]
    } else {
        (0..k).map(|i| (i * last + (k - 1) / 2) / (k - 1)).collect()
    };
    if let Some(required) = periods.iter().position(|p| *p == required_s) {
        if !picks.contains(&required) {
            let nearest = (0..picks.len())
                .min_by_key(|&i| picks[i].abs_diff(required))
                .unwrap_or(0);
            picks[nearest] = required;
        }
    }
    picks.sort_unstable();
    picks.dedup();
    picks.into_iter().map(|i| periods[i]).collect()
}

/// Runs one round: every rung of `layout` beside the control listener.
pub async fn run(
    net: &NetContext,
    target: &Target,
    hc: &HybridConnection,
    settings: &IdleSettings,
    layout: &Layout,
    round: u8,
    progress: &IdleProgress,
) -> LadderRun {
    let (stop_tx, stop_rx) = watch::channel(false);
    let rungs = futures_util::future::join_all(layout.rungs.iter().map(|(idle_s, entity)| {
        let rung = Rung {
            net,
            target,
            hc,
            entity,
            idle_s: *idle_s,
            round,
        };
        async move {
            let result = rung.probe().await;
            progress.checked(match &result {
                Ok(records) => records.iter().any(|r| r.outcome != Outcome::Survived),
                Err(_) => true,
            });
            (*idle_s, result)
        }
    }));
    let ladder = async {
        let results = rungs.await;
        let _ = stop_tx.send(true);
        results
    };
    // The SDK's keep-alive, or more often: the control must outlive any cut the rungs find.
    let interval = settings
        .activity_interval()
        .min(relay_protocol::hc::SDK_LISTENER_KEEPALIVE);
    let (results, control) = tokio::join!(
        ladder,
        control(net, target, hc, &layout.control, interval, stop_rx)
    );
    let mut run = LadderRun {
        records: Vec::new(),
        control,
        variants: Vec::new(),
        setup_failures: Vec::new(),
        hc_ladder: Some(layout.report(hc)),
    };
    for (idle, result) in results {
        match result {
            Ok(records) => run.records.extend(records),
            Err(e) => run.setup_failures.push((idle, e.to_string())),
        }
    }
    run
}

/// One listener of the ladder.
struct Rung<'a> {
    net: &'a NetContext,
    target: &'a Target,
    hc: &'a HybridConnection,
    entity: &'a EntityPath,
    idle_s: Seconds,
    round: u8,
}

impl Rung<'_> {
    /// Opens the listener, leaves it idle, then sends a sender its way and pings it.
    async fn probe(&self) -> Result<Vec<ProbeRecord>, SetupError> {
        let endpoint = Endpoint::of(self.target);
        let mut listener = Listener::connect(self.net, endpoint, self.hc, self.entity)
            .await
            .map_err(|refusal| SetupError::Listener {
                entity: self.entity.clone(),
                refusal,
            })?;
        let start = Instant::now();
        let idle_until = tokio::time::Instant::from_std(start + self.idle_s.duration());
        let mut records = Vec::with_capacity(2);
        let mut strangers = Strangers::default();
        let busy = |busy: Busy| SetupError::Busy {
            entity: self.entity.clone(),
            busy,
        };
        // Idle: nothing should arrive; an ending that does is the path's verdict.
        loop {
            match listener.next_event(idle_until, None).await {
                Event::Quiet => break,
                // Another probe's sender on a shared entity: turn it away and keep idling.
                Event::Accept(other) => strangers
                    .turn_away(self.net, self.hc, self.target.direct, &other)
                    .await
                    .map_err(busy)?,
                Event::Ended { outcome, .. } => {
                    records.push(self.record(start, Direction::ServerPush, outcome, true, None));
                    return Ok(records);
                }
            }
        }
        let (push, sender) = self.push(&mut listener, &mut strangers).await;
        let still_open = !matches!(push, Delivery::Ended(_));
        let outcome = match push {
            Delivery::Busy(b) => return Err(busy(b)),
            Delivery::Delivered => Outcome::Survived,
            Delivery::Ended(o) => o,
            Delivery::Nothing => Outcome::SilentDrop,
        };
        records.push(self.record(start, Direction::ServerPush, outcome, false, Some(sender)));
        if still_open {
            let answer = answer_deadline(&self.target.kind, self.net.timeout, Duration::ZERO);
            let (outcome, tcp, _) = listener.pong_check(answer).await;
            let mut record = self.record(start, Direction::ClientSend, outcome, false, None);
            record.tcp = tcp.filter(|_| outcome != Outcome::Survived).map(Into::into);
            records.push(record);
        }
        listener.close().await;
        Ok(records)
    }

    /// Connects a sender and watches the idle listener for its accept; takes the accept and
    /// carries one message through, as writeback's listener takes a reset request. A sender
    /// turned away by the control listener (or another probe's) tries again.
    async fn push(
        &self,
        listener: &mut Listener,
        strangers: &mut Strangers,
    ) -> (Delivery, SenderView) {
        let sent_at = Instant::now();
        let deadline = tokio::time::Instant::now() + self.net.timeout;
        let view = |(outcome, status_code): (Outcome, Option<u16>)| SenderView {
            outcome,
            status_code,
            after_s: Seconds::rounded_to_ms(sent_at.elapsed()),
        };
        let mut attempt = 1;
        loop {
            match self.attempt(listener, strangers, deadline).await {
                Attempt::TurnedAway(_) if attempt < SENDER_ATTEMPTS => attempt += 1,
                Attempt::TurnedAway(code) => {
                    return (Delivery::Nothing, view((Outcome::Rejected, Some(code))))
                }
                Attempt::Done(pushed, sender) => return (pushed, view(sender)),
            }
        }
    }

    /// One sender, and the idle listener watched for its accept at the same time: a small
    /// state machine over which of the two answers is still awaited.
    async fn attempt(
        &self,
        listener: &mut Listener,
        strangers: &mut Strangers,
        deadline: tokio::time::Instant,
    ) -> Attempt {
        let id = hc::connection_id("sender");
        let remaining = deadline.saturating_duration_since(tokio::time::Instant::now());
        let sending = sender::connect(
            self.net,
            Endpoint::of(self.target),
            self.hc,
            self.entity,
            &id,
            remaining,
        );
        let watching = self.watch_for(listener, strangers, &id, deadline);
        tokio::pin!(sending, watching);
        let mut state = Awaiting::Both;
        loop {
            state = match state {
                Awaiting::Both => tokio::select! {
                    sent = &mut sending => {
                        if let Err(Refusal::Status { code, description }) = &sent {
                            if turned_away(*code, description.as_deref()) {
                                return Attempt::TurnedAway(*code);
                            }
                        }
                        Awaiting::Push(sent.map(Box::new))
                    }
                    pushed = &mut watching => Awaiting::Sender(pushed),
                },
                Awaiting::Push(sent) => {
                    let pushed = match &sent {
                        Ok(_) => (&mut watching).await,
                        // Once the sender has failed, the accept is not coming: watch only a
                        // moment longer, for an ending that coincides.
                        Err(_) => tokio::time::timeout(PUSH_GRACE, &mut watching)
                            .await
                            .unwrap_or(Pushed::Missed(Delivery::Nothing)),
                    };
                    return self.settle(sent, pushed).await;
                }
                Awaiting::Sender(pushed) => {
                    let sent = (&mut sending).await.map(Box::new);
                    return self.settle(sent, pushed).await;
                }
            };
        }
    }

    /// The attempt's end, once both answers are in: a sender and listener that both got
    /// through carry one message across the rendezvous.
    async fn settle(&self, sent: Result<Box<Ws>, Refusal>, pushed: Pushed) -> Attempt {
        match (sent, pushed) {
            (Ok(mut s), Pushed::Taken(mut t)) => {
                if let Err(crate::outcome::Failure { outcome, detail: why }) =
                    round_trip(&mut s, &mut t, self.net.timeout).await
                {
                    tracing::debug!(%outcome, "the rendezvous after an idle period failed: {why}");
                }
                Attempt::Done(Delivery::Delivered, (Outcome::Accepted, Some(101)))
            }
            (sent, Pushed::Taken(_) | Pushed::Delivered) => {
                Attempt::Done(Delivery::Delivered, sender_outcome(sent.err().as_ref()))
            }
            (sent, Pushed::Missed(missed)) => {
                Attempt::Done(missed, sender_outcome(sent.err().as_ref()))
            }
        }
    }

    /// Watches `listener` until `deadline` for the accept of sender `id`, and takes it. Other
    /// senders (another probe's, on a shared entity) are turned away.
    async fn watch_for(
        &self,
        listener: &mut Listener,
        strangers: &mut Strangers,
        id: &str,
        deadline: tokio::time::Instant,
    ) -> Pushed {
        let net = self.net;
        loop {
            match listener.next_event(deadline, None).await {
                Event::Accept(a) if hc::is_for(&a.id, id) => {
                    // The push arrived; failing to reach the rendezvous is the rendezvous
                    // check's concern, not the idle listener's.
                    return match listener::accept(net, self.hc, self.target.direct, &a).await {
                        Ok(ws) => Pushed::Taken(Box::new(ws)),
                        Err(_) => Pushed::Delivered,
                    };
                }
                Event::Accept(other) => {
                    if let Err(busy) = strangers
                        .turn_away(net, self.hc, self.target.direct, &other)
                        .await
                    {
                        return Pushed::Missed(Delivery::Busy(busy));
                    }
                }
                Event::Ended { outcome, .. } => return Pushed::Missed(Delivery::Ended(outcome)),
                Event::Quiet => return Pushed::Missed(Delivery::Nothing),
            }
        }
    }

    fn record(
        &self,
        start: Instant,
        direction: Direction,
        outcome: Outcome,
        unprompted: bool,
        sender: Option<SenderView>,
    ) -> ProbeRecord {
        ProbeRecord {
            idle_s: self.idle_s,
            direction,
            outcome,
            detected_after_s: Some(Seconds::rounded_to_ms(start.elapsed())),
            unprompted,
            round: self.round,
            entity: Some(self.entity.to_string()),
            sender,
            tcp: None,
        }
    }
}

/// How one sender attempt ended.
enum Attempt {
    /// A probe's listener (the control, or another probe's) turned the sender away with this
    /// status: try again.
    TurnedAway(u16),
    /// What became of the push, and the sender's outcome and status.
    Done(Delivery, (Outcome, Option<u16>)),
}

/// Whether a sender's refusal came from a probe's own listener rather than the service.
fn turned_away(code: u16, description: Option<&str>) -> bool {
    matches!(
        (code, description),
        (CONTROL_STATUS, Some(CONTROL_DESCRIPTION)) | (NOT_OURS_STATUS, Some(NOT_OURS_DESCRIPTION))
    )
}

/// What became of the accept a sender should have caused on an idle listener.
enum Delivery {
    /// The accept arrived.
    Delivered,
    /// The listener's channel ended instead.
    Ended(Outcome),
    /// Nothing arrived in time.
    Nothing,
    /// The relay kept handing the listener senders it did not start.
    Busy(Busy),
}

/// What watching the idle listener for one sender's accept gave.
enum Pushed {
    /// The accept arrived and its rendezvous was reached.
    Taken(Box<Ws>),
    /// The accept arrived; its rendezvous was not reached (the rendezvous check's concern).
    Delivered,
    /// The accept did not arrive.
    Missed(Delivery),
}

/// Where one sender attempt stands: which answer is still awaited.
enum Awaiting {
    /// Neither the sender's handshake nor the listener's accept.
    Both,
    /// The listener's accept; the sender has its answer.
    Push(Result<Box<Ws>, Refusal>),
    /// The sender's answer; the listener has seen what it will.
    Sender(Pushed),
}

/// The sender's outcome word and status: accepted (no refusal), or how it was refused.
fn sender_outcome(refusal: Option<&Refusal>) -> (Outcome, Option<u16>) {
    match refusal {
        None => (Outcome::Accepted, Some(101)),
        Some(Refusal::Status { code: 404, .. }) => (Outcome::NoListener, Some(404)),
        Some(Refusal::Status { code, description }) if matches!(code, 401 | 403) => (
            crate::net::hc::refusal(*code, description.as_deref()).0,
            Some(*code),
        ),
        Some(Refusal::Status { code, .. }) => (Outcome::Rejected, Some(*code)),
        Some(r) => (r.outcome().unwrap_or(Outcome::ProtocolError), None),
    }
}

/// The control listener: a Pong every `interval` keeps it alive; a Ping must still be answered
/// when the ladder is done. It turns away any sender it is handed.
async fn control(
    net: &NetContext,
    target: &Target,
    hc: &HybridConnection,
    entity: &EntityPath,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) -> ControlReport {
    let started = Instant::now();
    let report = |outcome, failed: bool| ControlReport::at(interval, outcome, failed, started);
    let mut listener = match Listener::connect(net, Endpoint::of(target), hc, entity).await {
        Ok(l) => l,
        Err(e) => {
            tracing::warn!(target = %target.url, "idle control listener failed to open: {e}");
            return report(Outcome::HandshakeFailed, true);
        }
    };
    let answer = answer_deadline(&target.kind, net.timeout, Duration::ZERO);
    let mut strangers = Strangers::default();
    let mut busy_said = false;
    loop {
        let until = tokio::time::Instant::now() + interval;
        tokio::select! {
            _ = stop.changed() => break,
            event = listener.next_event(until, Some(interval)) => match event {
                Event::Quiet => {}
                Event::Accept(a) => {
                    // Past the bound, senders are left to the service's own timeout.
                    let turned = strangers.turn_away_with(net, hc, target.direct, &a, CONTROL_STATUS, CONTROL_DESCRIPTION).await;
                    if let (Err(busy), false) = (turned, busy_said) {
                        busy_said = true;
                        tracing::warn!(target = %target.url, "{}", busy.describe(entity.as_str()));
                    }
                }
                Event::Ended { outcome, .. } => return report(outcome, true),
            },
        }
    }
    let (outcome, _, _) = listener.pong_check(answer).await;
    listener.close().await;
    report(outcome, outcome != Outcome::Survived)
}
