//! Why an idle test connection could not be set up: the rung then has no outcome, and the
//! check's message says what kept it from starting.

use crate::net::hc::strangers::Busy;
use crate::net::body::limit_words;
use crate::net::hc::Refusal;
use crate::net::path::PathError;
use crate::net::websocket::UpgradeError;
use crate::outcome::Outcome;
use relay_protocol::hc::EntityPath;
use tokio_tungstenite::tungstenite;

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("{0}")]
    Open(PathError),
    #[error("the WebSocket upgrade timed out")]
    UpgradeTimeout,
    #[error("the WebSocket upgrade failed: {0}")]
    Upgrade(UpgradeError),
    #[error("the relay did not confirm the hold")]
    HoldTimeout,
    #[error("sending the hold failed: {0}")]
    SendHold(tungstenite::Error),
    #[error("the relay refused the hold: {0}")]
    HoldRefused(String),
    #[error("the relay closed the channel: {0}")]
    ChannelFailed(tungstenite::Error),
    #[error("the relay closed the channel")]
    ChannelClosed,
    #[error("HTTP/1.1 setup failed: {0}")]
    Http(hyper::Error),
    /// `limit`: the bytes of an answer read at most.
    #[error("the first answer's body went past {} ({outcome}): a connection whose answers do not end cannot be kept alive", limit_words(*.limit))]
    EndlessFirstAnswer { outcome: Outcome, limit: u64 },
    #[error("the first request failed ({0})")]
    FirstRequest(Outcome),
    #[error("idle checks need an application protocol over TLS")]
    NoApplicationProtocol,
    #[error("a hybrid connection's idle listeners are its own ladder's")]
    HybridConnection,
    #[error("the listener on {entity} did not open: {refusal}")]
    Listener {
        entity: EntityPath,
        refusal: Refusal,
    },
    #[error("{}", .busy.describe(.entity.as_str()))]
    Busy { entity: EntityPath, busy: Busy },
}
