//! Evidence before a verdict: a timeout alone is not a silent drop. When an answer is late, the
//! kernel tells whether the question is still in flight (sent, not yet acknowledged, perhaps
//! being retransmitted on a lossy path) or was delivered; either way the answer may still come,
//! so the wait goes on, within a bound, before the connection is called silent.

use crate::net::tcp_info::{Handle, TcpEvidence};
use crate::outcome::Outcome;
use std::future::Future;
use std::time::Duration;

/// How long the wait for an answer goes on past its deadline while the question is still
/// unacknowledged: a few retransmission timeouts (200 ms and more, doubling each time), so one
/// lost segment after an idle period is not taken for a dead path.
pub const IN_FLIGHT: Duration = Duration::from_secs(3);
/// How long it goes on once the question was acknowledged: about one retransmission of a lost
/// answer by the far end.
pub const DELIVERED: Duration = Duration::from_secs(1);
/// How often the kernel is asked during the extension.
const POLL: Duration = Duration::from_millis(100);

/// Waits for `exchange` until `deadline`; past it, keeps waiting while the kernel knows the
/// connection: up to [`IN_FLIGHT`] while the question is unacknowledged, [`DELIVERED`] once it
/// was acknowledged (an answer delayed by loss then still counts). The outcome is the
/// exchange's, or `SilentDrop` with the kernel's last word on the connection, if it had one.
pub async fn answered(
    exchange: impl Future<Output = Outcome>,
    deadline: Duration,
    tcp: Option<Handle>,
) -> (Outcome, Option<TcpEvidence>) {
    tokio::pin!(exchange);
    if let Ok(outcome) = tokio::time::timeout(deadline, &mut exchange).await {
        return (outcome, None);
    }
    let Some(tcp) = tcp else {
        return (Outcome::SilentDrop, None);
    };
    let Some(mut last) = tcp.evidence() else {
        return (Outcome::SilentDrop, None);
    };
    let start = tokio::time::Instant::now();
    loop {
        let limit = if last.delivered() {
            DELIVERED
        } else {
            IN_FLIGHT
        };
        if start.elapsed() >= limit {
            return (Outcome::SilentDrop, Some(last));
        }
        tokio::select! {
            outcome = &mut exchange => return (outcome, None),
            _ = tokio::time::sleep(POLL) => {}
        }
        last = tcp.evidence().unwrap_or(last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn without_kernel_evidence_the_deadline_decides() {
        let late = async {
            tokio::time::sleep(Duration::from_millis(400)).await;
            Outcome::Survived
        };
        let (outcome, evidence) = answered(late, Duration::from_millis(100), None).await;
        assert_eq!((outcome, evidence), (Outcome::SilentDrop, None));
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_late_answer_on_a_live_connection_still_counts() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut client = tokio::net::TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (mut server, _) = listener.accept().await.unwrap();
        let tcp = Handle::of(&client);
        tokio::spawn(async move {
            let mut buf = [0u8; 4];
            server.read_exact(&mut buf).await.unwrap();
            tokio::time::sleep(Duration::from_millis(500)).await;
            server.write_all(b"pong").await.unwrap();
        });
        let exchange = async {
            client.write_all(b"ping").await.unwrap();
            let mut buf = [0u8; 4];
            client.read_exact(&mut buf).await.unwrap();
            Outcome::Survived
        };
        let (outcome, _) = answered(exchange, Duration::from_millis(100), tcp).await;
        assert_eq!(outcome, Outcome::Survived);
    }
}
