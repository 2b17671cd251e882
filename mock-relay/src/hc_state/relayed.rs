//! What goes down a listener's control channel ([`ControlItem`]) and what the service holds for
//! a relayed HTTP request until its listener answers ([`PendingRequest`], [`Answer`]).
//!
//! A request is answered once: on the control channel it came down, or on the rendezvous a
//! listener opens at the request's address (protocol guide, "Responding via rendezvous");
//! whichever answer comes first is the one the sender gets.

use bytes::Bytes;
use hyper::body::Incoming;
use relay_protocol::hc::control::ControlError;
use relay_protocol::hc::{AcceptMessage, RequestMessage, ResponseMessage};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::time::Instant;

/// One message for a listener's control channel.
pub(crate) enum ControlItem {
    /// A sender waiting to be accepted or rejected.
    Accept(AcceptMessage),
    /// A relayed HTTP request.
    Request(ControlRequest),
}

/// A request sent down a control channel: the `request` message, then its body inline as one
/// binary message when it has one (at most 64 kB); a larger request is only its address.
pub(crate) struct ControlRequest {
    pub message: RequestMessage,
    pub body: Option<Bytes>,
    pub answer: Answer,
}

/// A listener's answer: its `response` and the body that follows it (whole from the control
/// channel, streamed from a rendezvous), or why it was not valid.
pub(crate) type ListenerAnswer = Result<(ResponseMessage, crate::response::Body), AnswerError>;

/// Why a listener's answer did not reach its sender: a status the service keeps for itself, a
/// `response` that does not read, or a rendezvous that failed before or while it answered.
/// The sender's 502 and the rendezvous' `closed` line say it in these words.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AnswerError {
    /// "All status codes ... are permitted, except for 502 "Bad Gateway" and 504 "Gateway
    /// Timeout"" (protocol guide, "Responding to requests").
    #[error("the listener answered {0}, a status reserved to the service")]
    ReservedStatus(u16),
    #[error(transparent)]
    BadResponse(#[from] ControlError),
    #[error("a response message over {0} bytes")]
    ResponseTooLarge(usize),
    #[error("server shutting down")]
    ShuttingDown,
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    #[error("send blocked for {} s", .0.as_secs())]
    SendBlocked(Duration),
    #[error("no response in time")]
    NoResponse,
    #[error("the listener went away")]
    ListenerGone,
    /// A frame the relay refuses (the reason `frames` gives).
    #[error("{0}")]
    BadFrame(String),
    #[error("the listener closed the rendezvous before it answered")]
    ClosedBeforeAnswer,
    #[error("the sender's body stalled")]
    SenderBodyStalled,
    #[error("the sender's body failed: {0}")]
    SenderBodyFailed(#[source] hyper::Error),
    #[error("a text message where the response body was due")]
    TextInBody,
    #[error("the sender went away")]
    SenderGone,
}

/// Where a request's answer goes. Cloned into the control channel and the pending request;
/// the first answer given is kept, later ones are dropped.
#[derive(Clone)]
pub(crate) struct Answer(Arc<Mutex<Option<oneshot::Sender<ListenerAnswer>>>>);

impl Answer {
    pub(crate) fn new() -> (Answer, oneshot::Receiver<ListenerAnswer>) {
        let (tx, rx) = oneshot::channel();
        (Answer(Arc::new(Mutex::new(Some(tx)))), rx)
    }

    /// Gives the answer; false when one was given already or the sender is gone.
    pub(crate) fn give(&self, answer: ListenerAnswer) -> bool {
        let taken = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        taken.is_some_and(|tx| tx.send(answer).is_ok())
    }

    /// Whether the sender still waits for an answer.
    pub(crate) fn is_open(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
            .is_some_and(|tx| !tx.is_closed())
    }
}

/// A relayed request, under its id, for the rendezvous a listener may open at its address.
pub(crate) struct PendingRequest {
    /// The entity and the sender's suffix, lower case: the address must name them.
    pub path_key: String,
    pub created: Instant,
    /// The whole `request` message (the control channel may have carried only the address).
    pub message: RequestMessage,
    /// The body still to be streamed on the rendezvous; `None` when it went inline (or there
    /// is none) or a rendezvous already took it.
    pub body: Option<Incoming>,
    pub answer: Answer,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_answer_wins() {
        let (answer, rx) = Answer::new();
        let other = answer.clone();
        assert!(answer.is_open());
        let first = ResponseMessage {
            request_id: "1".into(),
            status_code: 200,
            ..ResponseMessage::default()
        };
        assert!(answer.give(Ok((first.clone(), crate::response::empty()))));
        assert!(!other.give(Err(AnswerError::ListenerGone)));
        assert_eq!(rx.await.unwrap().unwrap().0, first);
        assert!(!other.is_open());
    }
}
