//! The relay's own idle limit on a hybrid connection's listeners. Azure Relay forgets a listener
//! whose control channel has been idle for about four minutes (sources in docs/sources.md): past
//! that, an idle test measures the service, not the customer's path, so on an `hc://` target the
//! ladder stops short of it and says so. A mock-relay run with `--service-idle-limit` announces
//! its own limit in the listener's upgrade answer, and the same rule applies to it.

use crate::cloud::Cloud;
use crate::seconds::Seconds;

/// How long before Azure Relay loses an idle listener, taken conservatively: Azure's load
/// balancers drop idle flows after 4 minutes by default (their idle timeout); listeners without
/// keep-alive were reported lost at 4 min 10-15 s (azure-relay issue 33); the .NET SDK keeps its
/// listener alive every 3.5 minutes for that reason. See docs/sources.md.
pub const SERVICE_IDLE_LIMIT: Seconds = Seconds::new(240);

/// The listener keep-alive of Microsoft's SDK (an unsolicited Pong every 210 s).
pub fn sdk_keepalive() -> Seconds {
    relay_protocol::hc::SDK_LISTENER_KEEPALIVE.into()
}

/// A relay's idle limit and where the probe knows it from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RelayLimit {
    /// Azure Relay's, known from the namespace's domain.
    Service { limit_s: Seconds },
    /// Announced by the relay in the listener's upgrade answer (a mock-relay).
    Announced { limit_s: Seconds },
}

impl RelayLimit {
    /// The limit for a relay at `host` that announced `announced`, if it has one: what the
    /// relay announces wins; a namespace of Azure Relay has the service's.
    pub fn of(host: &str, announced: Option<Seconds>) -> Option<RelayLimit> {
        if let Some(limit_s) = announced.filter(|s| *s > Seconds::ZERO) {
            return Some(RelayLimit::Announced { limit_s });
        }
        is_azure_relay(host).then_some(RelayLimit::Service {
            limit_s: SERVICE_IDLE_LIMIT,
        })
    }

    pub fn limit_s(&self) -> Seconds {
        match *self {
            RelayLimit::Service { limit_s } | RelayLimit::Announced { limit_s } => limit_s,
        }
    }

    /// Where the figure comes from, for messages.
    pub fn source(&self) -> &'static str {
        match self {
            RelayLimit::Service { .. } => {
                "Azure's load balancers drop flows idle for about 4 minutes; see docs/sources.md"
            }
            RelayLimit::Announced { .. } => {
                "announced by the relay: a mock-relay's --service-idle-limit"
            }
        }
    }

    /// The longest idle period the ladder tests against it: a second short of it, as a rung at
    /// the very limit races the relay's own timer.
    pub fn longest_rung_s(&self) -> Seconds {
        self.limit_s() - Seconds::new(1)
    }
}

/// Whether `host` is a namespace of Azure Relay in one of the clouds.
fn is_azure_relay(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    [Cloud::Public, Cloud::Usgov, Cloud::China]
        .iter()
        .any(|c| host.ends_with(&format!(".{}", c.relay_suffix())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_service_has_its_limit_and_a_relay_may_announce_one() {
        assert_eq!(
            RelayLimit::of("contoso.servicebus.windows.net", None),
            Some(RelayLimit::Service {
                limit_s: Seconds::new(240)
            })
        );
        assert_eq!(
            RelayLimit::of("x.SERVICEBUS.chinacloudapi.cn.", None).map(|l| l.limit_s()),
            Some(Seconds::new(240))
        );
        assert_eq!(RelayLimit::of("127.0.0.1", None), None);
        assert_eq!(
            RelayLimit::of("servicebus.windows.net.evil.example", None),
            None
        );
        assert_eq!(
            RelayLimit::of("127.0.0.1", Some(Seconds::from_millis(4500))),
            Some(RelayLimit::Announced {
                limit_s: Seconds::from_millis(4500)
            })
        );
        assert_eq!(
            RelayLimit::of("contoso.servicebus.windows.net", Some(Seconds::new(30)))
                .map(|l| l.limit_s()),
            Some(Seconds::new(30))
        );
    }
}
