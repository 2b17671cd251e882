//! `handshake-delay:S`: wait S seconds after accepting TCP before answering the TLS handshake
//! (on a plain listener, before the first answer), like an overloaded server or a stalling
//! inspection device. The handshake deadline counts from the end of the wait.

use super::{seconds, Behaviour, FaultKind};
use crate::secs::parse_seconds;
use futures_util::future::BoxFuture;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HandshakeDelay(pub Duration);

pub(super) fn kind() -> FaultKind {
    FaultKind::new(
        "handshake-delay",
        "SECS",
        "delay the TLS handshake by SECS",
        |arg| Ok(HandshakeDelay(parse_seconds(arg)?)),
    )
}

impl Behaviour for HandshakeDelay {
    fn argument(&self) -> String {
        seconds(self.0)
    }

    fn before_handshake(&self) -> Option<BoxFuture<'static, ()>> {
        Some(Box::pin(tokio::time::sleep(self.0)))
    }
}
