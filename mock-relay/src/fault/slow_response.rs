//! `slow-response:S`: hold every HTTP response, the WebSocket upgrade included, for S seconds,
//! like a slow backend or an inspecting proxy that buffers.

use super::{seconds, Behaviour, FaultKind};
use crate::response::Body;
use crate::secs::parse_seconds;
use futures_util::future::BoxFuture;
use http::Response;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlowResponse(pub Duration);

pub(super) fn kind() -> FaultKind {
    FaultKind::new(
        "slow-response",
        "SECS",
        "delay every HTTP response by SECS",
        |arg| Ok(SlowResponse(parse_seconds(arg)?)),
    )
}

impl Behaviour for SlowResponse {
    fn argument(&self) -> String {
        seconds(self.0)
    }

    fn before_response(&self) -> Option<BoxFuture<'static, Option<Response<Body>>>> {
        let wait = tokio::time::sleep(self.0);
        Some(Box::pin(async move {
            wait.await;
            None
        }))
    }
}
