//! How a connection ended, read from the error its last read or write returned.
//!
//! Under TLS the difference between a clean close and a middlebox's FIN is visible: a real TLS
//! peer sends `close_notify` before its FIN (rustls then reads a clean end of stream), while a
//! proxy or firewall that is not the TLS peer can only send a bare FIN (rustls reports an
//! unexpected EOF). A RST shows as a connection reset.

use crate::outcome::Outcome;
use std::io;
use tokio_tungstenite::tungstenite;

/// The outcome for an I/O error on an established TLS connection.
pub fn io_outcome(e: &io::Error) -> Outcome {
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => Outcome::Reset,
        // rustls: "peer closed connection without sending TLS close_notify".
        io::ErrorKind::UnexpectedEof => Outcome::Closed,
        io::ErrorKind::TimedOut => Outcome::SilentDrop,
        _ => Outcome::ProtocolError,
    }
}

/// The outcome for a WebSocket error.
pub fn ws_outcome(e: &tungstenite::Error) -> Outcome {
    use tungstenite::error::ProtocolError;
    match e {
        tungstenite::Error::Io(io) => io_outcome(io),
        // The stream ended cleanly (after close_notify) but without a WebSocket close frame.
        tungstenite::Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            Outcome::TlsCloseNotify
        }
        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed => {
            Outcome::TlsCloseNotify
        }
        _ => Outcome::ProtocolError,
    }
}

/// The outcome for a hyper error: the I/O error inside it when there is one.
pub fn hyper_outcome(e: &hyper::Error) -> Outcome {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<io::Error>() {
            return io_outcome(io);
        }
        source = s.source();
    }
    if e.is_incomplete_message() || e.is_closed() || e.is_canceled() {
        // hyper saw a clean end of stream where it needed more: the peer closed after
        // close_notify (rustls reports the bare-FIN case as an I/O error, handled above).
        Outcome::TlsCloseNotify
    } else {
        Outcome::ProtocolError
    }
}
