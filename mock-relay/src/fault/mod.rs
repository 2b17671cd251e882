//! Fault rehearsal: `--fault KIND[:ARG]`, in the manner of toxiproxy's toxics.
//!
//! Every fault is one type in one file of this folder, implementing [`Behaviour`]: the hooks at
//! the points where faults act on a connection (before the TLS handshake, the certificate, each
//! HTTP response, an idle connection). Each file also registers its kind by name, once, with
//! [`FaultKind::new`]; parsing, `Display` and `--help` all read that registration. Adding a
//! fault is one new file and one line in [`kinds`].
//!
//! | file | faults | acts |
//! |---|---|---|
//! | [`idle`] | `idle-reset`, `idle-drop`, `idle-fin`, `idle-close-notify` | on an idle connection |
//! | [`handshake_delay`] | `handshake-delay` | before the TLS handshake |
//! | [`slow_response`] | `slow-response` | before each HTTP response |
//! | [`status`] | `status` | instead of each HTTP response |
//! | [`cert`] | `cert` | on the generated certificate |
//!
//! [`Faults`] is the validated set one server runs with (at most one fault of each family) and
//! runs the hooks for the server.

pub mod cert;
pub mod handshake_delay;
pub mod idle;
pub mod slow_response;
pub mod status;

pub use idle::{IdleAction, IdleFault};

use crate::response::Body;
use crate::tls::LeafPlan;
use futures_util::future::BoxFuture;
use http::Response;
use std::fmt;
use std::str::FromStr;
use std::sync::{Arc, LazyLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What one fault does, hook by hook. Each hook returns what the fault does at that point, or
/// `None` (the default) where it does not act.
pub trait Behaviour: Send + Sync + 'static {
    /// The argument after the colon, as `--fault` takes it (so that a fault prints as it parses).
    fn argument(&self) -> String;

    /// Before the TLS handshake (on a plain listener, before HTTP): something to wait for.
    fn before_handshake(&self) -> Option<BoxFuture<'static, ()>> {
        None
    }

    /// The change this fault makes to the generated leaf certificate before it is signed.
    fn certificate(&self) -> Option<LeafBend<'_>> {
        None
    }

    /// Before every HTTP response, the WebSocket upgrade included: something to wait for, which
    /// may end in a response that replaces the route's.
    fn before_response(&self) -> Option<BoxFuture<'static, Option<Response<Body>>>> {
        None
    }

    /// When and how this fault ends an idle connection.
    fn idle(&self) -> Option<IdleFault> {
        None
    }
}

/// A change to the leaf certificate a fault makes.
pub type LeafBend<'a> = Box<dyn Fn(&mut LeafPlan) + 'a>;

type Parse = Box<dyn Fn(&str) -> Result<Arc<dyn Behaviour>, ArgumentError> + Send + Sync>;

/// Why the argument after a fault's colon was refused (the fault's name is added by
/// [`FaultError::BadArgument`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgumentError {
    #[error(transparent)]
    Seconds(#[from] crate::secs::SecondsError),
    #[error("`{0}` is not an HTTP status code")]
    NotAStatusCode(String),
    #[error("status {code} is outside {low}-{high}")]
    StatusOutOfRange { code: u16, low: u16, high: u16 },
    /// A word outside the kind's list (`cert:old`).
    #[error("`{given}` is not one of {known}")]
    NotOneOf { given: String, known: String },
}

/// A registered fault kind: its name, what its argument looks like, and how to parse it.
pub struct FaultKind {
    pub name: String,
    /// Shape of the argument after the colon, for help and error text.
    pub argument: String,
    pub summary: String,
    /// Faults of one family conflict; a kind is its own family unless it says otherwise.
    family: String,
    parse: Parse,
}

impl FaultKind {
    /// Registers a kind: `KIND:ARG` parses with `parse` into a fault of type `B`.
    pub fn new<B: Behaviour>(
        name: impl Into<String>,
        argument: impl Into<String>,
        summary: impl Into<String>,
        parse: impl Fn(&str) -> Result<B, ArgumentError> + Send + Sync + 'static,
    ) -> FaultKind {
        let name = name.into();
        FaultKind {
            family: name.clone(),
            name,
            argument: argument.into(),
            summary: summary.into(),
            parse: Box::new(move |arg| Ok(Arc::new(parse(arg)?) as Arc<dyn Behaviour>)),
        }
    }

    /// Puts this kind in a family with others (only one fault of a family per server).
    pub fn in_family(mut self, family: impl Into<String>) -> FaultKind {
        self.family = family.into();
        self
    }
}

/// Every fault kind, in `--help` order: one line per fault file.
pub fn kinds() -> &'static [FaultKind] {
    static KINDS: LazyLock<Vec<FaultKind>> = LazyLock::new(|| {
        let mut kinds = idle::kinds();
        kinds.extend([
            handshake_delay::kind(),
            slow_response::kind(),
            status::kind(),
            cert::kind(),
        ]);
        kinds
    });
    &KINDS
}

/// An argument in seconds, printed as `--fault` takes it.
fn seconds(duration: Duration) -> String {
    duration.as_secs_f64().to_string()
}

/// One parsed `--fault`: its registered kind and its behaviour.
#[derive(Clone)]
pub struct Fault {
    kind: &'static FaultKind,
    behaviour: Arc<dyn Behaviour>,
}

impl Fault {
    /// The registered name (`idle-reset`, `status`, ...).
    pub fn name(&self) -> &'static str {
        &self.kind.name
    }

    pub fn behaviour(&self) -> &dyn Behaviour {
        &*self.behaviour
    }
}

/// A `--fault` that could not be parsed or combined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultError {
    #[error("unknown fault `{name}`; known faults: {known}", known = known_names())]
    Unknown { name: String },
    #[error("fault `{name}` needs an argument: {name}:{argument}")]
    MissingArgument { name: String, argument: String },
    /// `text` is the whole `--fault` value as given.
    #[error("fault `{text}`: {source}")]
    BadArgument { text: String, source: ArgumentError },
    #[error("only one {family} fault per server (`{fault}` conflicts with an earlier one)")]
    Conflict { family: String, fault: String },
}

fn known_names() -> String {
    let known: Vec<&str> = kinds().iter().map(|k| k.name.as_str()).collect();
    known.join(", ")
}

impl FromStr for Fault {
    type Err = FaultError;

    fn from_str(text: &str) -> Result<Fault, FaultError> {
        let (name, arg) = match text.split_once(':') {
            Some((name, arg)) => (name, Some(arg)),
            None => (text, None),
        };
        let Some(kind) = kinds().iter().find(|k| k.name == name) else {
            return Err(FaultError::Unknown {
                name: name.to_string(),
            });
        };
        let arg = arg
            .filter(|a| !a.is_empty())
            .ok_or_else(|| FaultError::MissingArgument {
                name: name.to_string(),
                argument: kind.argument.clone(),
            })?;
        let behaviour = (kind.parse)(arg).map_err(|source| FaultError::BadArgument {
            text: text.to_string(),
            source,
        })?;
        Ok(Fault { kind, behaviour })
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.name, self.behaviour.argument())
    }
}

impl fmt::Debug for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Fault").field(&self.to_string()).finish()
    }
}

/// The faults one server runs with: at most one of each family, in the order given.
#[derive(Debug, Clone, Default)]
pub struct Faults(Vec<Fault>);

impl Faults {
    /// Combines a list of faults; two of one family (say `idle-reset` and `idle-fin`) conflict.
    pub fn from_list(faults: &[Fault]) -> Result<Faults, FaultError> {
        for (i, fault) in faults.iter().enumerate() {
            let family = &fault.kind.family;
            if faults[..i].iter().any(|f| &f.kind.family == family) {
                return Err(FaultError::Conflict {
                    family: family.clone(),
                    fault: fault.to_string(),
                });
            }
        }
        Ok(Faults(faults.to_vec()))
    }

    fn behaviours(&self) -> impl Iterator<Item = &dyn Behaviour> {
        self.0.iter().map(Fault::behaviour)
    }

    /// Waits out every fault's wait before the TLS handshake.
    pub(crate) async fn before_handshake(&self) {
        for wait in self.behaviours().filter_map(Behaviour::before_handshake) {
            wait.await;
        }
    }

    /// The faults' changes to the generated leaf certificate, as one; `None` if none makes any.
    pub(crate) fn certificate(&self) -> Option<LeafBend<'_>> {
        let bends: Vec<LeafBend<'_>> = self.behaviours().filter_map(|b| b.certificate()).collect();
        (!bends.is_empty()).then(|| {
            Box::new(move |leaf: &mut LeafPlan| bends.iter().for_each(|bend| bend(leaf)))
                as LeafBend<'_>
        })
    }

    /// Runs every fault's hook before an HTTP response (a shutdown cuts a wait short); returns
    /// the response a fault gives instead of the route's, if one does.
    pub(crate) async fn before_response(
        &self,
        shutdown: &CancellationToken,
    ) -> Option<Response<Body>> {
        let mut answer = None;
        for hook in self.behaviours().filter_map(Behaviour::before_response) {
            tokio::select! {
                biased;
                given = hook => answer = answer.or(given),
                _ = shutdown.cancelled() => {}
            }
        }
        answer
    }

    /// The idle fault, if there is one.
    pub(crate) fn idle(&self) -> Option<IdleFault> {
        self.behaviours().find_map(Behaviour::idle)
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
        assert_eq!(kinds().len(), 8);
    }

    #[test]
    fn errors_say_what_is_wrong() {
        let err = |s: &str| s.parse::<Fault>().unwrap_err().to_string();
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
        assert_eq!(set.idle().unwrap().action, IdleAction::Reset);
        assert!(set.certificate().is_some());
        let clash: Vec<Fault> = ["idle-reset:2", "idle-fin:3"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let err = Faults::from_list(&clash).unwrap_err().to_string();
        assert!(err.contains("only one idle fault"), "{err}");
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<&str> = kinds().iter().map(|k| k.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), kinds().len());
    }
}
