//! Azure Relay Hybrid Connections, the client side: a listener's control channel, a sender, and
//! the rendezvous between them, over the probe's own paths (so a proxy, `--resolve` and the
//! trust anchors apply as to every other connection). The wire itself (URLs, control messages,
//! SAS tokens) is written once, in `relay_protocol`.

mod handshake;
pub mod keepalive;
pub mod listener;
mod refused;
mod renewal;
mod round_trip;
pub mod sender;
pub mod strangers;

pub use handshake::Refusal;
pub use listener::{Event, Listener};
pub use refused::refusal;
pub use round_trip::round_trip;

use crate::target::HybridConnection;
use relay_protocol::connection_string::Credential;
use relay_protocol::hc::EntityPath;
use relay_protocol::{sas, SecretString};

/// A token for `entity`: signed now with the connection string's key (valid for
/// `hc.token_lifetime`, an hour as the SDK's), or the connection string's own ready-made
/// signature.
pub fn token(hc: &HybridConnection, entity: &EntityPath) -> SecretString {
    match (&hc.credential, signed(hc, entity)) {
        (_, Some(token)) => token.expose(),
        (Credential::Signature(token), None) => token.expose(),
        (Credential::Key(_), None) => SecretString::new(String::new()),
    }
}

/// A token signed now for `entity`, when the connection string has a key.
fn signed(hc: &HybridConnection, entity: &EntityPath) -> Option<sas::SasToken> {
    match &hc.credential {
        Credential::Key(key) => Some(renewal::sign(
            key,
            &sas::resource_uri(&hc.namespace, Some(entity)),
            hc.token_lifetime,
        )),
        Credential::Signature(_) => None,
    }
}

/// Whether an accept is for the sender with `sender_id`: the service passes the sender's id on,
/// with gateway suffixes appended (`ID_G0_G3`).
pub fn is_for(accept_id: &str, sender_id: &str) -> bool {
    accept_id == sender_id
        || accept_id
            .strip_prefix(sender_id)
            .is_some_and(|rest| rest.starts_with('_'))
}

/// A fresh `sb-hc-id`: unique per connection, and recognisable as this probe's in the
/// service's logs and in another listener's accept message.
pub fn connection_id(role: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    static SEQUENCE: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("probe-{role}-{}-{nanos:08x}-{n}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_accept_is_matched_to_its_sender_exactly() {
        assert!(is_for("probe-sender-1", "probe-sender-1"));
        assert!(is_for("probe-sender-1_G0_G3", "probe-sender-1"));
        assert!(!is_for("probe-sender-12_G0", "probe-sender-1"));
        assert!(!is_for("probe-sender-12", "probe-sender-1"));
    }
}
