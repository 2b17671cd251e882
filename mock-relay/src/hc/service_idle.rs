//! The service's own idle limit on listeners (`--service-idle-limit`): Azure's load balancers
//! forget a flow idle for about four minutes, silently, and the relay then loses the listener
//! with no event at the listener (azure-relay issue 33: listeners lost at about 4 min 10-15 s
//! without keep-alive). Modelled that way: once nothing has crossed a control channel for the
//! limit, the listener is unregistered (senders find no listener) and the connection goes
//! silent, neither read nor written, for a bounded time before it is dropped. Anything the
//! listener sends counts as activity (the .NET SDK's unsolicited Pong every 210 s keeps it), as
//! does each accept sent down to it. Off by default, so a rehearsal of a customer's firewall is
//! not capped by it.

use crate::hc_state::Session;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Longest a forgotten connection is held silent before it is dropped.
const SILENT_HOLD_LIMIT: Duration = Duration::from_secs(600);

/// A control channel's idle clock against the limit.
pub(crate) struct ServiceIdle {
    limit: Option<Duration>,
    last: Instant,
}

impl ServiceIdle {
    pub(crate) fn new(limit: Option<Duration>) -> ServiceIdle {
        ServiceIdle {
            limit,
            last: Instant::now(),
        }
    }

    /// Something crossed the channel.
    pub(crate) fn touch(&mut self) {
        self.last = Instant::now();
    }

    /// Resolves once the channel has been idle for the limit; never without one.
    pub(crate) async fn expired(&self) {
        match self.limit {
            Some(limit) => tokio::time::sleep_until(self.last + limit).await,
            None => std::future::pending().await,
        }
    }

    /// Forgets the listener: unregistered now, its connection held silent (neither read nor
    /// written) for as long again as the limit (bounded), or until the server shuts down.
    pub(crate) async fn forget<W>(
        &self,
        ws: W,
        session: Session,
        shutdown: &CancellationToken,
    ) -> String {
        let limit = self.limit.unwrap_or_default();
        drop(session);
        let hold = limit.min(SILENT_HOLD_LIMIT);
        tokio::select! {
            _ = tokio::time::sleep(hold) => {}
            _ = shutdown.cancelled() => {}
        }
        drop(ws);
        format!(
            "listener forgotten after {} s idle (service idle limit)",
            seconds(limit)
        )
    }
}

/// Seconds as the address line and the header write them: `240`, `2.5`.
pub(crate) fn seconds(d: Duration) -> String {
    d.as_secs_f64().to_string()
}
