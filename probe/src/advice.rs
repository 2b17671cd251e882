//! Remediation: which middlebox likely cut an idle connection, and what setting to change.
//!
//! The defaults come from vendors' documentation (docs/sources.md, "Default idle timeouts of
//! common middleboxes"). A bracket only narrows the candidates: the advice names them as likely,
//! never as certain.

use crate::outcome::Outcome;
use crate::seconds::{fmt_s, Seconds};

/// A middlebox with a well-known default idle timeout.
pub struct KnownDefault {
    pub timeout_s: Seconds,
    pub device: &'static str,
    /// How its expiry shows on the wire.
    pub shows_as: &'static [Outcome],
    pub setting: &'static str,
}

use Outcome::{Closed, Reset, SilentDrop};

pub const KNOWN_DEFAULTS: &[KnownDefault] = &[
    KnownDefault {
        timeout_s: Seconds::new(60),
        device: "AWS Application/Classic Load Balancer",
        shows_as: &[Closed],
        setting: "the load balancer's idle timeout",
    },
    KnownDefault {
        timeout_s: Seconds::new(60),
        device: "nginx (proxy_read_timeout)",
        shows_as: &[Closed],
        setting: "proxy_read_timeout",
    },
    KnownDefault {
        timeout_s: Seconds::new(60),
        device: "HAProxy without `timeout tunnel` (falls back to `timeout client`)",
        shows_as: &[Closed],
        setting: "timeout tunnel",
    },
    KnownDefault {
        timeout_s: Seconds::new(85),
        device: "Microsoft Entra application proxy connector",
        shows_as: &[Closed],
        setting: "the back-end timeout (at most 180 s)",
    },
    KnownDefault {
        timeout_s: Seconds::new(120),
        device: "Skyhigh (McAfee) Web Gateway",
        shows_as: &[Closed],
        setting: "the connection/tunnel idle timeout",
    },
    KnownDefault {
        timeout_s: Seconds::new(240),
        device: "Azure Load Balancer, NAT Gateway or Azure Firewall",
        shows_as: &[SilentDrop, Reset],
        setting: "the TCP idle timeout (up to 30 min; enable TCP reset on the load balancer)",
    },
    KnownDefault {
        timeout_s: Seconds::new(270),
        device: "Cloudflare Gateway",
        shows_as: &[Closed],
        setting: "the proxy's idle timeout (TCP keepalives do not help)",
    },
    KnownDefault {
        timeout_s: Seconds::new(300),
        device: "F5 BIG-IP FastL4 profile",
        shows_as: &[Reset],
        setting: "the FastL4 profile's idle timeout",
    },
    KnownDefault {
        timeout_s: Seconds::new(350),
        device: "AWS NAT Gateway, NLB or Network Firewall",
        shows_as: &[Reset, SilentDrop],
        setting: "the idle timeout (fixed on NAT Gateway: use keepalives below 350 s)",
    },
    KnownDefault {
        timeout_s: Seconds::new(600),
        device: "nginx stream (proxy_timeout)",
        shows_as: &[Closed],
        setting: "proxy_timeout",
    },
    KnownDefault {
        timeout_s: Seconds::new(900),
        device: "Squid (read_timeout governs idle CONNECT tunnels)",
        shows_as: &[Closed],
        setting: "read_timeout",
    },
    KnownDefault {
        timeout_s: Seconds::new(1200),
        device: "GCP Cloud NAT",
        shows_as: &[SilentDrop],
        setting: "the established-connection idle timeout",
    },
    KnownDefault {
        timeout_s: Seconds::new(3600),
        device: "Palo Alto, FortiGate, Cisco ASA or Check Point firewall",
        shows_as: &[SilentDrop, Reset],
        setting: "the TCP session idle timeout for TCP 443 to these destinations",
    },
];

/// Middleboxes whose default falls inside `[survived, failed]` (with a second's slack), those
/// whose expiry looks like `failure` first.
pub fn candidates(
    survived_s: Option<Seconds>,
    failed_s: Seconds,
    failure: Outcome,
) -> Vec<&'static KnownDefault> {
    let second = Seconds::new(1);
    let low = survived_s.unwrap_or_default() - second;
    let high = failed_s + second;
    let mut found: Vec<&KnownDefault> = KNOWN_DEFAULTS
        .iter()
        .filter(|k| k.timeout_s > low && k.timeout_s <= high)
        .collect();
    found.sort_by_key(|k| !k.shows_as.contains(&failure));
    found
}

/// What an expiry that looks like `failure` says about the device.
pub fn failure_meaning(failure: Outcome) -> &'static str {
    match failure {
        Outcome::Reset => "a RST: a firewall, NAT or load balancer that resets expired connections",
        Outcome::SilentDrop => "silence: a stateful firewall or NAT that forgot the connection and drops its packets",
        Outcome::Closed => "a TCP FIN without TLS close_notify: a proxy or middlebox that is not the TLS peer closed it",
        Outcome::TlsCloseNotify => "a clean TLS close from the endpoint itself (not a middlebox, unless TLS is intercepted)",
        _ => "an unclassified failure",
    }
}

/// What the advice is measured against: the service's thresholds and the endpoints, named in
/// the run's cloud's own wildcards.
pub struct Needs<'a> {
    pub required_s: Seconds,
    /// The value to configure; without a recommendation, twice the requirement.
    pub recommended_s: Option<Seconds>,
    pub wildcards: &'a [&'a str],
}

impl Needs<'_> {
    fn target_s(&self) -> Seconds {
        self.recommended_s
            .unwrap_or(self.required_s + self.required_s)
    }
}

/// One paragraph: where idle connections die, what likely does it, and what to change.
pub fn idle_advice(
    needs: &Needs<'_>,
    survived_s: Option<Seconds>,
    failed_s: Option<Seconds>,
    failure: Option<Outcome>,
) -> String {
    let required_s = needs.required_s;
    let (Some(failed_s), Some(failure)) = (failed_s, failure) else {
        return match survived_s {
            Some(s) => format!(
                "idle connections survived up to {} s (required {} s): no cutoff found on this path",
                fmt_s(s),
                fmt_s(required_s)
            ),
            None => "no idle connection could be tested".into(),
        };
    };
    let between = match survived_s {
        Some(s) if s < failed_s => format!("between {} and {} s", fmt_s(s), fmt_s(failed_s)),
        _ => format!("by {} s", fmt_s(failed_s)),
    };
    let mut text = format!(
        "idle connections die {between} ({}; seen as {})",
        failure.as_str(),
        failure_meaning(failure)
    );
    let target_s = needs.target_s();
    let found = candidates(survived_s, failed_s, failure);
    if !found.is_empty() {
        let names: Vec<String> = found
            .iter()
            .take(3)
            .map(|k| {
                format!(
                    "{} (default {} s: set {} to {} s or more)",
                    k.device,
                    fmt_s(k.timeout_s),
                    k.setting,
                    fmt_s(target_s)
                )
            })
            .collect();
        text.push_str(&format!(". Likely: {}", names.join("; ")));
    }
    let endpoints = needs.wildcards.join(" and ");
    if failed_s <= required_s {
        text.push_str(&format!(
            ". Password writeback needs idle connections to live at least {} s: raise the idle timeout for TCP 443 to {endpoints} to {} s or more",
            fmt_s(required_s),
            fmt_s(target_s)
        ));
    } else if failed_s < target_s {
        text.push_str(&format!(
            ". That is above the {} s writeback needs, but the margin is thin: {} s or more is advised for TCP 443 to {endpoints}",
            fmt_s(required_s),
            fmt_s(target_s)
        ));
    }
    text
}

/// Idle limits of the far ends writeback talks to, which a test against them cannot see past.
pub const FAR_END_LIMITS: &[(Seconds, &str)] = &[
    (
        Seconds::new(120),
        "IIS closes idle keep-alive connections after 120 s by default",
    ),
    (
        Seconds::new(240),
        "Azure's load balancers drop idle flows after about 4 minutes (240 s)",
    ),
];

/// A far end's known limit inside `[survived, failed]` (with a second's slack), if any.
pub fn far_end_limit(survived_s: Option<Seconds>, failed_s: Seconds) -> Option<&'static str> {
    let second = Seconds::new(1);
    let low = survived_s.unwrap_or_default() - second;
    FAR_END_LIMITS
        .iter()
        .find(|(t, _)| *t > low && *t <= failed_s + second)
        .map(|(_, what)| *what)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(secs: u64) -> Seconds {
        Seconds::new(secs)
    }

    const WRITEBACK: Needs<'static> = Needs {
        required_s: Seconds::new(180),
        recommended_s: Some(Seconds::new(360)),
        wildcards: &[
            "*.servicebus.usgovcloudapi.net",
            "*.passwordreset.microsoftonline.us",
        ],
    };

    #[test]
    fn names_azure_for_a_silent_drop_near_240() {
        let text = idle_advice(&WRITEBACK, Some(s(225)), Some(s(240)), Some(SilentDrop));
        assert!(text.contains("between 225 and 240 s"), "{text}");
        assert!(text.contains("Azure Load Balancer"), "{text}");
        assert!(text.contains("to 360 s or more"), "{text}");
        assert!(text.contains("thin"), "{text}");
        assert!(text.contains("*.servicebus.usgovcloudapi.net"), "{text}");
    }

    #[test]
    fn names_proxies_for_a_fin_near_60_and_says_what_to_change() {
        let text = idle_advice(&WRITEBACK, Some(s(45)), Some(s(60)), Some(Closed));
        assert!(text.contains("nginx"), "{text}");
        assert!(
            text.contains("set proxy_read_timeout to 360 s or more"),
            "{text}"
        );
        assert!(text.contains("at least 180 s"), "{text}");
        let first = candidates(Some(s(45)), s(60), Closed);
        assert!(first[0].shows_as.contains(&Closed));
    }

    #[test]
    fn no_cutoff_is_said_plainly() {
        let text = idle_advice(&WRITEBACK, Some(s(240)), None, None);
        assert!(text.contains("no cutoff"), "{text}");
    }
}
