//! A request-mode listener: answers every `request` on its control channel with 200 and
//! [`BODY`] (the `response` text frame, then one binary frame), at once or once released.

use crate::hc::HcWs;
use futures_util::{SinkExt, StreamExt};
use relay_protocol::hc::control::ServiceMessage;
use relay_protocol::hc::response::ResponseMessage;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

/// The handler's answer, through the relay and direct alike.
pub const BODY: &[u8] = b"ok\n";

/// When a listener answers.
#[derive(Clone)]
pub enum Answer {
    Now,
    /// Once the value turns true (requests held in flight).
    WhenReleased(watch::Receiver<bool>),
}

/// Serves `ws` until it ends; `received` counts the requests that reached it.
pub async fn respond(ws: HcWs, answer: Answer, received: Arc<AtomicU64>) {
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<[Message; 2]>();
    let writer = tokio::spawn(async move {
        while let Some(pair) = rx.recv().await {
            for message in pair {
                if sink.send(message).await.is_err() {
                    return;
                }
            }
        }
    });
    while let Some(Ok(message)) = stream.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        let Ok(ServiceMessage::Request(request)) = ServiceMessage::parse(text.as_str()) else {
            continue;
        };
        received.fetch_add(1, Ordering::Relaxed);
        let pair = response(request.id.unwrap_or_default());
        match &answer {
            Answer::Now => {
                let _ = tx.send(pair);
            }
            Answer::WhenReleased(release) => {
                let (tx, mut release) = (tx.clone(), release.clone());
                tokio::spawn(async move {
                    if release.wait_for(|go| *go).await.is_ok() {
                        let _ = tx.send(pair);
                    }
                });
            }
        }
    }
    drop(tx);
    writer.abort();
}

/// The `response` frame for request `id` and its body frame.
fn response(id: String) -> [Message; 2] {
    let head = ResponseMessage {
        request_id: id,
        status_code: 200,
        status_description: Some("OK".into()),
        response_headers: [("Content-Type".to_string(), "text/plain".to_string())].into(),
        body: true,
    };
    [
        Message::text(head.to_json()),
        Message::binary(bytes::Bytes::from_static(BODY)),
    ]
}
