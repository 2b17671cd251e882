//! Senders a probe's listener did not start (another probe's, or an application's on a shared
//! entity) are turned away, with bounds: one rejection at a time per listener, a few at once
//! across the probe, and a bounded count per listener. Past the count the entity is busy with
//! other senders and the listener stops waiting; without the bound, a relay that hands over a
//! burst of foreign accepts made the probe open a connection for each until its deadline.

use super::listener;
use crate::net::NetContext;
use crate::target::HybridConnection;
use relay_protocol::hc::control::AcceptMessage;
use tokio::sync::Semaphore;

/// The status the probe's listener turns away a sender it did not start with.
pub const NOT_OURS_STATUS: u16 = 409;
pub const NOT_OURS_DESCRIPTION: &str = "this listener is a probe and takes only its own senders";

/// Senders one listener turns away before it calls the entity busy.
pub const MAX_PER_LISTENER: u32 = 16;
/// Rejections under way at once across the probe.
const AT_ONCE: usize = 4;

static SLOTS: Semaphore = Semaphore::const_new(AT_ONCE);

/// The entity kept handing this listener senders it did not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy {
    pub turned_away: u32,
}

impl Busy {
    /// What the check says of it.
    pub fn describe(&self, entity: &str) -> String {
        format!(
            "the entity {entity} is busy with other senders: the relay handed this probe's listener {} senders it did not start (another probe or an application is sending to it); give the probe a hybrid connection of its own",
            self.turned_away
        )
    }
}

/// One listener's count of senders turned away.
#[derive(Debug, Default)]
pub struct Strangers {
    turned_away: u32,
}

impl Strangers {
    /// Turns `accept` away with `status`/`description` (409, "this listener is a probe..." by
    /// default); `Err` once this listener has turned away its bound (the sender is then left
    /// to the service's own timeout).
    pub async fn turn_away_with(
        &mut self,
        net: &NetContext,
        hc: &HybridConnection,
        direct: bool,
        accept: &AcceptMessage,
        status: u16,
        description: &str,
    ) -> Result<(), Busy> {
        if self.turned_away >= MAX_PER_LISTENER {
            return Err(Busy {
                turned_away: self.turned_away,
            });
        }
        self.turned_away += 1;
        let _slot = SLOTS.acquire().await;
        if let Err(e) = listener::reject(net, hc, direct, accept, status, description).await {
            tracing::warn!(id = %accept.id, "rejecting another sender failed: {e}");
        }
        Ok(())
    }

    /// [`Strangers::turn_away_with`] the probe's own "not ours" answer.
    pub async fn turn_away(
        &mut self,
        net: &NetContext,
        hc: &HybridConnection,
        direct: bool,
        accept: &AcceptMessage,
    ) -> Result<(), Busy> {
        self.turn_away_with(
            net,
            hc,
            direct,
            accept,
            NOT_OURS_STATUS,
            NOT_OURS_DESCRIPTION,
        )
        .await
    }
}
