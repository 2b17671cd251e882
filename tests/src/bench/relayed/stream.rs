//! 1 MiB binary messages one way over a WebSocket, as fast as the path takes them: the sender
//! keeps a window of messages unacknowledged, the receiver acknowledges each with a small
//! binary message. Throughput counts acknowledged messages only.

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// The size of every message.
pub const MESSAGE_BYTES: usize = 1 << 20;
/// Messages in flight at once.
const WINDOW: usize = 4;
/// How long one message may take to leave, and the last acknowledgements after the sending
/// stops.
const DRAIN: Duration = Duration::from_secs(10);

/// What a stream run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StreamOutcome {
    pub message_bytes: usize,
    /// Messages acknowledged by the receiver.
    pub messages: u64,
    /// Messages sent (all acknowledged when the path lost none).
    pub sent: u64,
    pub seconds: f64,
    /// Acknowledged megabytes (10^6 bytes) per second.
    pub mb_per_s: f64,
}

/// Acknowledges every binary message until the stream ends; the count acknowledged.
pub async fn ack_each<S: AsyncRead + AsyncWrite + Unpin>(mut ws: WebSocketStream<S>) -> u64 {
    let mut acked = 0;
    while let Some(Ok(message)) = ws.next().await {
        if let Message::Binary(_) = message {
            if ws
                .send(Message::binary(Bytes::from_static(b"ack")))
                .await
                .is_err()
            {
                break;
            }
            acked += 1;
        }
    }
    acked
}

/// Sends messages for `duration`, then waits (bounded) for the outstanding acknowledgements and
/// closes.
pub async fn push<S>(ws: WebSocketStream<S>, duration: Duration) -> StreamOutcome
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut stream) = ws.split();
    let window = Arc::new(Semaphore::new(WINDOW));
    let acked = Arc::new(AtomicU64::new(0));
    let payload = Bytes::from(vec![0x5a; MESSAGE_BYTES]);
    let start = Instant::now();
    let deadline = start + duration;
    let receiver = {
        let (window, acked) = (window.clone(), acked.clone());
        tokio::spawn(async move {
            let mut last = Instant::now();
            while let Some(Ok(message)) = stream.next().await {
                if let Message::Binary(_) = message {
                    acked.fetch_add(1, Ordering::Relaxed);
                    last = Instant::now();
                    window.add_permits(1);
                }
            }
            last
        })
    };
    let mut sent = 0;
    while Instant::now() < deadline {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, window.acquire()).await {
            Ok(Ok(permit)) => permit.forget(),
            _ => break,
        }
        let send = sink.send(Message::binary(payload.clone()));
        if !matches!(tokio::time::timeout(DRAIN, send).await, Ok(Ok(()))) {
            break;
        }
        sent += 1;
    }
    let drained = Instant::now() + DRAIN;
    while acked.load(Ordering::Relaxed) < sent && Instant::now() < drained {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let _ = tokio::time::timeout(DRAIN, sink.close()).await;
    let last = match tokio::time::timeout(DRAIN, receiver).await {
        Ok(Ok(last)) => last,
        _ => Instant::now(),
    };
    let messages = acked.load(Ordering::Relaxed);
    let seconds = last
        .saturating_duration_since(start)
        .as_secs_f64()
        .max(1e-9);
    StreamOutcome {
        message_bytes: MESSAGE_BYTES,
        messages,
        sent,
        seconds,
        mb_per_s: (messages as f64 * MESSAGE_BYTES as f64) / seconds / 1e6,
    }
}
