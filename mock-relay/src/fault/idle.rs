//! Idle faults (`idle-reset:S`, `idle-drop:S`, `idle-fin:S`, `idle-close-notify:S`) and the
//! idle actions they carry out, which are also the middlebox's `--on-idle` actions.
//!
//! An action strikes the TCP socket (under TLS on the relay, each of the two sockets in the
//! middlebox) and says what its owner does next ([`Aftermath`]). On the wire:
//!
//! - reset: `SO_LINGER` 0, then the socket is closed at once: the kernel sends RST;
//! - drop: nothing is sent, ever: input is discarded and output swallowed, the socket is held
//!   until the owner's hold limit (the relay's `--max-idle`): the peer sees silence;
//! - fin: `shutdown(SHUT_WR)` on the TCP socket, bypassing TLS, so no `close_notify`: the peer
//!   reads end of stream; input is drained for [`DRAIN_LIMIT`], then the socket is closed;
//! - close-notify: a clean TLS shutdown (`close_notify`, then FIN), then the same drain. Only the
//!   TLS peer can send `close_notify`, so the middlebox cannot carry this one out.
//!
//! On the relay, the idle guard (`src/idle.rs`) measures idleness and calls [`IdleAction::strike`].

use super::{seconds, Behaviour, FaultKind};
use crate::secs::parse_seconds;
use socket2::SockRef;
use std::fmt;
use std::net::Shutdown;
use std::str::FromStr;
use std::time::Duration;
use tokio::net::TcpStream;

/// The family of the idle faults, and the first part of their names (`idle-reset`, ...).
const FAMILY: &str = "idle";

/// How long a socket closed by an idle action keeps reading (and discarding) before it is
/// dropped.
pub(crate) const DRAIN_LIMIT: Duration = Duration::from_secs(5);

/// What is done to a connection once nothing has crossed it for its time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdleAction {
    /// Zero-linger close: the peer sees a TCP RST.
    Reset,
    /// Stop answering: keep the socket, discard input, send nothing (a silent middlebox drop).
    Drop,
    /// TCP FIN without a TLS `close_notify` (what a proxy's close looks like).
    Fin,
    /// A clean TLS close: `close_notify`, then FIN.
    CloseNotify,
}

/// What the owner of a struck socket does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Aftermath {
    /// Close the socket now (it is armed to reset): fail every read and write until it is.
    Abort,
    /// Send nothing; read and discard until the peer closes or [`DRAIN_LIMIT`] passes.
    Drain,
    /// Send nothing; read and discard until the peer closes or the owner's hold limit passes.
    Silence,
    /// Shut the TLS session down cleanly (`close_notify`, then FIN), then drain.
    CloseTls,
}

impl IdleAction {
    /// Every action, in `--help` order.
    pub const ALL: [IdleAction; 4] = [
        IdleAction::Reset,
        IdleAction::Drop,
        IdleAction::Fin,
        IdleAction::CloseNotify,
    ];

    /// The word for this action (`--on-idle WORD`, `idle-WORD:S`) and its `--fault` summary.
    fn describe(self) -> (&'static str, &'static str) {
        match self {
            IdleAction::Reset => ("reset", "RST (zero-linger close) after SECS idle"),
            IdleAction::Drop => ("drop", "silence after SECS idle, socket kept"),
            IdleAction::Fin => ("fin", "FIN without close_notify after SECS idle"),
            IdleAction::CloseNotify => ("close-notify", "clean TLS close after SECS idle"),
        }
    }

    /// The word for this action: `reset`, `drop`, `fin`, `close-notify`.
    pub fn word(self) -> &'static str {
        self.describe().0
    }

    /// The name of the fault that carries out this action (`idle-reset`, ...).
    pub fn fault_name(self) -> String {
        format!("{FAMILY}-{}", self.word())
    }

    /// Only the TLS peer can carry this action out (a forwarder of TCP cannot).
    pub fn needs_tls_peer(self) -> bool {
        self.aftermath() == Aftermath::CloseTls
    }

    /// Does to `tcp` what this action does on the wire, and says what the owner does next.
    pub(crate) fn strike(self, tcp: &TcpStream) -> Aftermath {
        let socket = SockRef::from(tcp);
        match self {
            IdleAction::Reset => {
                let _ = socket.set_linger(Some(Duration::ZERO));
            }
            IdleAction::Fin => {
                let _ = socket.shutdown(Shutdown::Write);
            }
            IdleAction::Drop | IdleAction::CloseNotify => {}
        }
        self.aftermath()
    }

    fn aftermath(self) -> Aftermath {
        match self {
            IdleAction::Reset => Aftermath::Abort,
            IdleAction::Drop => Aftermath::Silence,
            IdleAction::Fin => Aftermath::Drain,
            IdleAction::CloseNotify => Aftermath::CloseTls,
        }
    }
}

impl FromStr for IdleAction {
    type Err = UnknownIdleAction;

    fn from_str(text: &str) -> Result<IdleAction, UnknownIdleAction> {
        IdleAction::ALL
            .into_iter()
            .find(|a| a.word() == text)
            .ok_or_else(|| UnknownIdleAction(text.to_string()))
    }
}

/// A word that names no [`IdleAction`]; the message lists the words that do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not one of {words}", words = IdleAction::ALL.map(IdleAction::word).join(", "))]
pub struct UnknownIdleAction(pub String);

impl fmt::Display for IdleAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.word())
    }
}

/// An idle fault: act on a connection that has carried no application bytes in either
/// direction for `after`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdleFault {
    pub action: IdleAction,
    pub after: Duration,
}

/// One kind per action: `idle-reset:SECS`, ...
pub(super) fn kinds() -> Vec<FaultKind> {
    IdleAction::ALL
        .into_iter()
        .map(|action| {
            FaultKind::new(
                action.fault_name(),
                "SECS",
                action.describe().1,
                move |arg| {
                    Ok(IdleFault {
                        action,
                        after: parse_seconds(arg)?,
                    })
                },
            )
            .in_family(FAMILY)
        })
        .collect()
}

impl Behaviour for IdleFault {
    fn argument(&self) -> String {
        seconds(self.after)
    }

    fn idle(&self) -> Option<IdleFault> {
        Some(*self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_round_trip_and_only_close_notify_needs_tls() {
        for action in IdleAction::ALL {
            assert_eq!(action.to_string().parse::<IdleAction>(), Ok(action));
            assert_eq!(
                action.needs_tls_peer(),
                action == IdleAction::CloseNotify,
                "{action}"
            );
        }
        assert!("nap"
            .parse::<IdleAction>()
            .unwrap_err()
            .to_string()
            .contains("reset, drop, fin, close-notify"));
    }
}
