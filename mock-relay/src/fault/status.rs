//! `status:CODE`: answer every HTTP request (the WebSocket upgrade included) with CODE and a
//! one-line text body, like a proxy's error page or a service in maintenance.

use super::{ArgumentError, Behaviour, FaultKind};
use crate::response::{text, Body};
use futures_util::future::BoxFuture;
use http::{Response, StatusCode};
use std::ops::RangeInclusive;

/// The codes a status fault may answer with.
const CODES: RangeInclusive<u16> = 200..=599;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusFault(pub StatusCode);

pub(super) fn kind() -> FaultKind {
    FaultKind::new(
        "status",
        "CODE",
        format!(
            "answer every request with CODE ({}-{})",
            CODES.start(),
            CODES.end()
        ),
        parse,
    )
}

fn parse(arg: &str) -> Result<StatusFault, ArgumentError> {
    let not_a_code = || ArgumentError::NotAStatusCode(arg.to_string());
    let code: u16 = arg.parse().map_err(|_| not_a_code())?;
    if !CODES.contains(&code) {
        return Err(ArgumentError::StatusOutOfRange {
            code,
            low: *CODES.start(),
            high: *CODES.end(),
        });
    }
    let code = StatusCode::from_u16(code).map_err(|_| not_a_code())?;
    Ok(StatusFault(code))
}

impl Behaviour for StatusFault {
    fn argument(&self) -> String {
        self.0.as_u16().to_string()
    }

    fn before_response(&self) -> Option<BoxFuture<'static, Option<Response<Body>>>> {
        let reason = self.0.canonical_reason().unwrap_or("");
        let answer = text(self.0, format!("{reason} (status fault)\n"));
        Some(Box::pin(std::future::ready(Some(answer))))
    }
}
