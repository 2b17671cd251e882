//! Token renewal on a held listener: before the token its control channel was opened with
//! expires, the listener sends `renewToken` with a fresh one, as Microsoft's SDK does, so a
//! listener held longer than a token's life stays open (the service closes it with 1008
//! otherwise). A connection string with a ready-made signature cannot be renewed.
//!
//! The .NET SDK schedules its renewal at the token's expiry itself (`TokenRenewer`, at least
//! 4 minutes on), the Node client every hour with hour-long tokens: both race the expiry. This
//! listener renews ahead of it: 5 minutes before, or halfway through a shorter life.

use crate::target::HybridConnection;
use relay_protocol::connection_string::Credential;
use relay_protocol::hc::control::RenewTokenMessage;
use relay_protocol::hc::EntityPath;
use relay_protocol::{sas, SecretString};
use std::time::Duration;
use tokio::time::Instant;

/// How long before its expiry a token is renewed, at most.
const AHEAD: Duration = Duration::from_secs(5 * 60);

/// When and how a listener renews its token.
pub struct Renewal {
    hc: HybridConnection,
    entity: EntityPath,
    /// When the next `renewToken` is due.
    pub due: Instant,
}

impl Renewal {
    /// The renewal of a token signed now for `entity`; `None` when the credential is a
    /// ready-made signature.
    pub fn new(hc: &HybridConnection, entity: &EntityPath) -> Option<Renewal> {
        matches!(hc.credential, Credential::Key(_)).then(|| Renewal {
            hc: hc.clone(),
            entity: entity.clone(),
            due: Instant::now() + renew_after(hc.token_lifetime),
        })
    }

    /// The `renewToken` message with a fresh token, and the next due time set.
    pub fn message(&mut self) -> SecretString {
        self.due = Instant::now() + renew_after(self.hc.token_lifetime);
        let token = super::signed(&self.hc, &self.entity);
        match token {
            Some(t) => RenewTokenMessage::new(&t).to_json(),
            None => SecretString::new(String::new()),
        }
    }
}

/// How long after signing a token of `lifetime` it is renewed.
pub fn renew_after(lifetime: Duration) -> Duration {
    lifetime.saturating_sub(AHEAD.min(lifetime / 2))
}

/// Unix seconds now.
pub fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// Signs `resource` with `key` for `lifetime` from now.
pub fn sign(key: &sas::SasKey, resource: &str, lifetime: Duration) -> sas::SasToken {
    key.sign(resource, now_unix() + lifetime.as_secs().max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_renewed_ahead_of_their_expiry() {
        assert_eq!(
            renew_after(Duration::from_secs(3600)),
            Duration::from_secs(3300)
        );
        assert_eq!(renew_after(Duration::from_secs(6)), Duration::from_secs(3));
    }
}
