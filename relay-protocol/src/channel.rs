//! The project's own listener channel between the probe and the mock-relay (not an Azure
//! protocol), and the relay's plain HTTP side paths.
//!
//! The listener channel is a WebSocket at `/$hc/<path>` (the real Azure Relay's path shape for
//! Hybrid Connections). Every message is one JSON text frame with an `op` tag.
//!
//! ```text
//! client -> relay  {"op":"hold","id":"p30","push_after_s":30}
//! relay  -> client {"op":"held","id":"p30","push_after_s":30.0,"server_time":"2026-11-23T10:00:00Z"}
//!        ... the relay sends nothing at all for 30 s ...
//! relay  -> client {"op":"push","id":"p30","idle_s":30.0,"server_time":"2026-11-23T10:00:30Z"}
//! client -> relay  {"op":"echo","id":"e1"}
//! relay  -> client {"op":"echo","id":"e1","server_time":"2026-11-23T10:00:31Z"}
//! ```
//!
//! The relay never sends anything unasked on a held connection except the one push: any byte
//! would refresh the very idle timers being measured.

use serde::{Deserialize, Serialize};

/// Path prefix of the WebSocket listener channel (`/$hc/<path>`). Hybrid Connections use the same
/// prefix; their requests carry `sb-hc-action` ([`crate::hc::has_hc_action`]), this channel's do not.
pub const LISTENER_PATH_PREFIX: &str = "/$hc/";
/// Liveness endpoint: `200 OK` with a short text body.
pub const HEALTHZ_PATH: &str = "/healthz";
/// Reflects the request as the relay saw it, as [`EchoReport`] JSON.
pub const ECHO_PATH: &str = "/echo";
/// Server counters, as [`Stats`] JSON.
pub const STATS_PATH: &str = "/stats";
/// Largest WebSocket message either side accepts, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Longest `id` a hold or echo may carry, in bytes; a relay refuses longer ones with an
/// [`ServerMessage::Error`] (every id of a pending hold stays in the relay's memory).
pub const MAX_ID_BYTES: usize = 256;

/// A message from the client (the probe, standing in for the on-premises agent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// Ask the relay to stay silent, then push once after `push_after_s` seconds.
    Hold { id: String, push_after_s: f64 },
    /// Ask for an immediate [`ServerMessage::Echo`]; tests the client-send direction.
    Echo { id: String },
}

/// A message from the relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ServerMessage {
    /// Sent at once in answer to a hold.
    Held {
        id: String,
        push_after_s: f64,
        server_time: String,
    },
    /// Sent once, `idle_s` seconds after the hold was answered, with nothing sent in between.
    Push {
        id: String,
        idle_s: f64,
        server_time: String,
    },
    /// Answer to an echo.
    Echo { id: String, server_time: String },
    /// The client sent something the relay could not understand.
    Error { message: String },
}

impl ClientMessage {
    /// The message as one JSON text frame.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("protocol messages always serialise")
    }
}

impl ServerMessage {
    /// The message as one JSON text frame.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("protocol messages always serialise")
    }
}

/// `GET /echo`: the request as the relay received it (shows header-rewriting proxies).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EchoReport {
    pub method: String,
    pub path: String,
    /// Header names in lower case, values as received (non-UTF-8 bytes replaced).
    pub headers: Vec<(String, String)>,
    pub peer_addr: String,
    pub server_time: String,
}

/// `GET /stats`: counters of the serving process. Fields are only ever added (each new one
/// defaults to 0 when read from an older relay).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub open_connections: u64,
    pub total_connections: u64,
    pub held_connections: u64,
    pub pushes_sent: u64,
    /// Hybrid Connections listener control channels open now.
    #[serde(default)]
    pub hc_listeners: u64,
    /// Senders waiting now for a listener to accept or reject them.
    #[serde(default)]
    pub hc_senders_waiting: u64,
    /// Rendezvous (sender and listener joined) open now.
    #[serde(default)]
    pub hc_rendezvous_open: u64,
    /// `accept` messages sent down control channels so far.
    #[serde(default)]
    pub hc_accepts_sent: u64,
    /// Senders a listener rejected so far.
    #[serde(default)]
    pub hc_rejected: u64,
    /// Rendezvous opened so far.
    #[serde(default)]
    pub hc_rendezvous_total: u64,
}

/// RFC 3339 UTC timestamp of now, as used in `server_time`.
pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_use_the_documented_shape() {
        let hold: ClientMessage =
            serde_json::from_str(r#"{"op":"hold","id":"p30","push_after_s":30}"#).unwrap();
        assert_eq!(
            hold,
            ClientMessage::Hold {
                id: "p30".into(),
                push_after_s: 30.0
            }
        );
        assert_eq!(
            ClientMessage::Echo { id: "e1".into() }.to_json(),
            r#"{"op":"echo","id":"e1"}"#
        );
        assert!(serde_json::from_str::<ClientMessage>(r#"{"op":"shout","id":"x"}"#).is_err());
    }

    #[test]
    fn stats_from_an_older_relay_still_parse() {
        let old =
            r#"{"open_connections":1,"total_connections":2,"held_connections":0,"pushes_sent":3}"#;
        let stats: Stats = serde_json::from_str(old).unwrap();
        assert_eq!((stats.pushes_sent, stats.hc_listeners), (3, 0));
    }

    #[test]
    fn server_push_round_trips() {
        let push = ServerMessage::Push {
            id: "p30".into(),
            idle_s: 30.0,
            server_time: "2026-11-23T10:00:30Z".into(),
        };
        let json = push.to_json();
        assert!(json.starts_with(r#"{"op":"push","id":"p30","idle_s":30.0"#));
        assert_eq!(serde_json::from_str::<ServerMessage>(&json).unwrap(), push);
    }
}
