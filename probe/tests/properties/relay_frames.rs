//! The relay channel's frames as the idle check reads them: only a push ends a watch as a push,
//! and no frame (whatever its fields) ends it otherwise.

use crate::{check, ensure};
use probe::check::idle::channel::{ws_event, Watch};
use proptest::prelude::*;
use relay_protocol::channel::ServerMessage;
use tokio_tungstenite::tungstenite::Message;

/// Frames a relay (or something posing as one) may send: JSON objects with the channel's
/// `op` words and fields of any type, and any text.
fn frame() -> impl Strategy<Value = String> {
    let op = prop_oneof![
        Just("push"),
        Just("held"),
        Just("echo"),
        Just("error"),
        Just("PUSH"),
        Just(""),
    ];
    let field = prop_oneof![
        Just("1".to_string()),
        Just("1e309".to_string()),
        Just("-5".to_string()),
        Just("\"x\"".to_string()),
        Just("null".to_string()),
        Just("[]".to_string()),
    ];
    prop_oneof![
        (op, field.clone(), field).prop_map(|(op, a, b)| format!(
            "{{\"op\":\"{op}\",\"id\":{a},\"idle_s\":{b},\"server_time\":{a}}}"
        )),
        "\\PC{0,80}",
    ]
}

#[test]
fn relay_frames_end_a_watch_only_as_a_push() {
    check("relay channel frames", frame, |text: String| {
        let is_push = matches!(
            serde_json::from_str::<ServerMessage>(&text),
            Ok(ServerMessage::Push { .. })
        );
        let event = ws_event(Some(Ok(Message::text(text.clone()))));
        ensure(
            (event == Some(Watch::Push)) == is_push && (is_push || event.is_none()),
            || format!("{text}: {event:?}"),
        )
    });
}
