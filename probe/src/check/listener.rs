//! listener: a Hybrid Connections listener's control channel (`sb-hc-action=listen`) over the
//! tls check's connection, as writeback's agent opens its own to the relay. The service answers
//! a handshake it will not take with a plain HTTP status, named here the way a team acts on it.

use super::{Ctx, Session};
use crate::net::hc::{Listener, Refusal};
use crate::outcome::{Outcome, Status};
use crate::result::{CheckName, CheckResult, Details, ListenerDetails};
use crate::seconds::Seconds;
use crate::target::Target;
use std::time::Instant;

pub async fn run(ctx: &Ctx<'_>, target: &Target, session: &mut Session) -> CheckResult {
    let Some(hc) = target.hc() else {
        return CheckResult::skipped(CheckName::Listener, "not a hybrid connection");
    };
    let Some(stream) = session.tls.take() else {
        return CheckResult::skipped(
            CheckName::Listener,
            session.failed.unwrap_or("no TLS session"),
        );
    };
    let net = ctx.net;
    let entity = hc.entity();
    let where_ = format!("{}/{entity}", hc.namespace);
    let started = Instant::now();
    let opened = Listener::open(Box::new(stream), hc, entity, net.timeout).await;
    let elapsed = started.elapsed();
    let mut details = ListenerDetails {
        entity: entity.to_string(),
        listener_id: String::new(),
        status_code: None,
        description: None,
    };
    let (status, outcome, message) = match opened {
        Ok(listener) => {
            details.listener_id = listener.id.clone();
            details.status_code = Some(101);
            session.relay_idle_limit = listener
                .announced_idle_limit_s
                .filter(|s| s.is_finite() && *s > 0.0)
                .map(Seconds::from_f64);
            session.listener = Some(listener);
            (
                Status::Pass,
                Outcome::Listening,
                format!("the listener's control channel to {where_} is open: the relay accepts this machine as a listener"),
            )
        }
        Err(Refusal::Status { code, description }) => {
            details.status_code = Some(code);
            let said = description
                .as_deref()
                .map(|d| format!(": {}", d.trim_end_matches('.')))
                .unwrap_or_default();
            let (outcome, advice) = refusal(code, description.as_deref());
            details.description = description;
            (
                Status::Fail,
                outcome,
                format!("the relay refused the listener for {where_} with {code}{said}. {advice}"),
            )
        }
        Err(Refusal::Timeout) => (
            Status::Fail,
            Outcome::Timeout,
            format!(
                "no answer to the listener's handshake for {where_} within {} s: a proxy or firewall holding WebSocket upgrades, or the service is not answering",
                net.timeout.as_secs_f64()
            ),
        ),
        Err(Refusal::Failed { outcome, why }) => (
            Status::Fail,
            outcome,
            format!("the listener's handshake for {where_} failed: {why}"),
        ),
    };
    CheckResult::new(CheckName::Listener, status, outcome, message, elapsed)
        .with(Details::Listener(details))
}

/// Whether a refusal's description names the IP filter, as the service's does for a refused
/// address ("Ip has been prevented to connect to the endpoint"). Azure Relay's IP firewall
/// documentation says a refused address is "rejected as unauthorized" and "the response does
/// not mention the IP rule", so a bare 401 cannot be told from a bad key (its advice says so).
fn names_ip_filter(description: &str) -> bool {
    let d = description.to_ascii_lowercase();
    d.contains("ip has been prevented")
        || d.contains("ipfilter")
        || d.contains("ip filter")
        || (d.contains("ip address")
            && (d.contains("not allowed") || d.contains("rejected") || d.contains("denied")))
}

/// The outcome word and what to do for a status (and description) the service refused a
/// handshake with.
pub fn refusal(code: u16, description: Option<&str>) -> (Outcome, &'static str) {
    let quota = description.is_some_and(|d| d.to_ascii_lowercase().contains("quota"));
    match code {
        401 | 403 if description.is_some_and(names_ip_filter) => (
            Outcome::IpFiltered,
            "The namespace's IP firewall refused this machine's address: add the address this machine reaches Azure from (its egress or NAT address, not its local one) to the namespace's IP rules (Networking, or az relay namespace network-rule-set), or allow its range",
        ),
        403 if quota => (
            Outcome::Forbidden,
            "The hybrid connection already has as many listeners as the service allows (25): stop stale listeners, or give this probe an entity of its own",
        ),
        401 => (
            Outcome::Unauthorized,
            "The token was not accepted: check SharedAccessKeyName and SharedAccessKey (a regenerated key invalidates old connection strings) and this machine's clock (tokens carry an expiry). If the namespace has IP rules, it answers a refused address the same way without naming them: compare its IP rules with the address this machine reaches Azure from",
        ),
        403 => (
            Outcome::Forbidden,
            "The token lacks the right it needs (Listen for a listener, Send for a sender) or is for another hybrid connection: use a rule with Listen and Send on this one",
        ),
        404 => (
            Outcome::NoSuchEntity,
            "The namespace has no such hybrid connection: create it (az relay hyco create) or fix EntityPath",
        ),
        _ => (
            Outcome::ProtocolError,
            "A WebSocket handshake to the relay should end in 101: a proxy that blocks upgrades, or a service error",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_naming_the_ip_filter_is_its_own_outcome() {
        let said = Some("Ip has been prevented to connect to the endpoint. TrackingId:1");
        assert_eq!(refusal(403, said).0, Outcome::IpFiltered);
        assert_eq!(refusal(401, said).0, Outcome::IpFiltered);
        assert!(refusal(403, said).1.contains("IP rules"));
        assert_eq!(
            refusal(403, Some("Unauthorized access")).0,
            Outcome::Forbidden
        );
        let (outcome, advice) = refusal(401, None);
        assert_eq!(outcome, Outcome::Unauthorized);
        assert!(advice.contains("IP rules"), "{advice}");
        assert_eq!(refusal(403, Some("quota exceeded")).0, Outcome::Forbidden);
    }
}
