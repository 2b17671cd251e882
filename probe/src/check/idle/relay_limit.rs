//! The relay's own idle limit on a hybrid connection's listeners. Azure Relay forgets a listener
//! whose control channel has been idle for about four minutes (sources in docs/sources.md): past
//! that, an idle test measures the service, not the customer's path, so on an `hc://` target the
//! ladder stops short of it and says so. A mock-relay run with `--service-idle-limit` announces
//! its own limit in the listener's upgrade answer, and the same rule applies to it.

use crate::cloud::Cloud;

/// Seconds after which Azure Relay loses an idle listener, taken conservatively: Azure's load
/// balancers drop idle flows after 4 minutes by default (their idle timeout); listeners without
/// keep-alive were reported lost at 4 min 10-15 s (azure-relay issue 33); the .NET SDK keeps its
/// listener alive every 3.5 minutes for that reason. See docs/sources.md.
pub const SERVICE_IDLE_LIMIT_S: f64 = 240.0;

/// The listener keep-alive of Microsoft's SDK, in seconds (an unsolicited Pong every 210 s).
pub fn sdk_keepalive_s() -> f64 {
    relay_protocol::hc::SDK_LISTENER_KEEPALIVE.as_secs_f64()
}

/// A relay's idle limit and where the probe knows it from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RelayLimit {
    /// Azure Relay's, known from the namespace's domain.
    Service { limit_s: f64 },
    /// Announced by the relay in the listener's upgrade answer (a mock-relay).
    Announced { limit_s: f64 },
}

impl RelayLimit {
    /// The limit for a relay at `host` that announced `announced` (seconds), if it has one:
    /// what the relay announces wins; a namespace of Azure Relay has the service's.
    pub fn of(host: &str, announced: Option<f64>) -> Option<RelayLimit> {
        if let Some(limit_s) = announced.filter(|s| s.is_finite() && *s > 0.0) {
            return Some(RelayLimit::Announced { limit_s });
        }
        is_azure_relay(host).then_some(RelayLimit::Service {
            limit_s: SERVICE_IDLE_LIMIT_S,
        })
    }

    pub fn limit_s(&self) -> f64 {
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
    pub fn longest_rung_s(&self) -> f64 {
        self.limit_s() - 1.0
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
            Some(RelayLimit::Service { limit_s: 240.0 })
        );
        assert_eq!(
            RelayLimit::of("x.SERVICEBUS.chinacloudapi.cn.", None).map(|l| l.limit_s()),
            Some(240.0)
        );
        assert_eq!(RelayLimit::of("127.0.0.1", None), None);
        assert_eq!(
            RelayLimit::of("servicebus.windows.net.evil.example", None),
            None
        );
        assert_eq!(
            RelayLimit::of("127.0.0.1", Some(4.5)),
            Some(RelayLimit::Announced { limit_s: 4.5 })
        );
        assert_eq!(
            RelayLimit::of("contoso.servicebus.windows.net", Some(30.0)).map(|l| l.limit_s()),
            Some(30.0)
        );
    }
}
