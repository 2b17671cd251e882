//! The listener -> service direction, checked with nothing but what Microsoft's SDK itself sends
//! on a control channel: an unsolicited WebSocket Pong (its keep-alive). The service answers
//! nothing to it, so the evidence is the kernel's: the Pong's bytes acknowledged by the TCP peer
//! (`TCP_INFO`), or the connection reset or closed. No WebSocket Ping: a listener that sent
//! them was reported disconnected by the service (azure-relay-dotnet issue 103).
//!
//! What it cannot prove: the acknowledgement comes from whatever terminates TCP on the way. An
//! explicit proxy (or a TLS-inspecting device) acknowledges locally, so through one it shows
//! only that the proxy is still there; and on a platform without `TCP_INFO` only an ending
//! within the deadline shows anything.

use crate::net::tcp_info::{Handle, TcpEvidence};
use crate::outcome::Outcome;
use std::time::Duration;

/// How often the kernel is asked while the Pong is unacknowledged.
const POLL: Duration = Duration::from_millis(50);

/// How long an acknowledged Pong's connection is still watched: a reset that follows the
/// acknowledgement (a device that lets the segment through, then resets the flow) reaches the
/// kernel within about a round trip.
const SETTLE: Duration = Duration::from_millis(300);

/// What the kernel said of a Pong just sent: acknowledged (and the connection still
/// established a moment later), not within `deadline` (with its last word), or the connection
/// no longer established (`Reset`: the WebSocket's own ending, raced against this, says more
/// when it comes first). `None` without kernel evidence.
pub async fn acknowledged(
    tcp: Option<Handle>,
    deadline: Duration,
) -> Option<(Outcome, TcpEvidence)> {
    let tcp = tcp?;
    let mut last = tcp.evidence()?;
    let until = tokio::time::Instant::now() + deadline;
    let mut delivered_at: Option<tokio::time::Instant> = None;
    loop {
        if tcp.established() == Some(false) {
            // Let the channel's ending (a read error) win the race if it is on its way.
            tokio::time::sleep(POLL).await;
            return Some((Outcome::Reset, last));
        }
        let now = tokio::time::Instant::now();
        if last.delivered() {
            let since = *delivered_at.get_or_insert(now);
            if now - since >= SETTLE {
                return Some((Outcome::Survived, last));
            }
        } else if now >= until {
            return Some((Outcome::SilentDrop, last));
        }
        tokio::time::sleep(POLL).await;
        last = tcp.evidence().unwrap_or(last);
    }
}

/// How the check was judged, for messages: by the kernel's acknowledgement, or only by the
/// absence of an ending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    Acknowledged,
    NoEnding,
}
