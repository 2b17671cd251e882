//! One test connection of the ladder: open it, leave it idle, check it once.

use super::channel::{Channel, Watch};
use super::settings::{answer_deadline, PUSH_GRACE};
use super::setup::SetupError;
use crate::net::connect::SocketOptions;
use crate::net::NetContext;
use crate::outcome::Outcome;
use crate::result::{Direction, ProbeRecord};
use crate::seconds::Seconds;
use crate::target::{Target, TargetKind};
use std::time::{Duration, Instant};

/// How a test connection is held.
#[derive(Debug, Clone, Default)]
pub struct Hold {
    pub idle_s: Seconds,
    pub socket: SocketOptions,
    /// Application heartbeats at this interval (the heartbeat variant).
    pub heartbeat: Option<Duration>,
    pub round: u8,
}

/// Opens one connection, leaves it idle for `hold.idle_s`, then checks it: the relay's push
/// first (relay targets), then a client-side send. Records one entry per direction checked.
pub async fn probe(
    ctx: &NetContext,
    target: &Target,
    hold: &Hold,
) -> Result<Vec<ProbeRecord>, SetupError> {
    let relay = target.kind == TargetKind::Relay;
    let mut channel =
        Channel::open(ctx, target, &hold.socket, relay.then_some(hold.idle_s)).await?;
    let start = Instant::now();
    let idle = hold.idle_s.duration();
    let answer = answer_deadline(&target.kind, ctx.timeout, channel.baseline());
    let record = |direction, outcome, unprompted| ProbeRecord {
        idle_s: hold.idle_s,
        direction,
        outcome,
        detected_after_s: Some(Seconds::rounded_to_ms(start.elapsed())),
        unprompted,
        round: hold.round,
        entity: None,
        sender: None,
        tcp: None,
    };
    let mut records = Vec::with_capacity(2);
    let still_open = if relay {
        match channel
            .watch(start + idle + PUSH_GRACE, hold.heartbeat)
            .await
        {
            Watch::Push => {
                records.push(record(Direction::ServerPush, Outcome::Survived, false));
                true
            }
            Watch::Ended(o) => {
                records.push(record(Direction::ServerPush, o, true));
                false
            }
            Watch::Quiet => {
                records.push(record(Direction::ServerPush, Outcome::SilentDrop, false));
                true
            }
        }
    } else {
        match channel.watch(start + idle, hold.heartbeat).await {
            Watch::Ended(o) => {
                records.push(record(Direction::ClientSend, o, true));
                false
            }
            Watch::Push | Watch::Quiet => true,
        }
    };
    if still_open {
        let (outcome, tcp) = channel.exchange_judged(answer).await;
        records.push(ProbeRecord {
            tcp: tcp.map(Into::into),
            ..record(Direction::ClientSend, outcome, false)
        });
    }
    channel.close().await;
    Ok(records)
}
