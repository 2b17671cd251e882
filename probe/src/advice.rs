//! Remediation: which middlebox likely cut an idle connection, and what setting to change.
//!
//! The defaults come from vendors' documentation (docs/sources.md, "Default idle timeouts of
//! common middleboxes"). A bracket only narrows the candidates: the advice names them as likely,
//! never as certain.

use crate::outcome::Outcome;

/// A middlebox with a well-known default idle timeout.
pub struct KnownDefault {
    pub timeout_s: f64,
    pub device: &'static str,
    /// How its expiry shows on the wire.
    pub shows_as: &'static [Outcome],
    pub setting: &'static str,
}

use Outcome::{Closed, Reset, SilentDrop};

pub const KNOWN_DEFAULTS: &[KnownDefault] = &[
    KnownDefault {
        timeout_s: 60.0,
        device: "AWS Application/Classic Load Balancer",
        shows_as: &[Closed],
        setting: "the load balancer's idle timeout",
    },
    KnownDefault {
        timeout_s: 60.0,
        device: "nginx (proxy_read_timeout)",
        shows_as: &[Closed],
        setting: "proxy_read_timeout",
    },
    KnownDefault {
        timeout_s: 60.0,
        device: "HAProxy without `timeout tunnel` (falls back to `timeout client`)",
        shows_as: &[Closed],
        setting: "timeout tunnel",
    },
    KnownDefault {
        timeout_s: 85.0,
        device: "Microsoft Entra application proxy connector",
        shows_as: &[Closed],
        setting: "the back-end timeout (at most 180 s)",
    },
    KnownDefault {
        timeout_s: 120.0,
        device: "Skyhigh (McAfee) Web Gateway",
        shows_as: &[Closed],
        setting: "the connection/tunnel idle timeout",
    },
    KnownDefault {
        timeout_s: 240.0,
        device: "Azure Load Balancer, NAT Gateway or Azure Firewall",
        shows_as: &[SilentDrop, Reset],
        setting: "the TCP idle timeout (up to 30 min; enable TCP reset on the load balancer)",
    },
    KnownDefault {
        timeout_s: 270.0,
        device: "Cloudflare Gateway",
        shows_as: &[Closed],
        setting: "the proxy's idle timeout (TCP keepalives do not help)",
    },
    KnownDefault {
        timeout_s: 300.0,
        device: "F5 BIG-IP FastL4 profile",
        shows_as: &[Reset],
        setting: "the FastL4 profile's idle timeout",
    },
    KnownDefault {
        timeout_s: 350.0,
        device: "AWS NAT Gateway, NLB or Network Firewall",
        shows_as: &[Reset, SilentDrop],
        setting: "the idle timeout (fixed on NAT Gateway: use keepalives below 350 s)",
    },
    KnownDefault {
        timeout_s: 600.0,
        device: "nginx stream (proxy_timeout)",
        shows_as: &[Closed],
        setting: "proxy_timeout",
    },
    KnownDefault {
        timeout_s: 900.0,
        device: "Squid (read_timeout governs idle CONNECT tunnels)",
        shows_as: &[Closed],
        setting: "read_timeout",
    },
    KnownDefault {
        timeout_s: 1200.0,
        device: "GCP Cloud NAT",
        shows_as: &[SilentDrop],
        setting: "the established-connection idle timeout",
    },
    KnownDefault {
        timeout_s: 3600.0,
        device: "Palo Alto, FortiGate, Cisco ASA or Check Point firewall",
        shows_as: &[SilentDrop, Reset],
        setting: "the TCP session idle timeout for TCP 443 to these destinations",
    },
];

/// Middleboxes whose default falls inside `[survived, failed]` (with a second's slack), those
/// whose expiry looks like `failure` first.
pub fn candidates(
    survived_s: Option<f64>,
    failed_s: f64,
    failure: Outcome,
) -> Vec<&'static KnownDefault> {
    let low = survived_s.unwrap_or(0.0) - 1.0;
    let high = failed_s + 1.0;
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
    pub required_s: f64,
    /// The value to configure; without a recommendation, twice the requirement.
    pub recommended_s: Option<f64>,
    pub wildcards: &'a [&'a str],
}

impl Needs<'_> {
    fn target_s(&self) -> f64 {
        self.recommended_s.unwrap_or(self.required_s * 2.0)
    }
}

/// One paragraph: where idle connections die, what likely does it, and what to change.
pub fn idle_advice(
    needs: &Needs<'_>,
    survived_s: Option<f64>,
    failed_s: Option<f64>,
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
pub const FAR_END_LIMITS: &[(f64, &str)] = &[
    (
        120.0,
        "IIS closes idle keep-alive connections after 120 s by default",
    ),
    (
        240.0,
        "Azure's load balancers drop idle flows after about 4 minutes (240 s)",
    ),
];

/// A far end's known limit inside `[survived, failed]` (with a second's slack), if any.
pub fn far_end_limit(survived_s: Option<f64>, failed_s: f64) -> Option<&'static str> {
    let low = survived_s.unwrap_or(0.0) - 1.0;
    FAR_END_LIMITS
        .iter()
        .find(|(t, _)| *t > low && *t <= failed_s + 1.0)
        .map(|(_, what)| *what)
}

/// Seconds without a needless `.0`.
pub fn fmt_s(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRITEBACK: Needs<'static> = Needs {
        required_s: 180.0,
        recommended_s: Some(360.0),
        wildcards: &[
            "*.servicebus.usgovcloudapi.net",
            "*.passwordreset.microsoftonline.us",
        ],
    };

    #[test]
    fn names_azure_for_a_silent_drop_near_240() {
        let text = idle_advice(&WRITEBACK, Some(225.0), Some(240.0), Some(SilentDrop));
        assert!(text.contains("between 225 and 240 s"), "{text}");
        assert!(text.contains("Azure Load Balancer"), "{text}");
        assert!(text.contains("to 360 s or more"), "{text}");
        assert!(text.contains("thin"), "{text}");
        assert!(text.contains("*.servicebus.usgovcloudapi.net"), "{text}");
    }

    #[test]
    fn names_proxies_for_a_fin_near_60_and_says_what_to_change() {
        let text = idle_advice(&WRITEBACK, Some(45.0), Some(60.0), Some(Closed));
        assert!(text.contains("nginx"), "{text}");
        assert!(
            text.contains("set proxy_read_timeout to 360 s or more"),
            "{text}"
        );
        assert!(text.contains("at least 180 s"), "{text}");
        let first = candidates(Some(45.0), 60.0, Closed);
        assert!(first[0].shows_as.contains(&Closed));
    }

    #[test]
    fn no_cutoff_is_said_plainly() {
        let text = idle_advice(&WRITEBACK, Some(240.0), None, None);
        assert!(text.contains("no cutoff"), "{text}");
    }
}
