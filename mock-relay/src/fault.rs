//! Fault rehearsal: `--fault KIND[:ARG]`, one type per fault, registered by name (in the spirit
//! of toxiproxy's toxics).
//!
//! Each fault is a small type; [`Fault`] is the sum of them and [`KINDS`] is the registry that
//! parses a `KIND[:ARG]` string into one. [`Faults`] is the validated set one server runs with
//! (at most one fault of each family). The behaviour lives where it acts: idle faults in
//! [`crate::idle`], the handshake delay in [`crate::server`], response faults in
//! [`crate::routes`], certificate faults in [`crate::tls`].

use crate::secs::parse_seconds;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// What an idle fault does to a connection once nothing has crossed it for its time.
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

impl IdleAction {
    /// The fault name of this action (`idle-reset`, ...).
    pub fn fault_name(self) -> &'static str {
        match self {
            IdleAction::Reset => "idle-reset",
            IdleAction::Drop => "idle-drop",
            IdleAction::Fin => "idle-fin",
            IdleAction::CloseNotify => "idle-close-notify",
        }
    }
}

/// `idle-reset:S`, `idle-drop:S`, `idle-fin:S`, `idle-close-notify:S`: act on a connection that
/// has carried no application bytes in either direction for `after`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IdleFault {
    pub action: IdleAction,
    pub after: Duration,
}

/// `handshake-delay:S`: wait S seconds after accepting TCP before answering the TLS handshake.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HandshakeDelay(pub Duration);

/// `slow-response:S`: hold every HTTP response (including the WebSocket upgrade) for S seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SlowResponse(pub Duration);

/// `status:CODE`: answer every HTTP request with this status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusFault(pub http::StatusCode);

/// `cert:expired|wrong-name|self-signed`: present a bad generated certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertFault {
    /// Signed by the CA, names right, validity ended two days ago.
    Expired,
    /// Signed by the CA, valid, but only for `wrong-name.invalid`.
    WrongName,
    /// Names and validity right, but signed by its own key instead of the CA.
    SelfSigned,
}

impl CertFault {
    pub fn name(self) -> &'static str {
        match self {
            CertFault::Expired => "expired",
            CertFault::WrongName => "wrong-name",
            CertFault::SelfSigned => "self-signed",
        }
    }
}

/// One parsed `--fault`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    Idle(IdleFault),
    HandshakeDelay(HandshakeDelay),
    SlowResponse(SlowResponse),
    Status(StatusFault),
    Cert(CertFault),
}

/// A registered fault kind: its name, what its argument looks like, and how to parse it.
pub struct FaultKind {
    pub name: &'static str,
    /// Shape of the argument after the colon, for help and error text.
    pub argument: &'static str,
    pub summary: &'static str,
    parse: fn(&str) -> Result<Fault, String>,
}

fn idle(action: IdleAction) -> impl Fn(&str) -> Result<Fault, String> {
    move |arg| {
        Ok(Fault::Idle(IdleFault {
            action,
            after: parse_seconds(arg)?,
        }))
    }
}

/// Every fault kind, by name.
pub const KINDS: &[FaultKind] = &[
    FaultKind {
        name: "idle-reset",
        argument: "SECS",
        summary: "RST (zero-linger close) after SECS idle",
        parse: |a| idle(IdleAction::Reset)(a),
    },
    FaultKind {
        name: "idle-drop",
        argument: "SECS",
        summary: "silence after SECS idle, socket kept",
        parse: |a| idle(IdleAction::Drop)(a),
    },
    FaultKind {
        name: "idle-fin",
        argument: "SECS",
        summary: "FIN without close_notify after SECS idle",
        parse: |a| idle(IdleAction::Fin)(a),
    },
    FaultKind {
        name: "idle-close-notify",
        argument: "SECS",
        summary: "clean TLS close after SECS idle",
        parse: |a| idle(IdleAction::CloseNotify)(a),
    },
    FaultKind {
        name: "handshake-delay",
        argument: "SECS",
        summary: "delay the TLS handshake by SECS",
        parse: |a| Ok(Fault::HandshakeDelay(HandshakeDelay(parse_seconds(a)?))),
    },
    FaultKind {
        name: "slow-response",
        argument: "SECS",
        summary: "delay every HTTP response by SECS",
        parse: |a| Ok(Fault::SlowResponse(SlowResponse(parse_seconds(a)?))),
    },
    FaultKind {
        name: "status",
        argument: "CODE",
        summary: "answer every request with CODE (200-599)",
        parse: parse_status,
    },
    FaultKind {
        name: "cert",
        argument: "expired|wrong-name|self-signed",
        summary: "a bad certificate",
        parse: parse_cert,
    },
];

fn parse_status(arg: &str) -> Result<Fault, String> {
    let code: u16 = arg
        .parse()
        .map_err(|_| format!("`{arg}` is not an HTTP status code"))?;
    if !(200..=599).contains(&code) {
        return Err(format!("status {code} is outside 200-599"));
    }
    let code = http::StatusCode::from_u16(code).map_err(|e| e.to_string())?;
    Ok(Fault::Status(StatusFault(code)))
}

fn parse_cert(arg: &str) -> Result<Fault, String> {
    [
        CertFault::Expired,
        CertFault::WrongName,
        CertFault::SelfSigned,
    ]
    .into_iter()
    .find(|c| c.name() == arg)
    .map(Fault::Cert)
    .ok_or_else(|| format!("`{arg}` is not one of expired, wrong-name, self-signed"))
}

/// A `--fault` that could not be parsed or combined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FaultError(pub String);

impl FromStr for Fault {
    type Err = FaultError;

    fn from_str(text: &str) -> Result<Fault, FaultError> {
        let (name, arg) = match text.split_once(':') {
            Some((name, arg)) => (name, Some(arg)),
            None => (text, None),
        };
        let Some(kind) = KINDS.iter().find(|k| k.name == name) else {
            let known: Vec<&str> = KINDS.iter().map(|k| k.name).collect();
            return Err(FaultError(format!(
                "unknown fault `{name}`; known faults: {}",
                known.join(", ")
            )));
        };
        let arg = arg.filter(|a| !a.is_empty()).ok_or_else(|| {
            FaultError(format!(
                "fault `{name}` needs an argument: {name}:{}",
                kind.argument
            ))
        })?;
        (kind.parse)(arg).map_err(|e| FaultError(format!("fault `{text}`: {e}")))
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Idle(i) => write!(f, "{}:{}", i.action.fault_name(), i.after.as_secs_f64()),
            Fault::HandshakeDelay(d) => write!(f, "handshake-delay:{}", d.0.as_secs_f64()),
            Fault::SlowResponse(d) => write!(f, "slow-response:{}", d.0.as_secs_f64()),
            Fault::Status(s) => write!(f, "status:{}", s.0.as_u16()),
            Fault::Cert(c) => write!(f, "cert:{}", c.name()),
        }
    }
}

/// The faults one server runs with: at most one of each family.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    pub idle: Option<IdleFault>,
    pub handshake_delay: Option<HandshakeDelay>,
    pub slow_response: Option<SlowResponse>,
    pub status: Option<StatusFault>,
    pub cert: Option<CertFault>,
}

impl Faults {
    /// Combines a list of faults; two of one family (say `idle-reset` and `idle-fin`) conflict.
    pub fn from_list(faults: &[Fault]) -> Result<Faults, FaultError> {
        fn put<T>(
            slot: &mut Option<T>,
            value: T,
            fault: &Fault,
            family: &str,
        ) -> Result<(), FaultError> {
            if slot.is_some() {
                return Err(FaultError(format!(
                    "only one {family} fault per server (`{fault}` conflicts with an earlier one)"
                )));
            }
            *slot = Some(value);
            Ok(())
        }
        let mut set = Faults::default();
        for fault in faults {
            match *fault {
                Fault::Idle(i) => put(&mut set.idle, i, fault, "idle")?,
                Fault::HandshakeDelay(d) => {
                    put(&mut set.handshake_delay, d, fault, "handshake-delay")?
                }
                Fault::SlowResponse(d) => put(&mut set.slow_response, d, fault, "slow-response")?,
                Fault::Status(s) => put(&mut set.status, s, fault, "status")?,
                Fault::Cert(c) => put(&mut set.cert, c, fault, "cert")?,
            }
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registered_kind_parses_and_round_trips() {
        for text in [
            "idle-reset:2",
            "idle-drop:1.5",
            "idle-fin:3",
            "idle-close-notify:0.5",
            "handshake-delay:2",
            "slow-response:1",
            "status:503",
            "cert:expired",
            "cert:wrong-name",
            "cert:self-signed",
        ] {
            let fault: Fault = text.parse().unwrap();
            assert_eq!(fault.to_string(), text);
        }
        assert_eq!(KINDS.len(), 8);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let err = |s: &str| s.parse::<Fault>().unwrap_err().0;
        assert!(err("idle-nap:3").contains("unknown fault `idle-nap`"));
        assert!(err("idle-nap:3").contains("idle-reset"));
        assert!(err("idle-reset").contains("idle-reset:SECS"));
        assert!(err("idle-reset:").contains("idle-reset:SECS"));
        assert!(err("idle-reset:soon").contains("not a number"));
        assert!(err("idle-reset:-1").contains("positive"));
        assert!(err("status:99").contains("outside"));
        assert!(err("cert:old").contains("expired, wrong-name, self-signed"));
    }

    #[test]
    fn one_fault_per_family() {
        let list: Vec<Fault> = ["idle-reset:2", "status:503", "cert:expired"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let set = Faults::from_list(&list).unwrap();
        assert_eq!(set.idle.unwrap().action, IdleAction::Reset);
        assert_eq!(set.cert, Some(CertFault::Expired));
        let clash: Vec<Fault> = ["idle-reset:2", "idle-fin:3"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let err = Faults::from_list(&clash).unwrap_err().0;
        assert!(err.contains("only one idle fault"), "{err}");
    }
}
