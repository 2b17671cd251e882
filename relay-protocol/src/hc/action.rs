//! The `sb-hc-action` query parameter.

use std::fmt;
use std::str::FromStr;

/// What a WebSocket handshake to `/$hc/...` asks the service to do.
///
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Open a listener's control channel.
    Listen,
    /// A sender asks to be connected to a listener.
    Connect,
    /// A listener takes (or, with a status code, rejects) one sender, at the address from `accept`.
    Accept,
    /// A listener opens the rendezvous of a relayed HTTP request, at the `address` of a
    /// `request` message (protocol guide, "Responding via rendezvous"; .NET
    /// `HybridConnectionConstants.Actions.Request`).
    Request,
}

impl Action {
    pub const ALL: [Action; 4] = [
        Action::Listen,
        Action::Connect,
        Action::Accept,
        Action::Request,
    ];

    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Listen => "listen",
            Action::Connect => "connect",
            Action::Accept => "accept",
            Action::Request => "request",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A value of `sb-hc-action` that is none of [`Action::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("sb-hc-action must be listen, connect, accept or request")]
pub struct UnknownAction;

impl FromStr for Action {
    type Err = UnknownAction;

    /// Exact, lower-case wire values, as the SDKs send them.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|action| action.as_str() == value)
            .ok_or(UnknownAction)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_values_round_trip() {
        for action in Action::ALL {
            assert_eq!(action.as_str().parse::<Action>(), Ok(action));
        }
        assert_eq!("respond".parse::<Action>(), Err(UnknownAction));
        assert_eq!("Listen".parse::<Action>(), Err(UnknownAction));
    }
}
