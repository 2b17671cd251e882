//! The outcome word and the advice for a status the relay service refused a handshake with
//! (the listener's and the sender's alike).

use crate::outcome::Outcome;

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
