//! One message each way between a sender and the listener it was handed to: the proof that a
//! rendezvous carries bytes end to end.

use crate::net::websocket::Ws;
use crate::outcome::{Failure, Outcome};
use futures_util::{SinkExt, StreamExt};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

/// One message from the sender to the listener and one back, within `deadline`.
pub async fn round_trip(
    sender: &mut Ws,
    listener: &mut Ws,
    deadline: Duration,
) -> Result<Duration, Failure> {
    let started = Instant::now();
    let exchange = async {
        carry(
            sender,
            listener,
            b"probe rendezvous: sender to listener",
            "from the sender to the listener",
        )
        .await?;
        carry(
            listener,
            sender,
            b"probe rendezvous: listener to sender",
            "back to the sender",
        )
        .await?;
        let _ = sender.close(None).await;
        Ok(started.elapsed())
    };
    tokio::time::timeout(deadline, exchange)
        .await
        .unwrap_or_else(|_| {
            Err(Failure::new(
                Outcome::Timeout,
                format!(
                    "no message crossed the rendezvous within {} s",
                    deadline.as_secs_f64()
                ),
            ))
        })
}

async fn carry(from: &mut Ws, to: &mut Ws, bytes: &[u8], way: &str) -> Result<(), Failure> {
    let fail = |e: &tokio_tungstenite::tungstenite::Error| {
        Failure::new(
            crate::net::ending::ws_outcome(e),
            format!("the message {way} was lost: {e}"),
        )
    };
    from.send(Message::binary(bytes.to_vec()))
        .await
        .map_err(|e| fail(&e))?;
    loop {
        match to.next().await {
            Some(Ok(Message::Binary(got))) if got.as_ref() == bytes => return Ok(()),
            Some(Ok(Message::Binary(_) | Message::Text(_))) => {
                return Err(Failure::new(
                    Outcome::ProtocolError,
                    format!("the message {way} arrived changed"),
                ))
            }
            Some(Ok(Message::Close(_))) | None => {
                return Err(Failure::new(
                    Outcome::Closed,
                    format!("the rendezvous closed before the message {way} arrived"),
                ))
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(fail(&e)),
        }
    }
}
