//! What the ladder may test against a target, before any idle connection opens: the idle
//! periods, cut short of a limit the far end has of its own (an HTTPS endpoint's announced
//! keep-alive limit, a hybrid connection relay's limit on idle listeners). Past such a limit the
//! ladder would measure the far end, not the path.

use super::endpoint_limit::{self, EndpointLimit};
use super::relay_limit::RelayLimit;
use super::settings::IdleSettings;
use crate::net::NetContext;
use crate::seconds::{fmt_s, Seconds};
use crate::target::{Target, TargetKind};

/// The idle periods to test, and the far end's limit that cut them.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    /// The ladder's idle periods, shortest first, each within the far end's limit.
    pub periods: Vec<Seconds>,
    /// The idle period a single hybrid connection rung tests: the requirement, or as far as
    /// the relay allows.
    pub rung_required_s: Seconds,
    /// The far end's limit, when it capped the ladder.
    pub cap_s: Option<Seconds>,
    /// A hybrid connection relay's own limit on idle listeners, if it has one.
    pub relay: Option<RelayLimit>,
}

/// Why idle connections cannot be tested against this far end at all.
#[derive(Debug, Clone, PartialEq)]
pub struct Untestable(pub String);

/// Asks the far end for its limit (an HTTPS endpoint) or reads the relay's (a hybrid
/// connection, `relay_idle_limit` as its listener announced it) and cuts the ladder short of it.
pub async fn scope(
    net: &NetContext,
    target: &Target,
    settings: &IdleSettings,
    relay_idle_limit: Option<Seconds>,
) -> Result<Scope, Untestable> {
    // An HTTPS endpoint may announce its own idle limit: past it, the test measures the server.
    let limit = match target.kind {
        TargetKind::Https { .. } => endpoint_limit::discover(net, target).await,
        _ => None,
    };
    // A hybrid connection's relay forgets idle listeners itself: past its limit the ladder
    // would measure the service, not the path, so it stops short of it.
    let relay = target
        .hc()
        .and_then(|_| RelayLimit::of(&target.host, relay_idle_limit));
    let scope = Scope {
        periods: settings.rungs(),
        rung_required_s: settings.required_s,
        cap_s: None,
        relay: None,
    };
    let scope = within_endpoint(scope, limit)?;
    match relay {
        Some(r) => within_relay(scope, r, settings),
        None => Ok(scope),
    }
}

/// Cuts the ladder short of an endpoint's announced keep-alive limit.
fn within_endpoint(mut scope: Scope, limit: Option<EndpointLimit>) -> Result<Scope, Untestable> {
    match limit {
        None => Ok(scope),
        Some(EndpointLimit::ClosesEachConnection) => Err(Untestable(
            "answers `Connection: close`: it ends every connection after one answer".to_string(),
        )),
        Some(EndpointLimit::KeepAliveTimeout(n)) => {
            // A request at the very limit races the server's own timer.
            scope.periods.retain(|p| *p <= n - Seconds::new(1));
            if scope.periods.is_empty() {
                return Err(Untestable(format!("announces that it closes idle connections after {} s (Keep-Alive: timeout), below the shortest idle period tested", fmt_s(n))));
            }
            scope.cap_s = Some(n);
            Ok(scope)
        }
    }
}

/// Cuts the ladder short of the relay's own limit on idle listeners.
fn within_relay(
    mut scope: Scope,
    relay: RelayLimit,
    settings: &IdleSettings,
) -> Result<Scope, Untestable> {
    let longest = relay.longest_rung_s();
    let capped = settings.max_s > longest || settings.required_s > longest;
    scope.periods.retain(|p| *p <= longest);
    if scope.periods.is_empty() {
        return Err(Untestable(format!(
            "forgets listeners idle for {} s itself ({}), below the shortest idle period tested",
            fmt_s(relay.limit_s()),
            relay.source()
        )));
    }
    scope.rung_required_s = scope.rung_required_s.min(longest);
    if scope.rung_required_s < settings.required_s {
        // The one rung of a single entity goes as far as the relay allows.
        scope.rung_required_s = scope.periods.last().copied().unwrap_or(longest);
    }
    scope.cap_s = capped.then_some(relay.limit_s());
    scope.relay = Some(relay);
    Ok(scope)
}
