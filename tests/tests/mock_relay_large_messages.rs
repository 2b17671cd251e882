//! The relay reads WebSocket messages through a small read buffer (an idle channel keeps it
//! resident): a message near the 64 KiB limit must still arrive whole, and the channel must
//! stay usable after it.

use e2e::relay::Relay;
use e2e::tls_client::{next_message, send, tls_channel, STEP};
use relay_protocol::channel::{ClientMessage, ServerMessage, MAX_MESSAGE_BYTES};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_near_the_limit_is_read_whole_and_the_channel_stays_usable() {
    let relay = Relay::serve(&[]).await;
    let mut ws = tls_channel(relay.tls(), &relay.ca_pem(), "large").await;
    // An echo whose id fills most of the limit: the relay reads it whole and refuses the id.
    let id = "i".repeat(MAX_MESSAGE_BYTES - 100);
    send(&mut ws, &ClientMessage::Echo { id: id.clone() }).await;
    match next_message(&mut ws, STEP).await {
        Ok(Some(ServerMessage::Error { message })) => assert!(
            message.contains(&format!("id is {} bytes long", id.len())),
            "{message}"
        ),
        other => panic!("expected an error naming the id's length, got {other:?}"),
    }
    send(&mut ws, &ClientMessage::Echo { id: "after".into() }).await;
    match next_message(&mut ws, STEP).await {
        Ok(Some(ServerMessage::Echo { id, .. })) => assert_eq!(id, "after"),
        other => panic!("expected the echo, got {other:?}"),
    }
}
