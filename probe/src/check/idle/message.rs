//! The idle check's message, written from typed parts: the finding, the advice, what the
//! keepalive and heartbeat variants say about the layer of the cutoff, connections that could not
//! be opened, and endings that arrived unprompted.

use super::attribution::Finding;
use super::relay_limit::{sdk_keepalive, RelayLimit};
use crate::outcome::Outcome;
use crate::result::{ControlReport, HcLadder, SenderView, Variant, VariantReport};
use crate::seconds::{fmt_s, Seconds};
use std::fmt;

/// Where the cutoff sits, from the variants held beside the ladder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Layer {
    /// TCP keepalives kept a connection alive: a NAT or stateful firewall.
    Four {
        keepalive_s: Seconds,
        held_s: Seconds,
    },
    /// Only application heartbeats did: a proxy counting payload bytes.
    Seven { heartbeat_s: Seconds },
    /// Neither did: connection lifetime is limited, not just idle time.
    Lifetime {
        heartbeat_s: Seconds,
        held_s: Seconds,
    },
}

/// What the keepalive and heartbeat variants say, when both ran past the cutoff.
pub fn layer(variants: &[VariantReport], failed_s: Option<Seconds>) -> Option<Layer> {
    let failed_s = failed_s?;
    let find = |v| variants.iter().find(|r| r.variant == v);
    let (keepalive, heartbeat) = (find(Variant::TcpKeepalive)?, find(Variant::Heartbeat)?);
    if keepalive.idle_s < failed_s || keepalive.error.is_some() || heartbeat.error.is_some() {
        return None;
    }
    let alive = |v: &VariantReport| v.outcome == Outcome::Survived;
    Some(match (alive(keepalive), alive(heartbeat)) {
        (true, _) => Layer::Four {
            keepalive_s: keepalive.interval_s,
            held_s: keepalive.idle_s,
        },
        (false, true) => Layer::Seven {
            heartbeat_s: heartbeat.interval_s,
        },
        (false, false) => Layer::Lifetime {
            heartbeat_s: heartbeat.interval_s,
            held_s: heartbeat.idle_s,
        },
    })
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Layer::Four { keepalive_s, held_s } => write!(
                f,
                "Yet TCP keepalives every {} s kept a connection alive for {} s: the cutoff is at layer 4 (a NAT or stateful firewall); keepalives work around it, raising its idle timeout fixes it",
                fmt_s(keepalive_s),
                fmt_s(held_s)
            ),
            Layer::Seven { heartbeat_s } => write!(
                f,
                "Only application heartbeats (every {} s) kept a connection alive: the cutoff is at layer 7 (a proxy that counts payload bytes, not TCP keepalives)",
                fmt_s(heartbeat_s)
            ),
            Layer::Lifetime { heartbeat_s, held_s } => write!(
                f,
                "Neither TCP keepalives nor heartbeats every {} s kept a connection alive for {} s: something limits connection lifetime, not just idle time",
                fmt_s(heartbeat_s),
                fmt_s(held_s)
            ),
        }
    }
}

/// Everything the message says, as data.
pub struct IdleMessage<'a> {
    pub finding: &'a Finding,
    /// The far end's host, for a limit of its own.
    pub host: &'a str,
    pub required_s: Seconds,
    /// The recommendation above the pass line, and where it comes from.
    pub recommended: Option<(Seconds, Option<&'a str>)>,
    /// The longest idle period that survived.
    pub survived_s: Option<Seconds>,
    /// The longest idle period of the ladder.
    pub max_s: Seconds,
    /// Where idle connections die and what to change (`advice::idle_advice`).
    pub advice: &'a str,
    /// Whether some idle period failed at all.
    pub cut_somewhere: bool,
    pub control: &'a ControlReport,
    pub layer: Option<Layer>,
    /// Idle periods whose connection could not be set up, with why.
    pub setup_failures: &'a [(Seconds, String)],
    /// Endings (outcome, seconds idle) that arrived while a connection was idle.
    pub unprompted: &'a [(Outcome, Seconds)],
    /// How a hybrid connection's listeners were laid over its entities.
    pub hc_ladder: Option<&'a HcLadder>,
    /// The sender of the shortest failed hybrid connection rung, and its idle period.
    pub failed_sender: Option<(Seconds, &'a SenderView)>,
    /// `--idle-variants` was asked for but cannot run here.
    pub variants_skipped: bool,
    /// The far end's announced idle limit that capped the ladder (when it did not decide).
    pub endpoint_cap_s: Option<Seconds>,
    /// A known idle limit of a far end that is not ours, within the bracket.
    pub far_end_limit: Option<&'a str>,
    /// Connections that contradict the cut: `(idle period, outcome)`.
    pub unstable: &'a [(Seconds, Outcome)],
    /// A hybrid connection's relay's own idle limit on listeners, if it has one.
    pub relay: Option<RelayLimit>,
    /// The connections go through a proxy (which acknowledges the listener's Pongs itself).
    pub via_proxy: bool,
}

impl fmt::Display for IdleMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.sentences().join(". "))
    }
}

impl IdleMessage<'_> {
    /// The message as sentences: the finding first, then every remark that applies, in order.
    pub fn sentences(&self) -> Vec<String> {
        let remarks = [
            self.short_of_recommendation(),
            self.layer.map(|layer| layer.to_string()),
            self.unstable(),
            self.far_end_limit(),
            self.endpoint_cap(),
            self.listener_direction(),
            self.failed_sender(),
            self.hc_layout(),
            self.variants_skipped(),
            self.setup_failures(),
            self.unprompted(),
        ];
        std::iter::once(self.finding())
            .chain(remarks.into_iter().flatten())
            .collect()
    }

    /// What the ladder found, with the advice.
    fn finding(&self) -> String {
        let advice = self.advice;
        match self.finding {
            Finding::EndpointLimit { after_s } => format!(
                "{} itself closes idle connections cleanly (TLS close_notify) by {} s: a server keep-alive limit, not a middlebox, so longer idle periods cannot be tested against it (none was cut before). For the full ladder, rehearse against a mock-relay beyond the firewall",
                self.host,
                fmt_s(*after_s)
            ),
            Finding::Holds if !self.cut_somewhere => format!("{advice}, in every direction checked"),
            Finding::Holds => format!(
                "idle connections survive the {} s required, but {advice}",
                fmt_s(self.required_s)
            ),
            Finding::CutOff => advice.to_string(),
            Finding::NothingOpened => format!(
                "no idle test connection could be opened: {}",
                self.setup_failures
                    .first()
                    .map(|s| s.1.as_str())
                    .unwrap_or("unknown reason")
            ),
            Finding::ControlFailed => format!(
                "the control connection, active all along, failed too ({} after {} s): the path or the server broke, so no idle timer can be judged; {advice}",
                self.control.outcome,
                fmt_s(self.control.failed_after_s.unwrap_or_default())
            ),
            Finding::ControlClosedByEndpoint => format!(
                "{} itself closed even the active control connection, cleanly (TLS close_notify after {} s): a server limit ended the test, not the path, so no idle timer can be judged. Test the idle path with a hybrid connection (--hybrid-connection) or a mock-relay beyond the firewall",
                self.host,
                fmt_s(self.control.failed_after_s.unwrap_or_default())
            ),
            Finding::EndpointCapped { limit_s } => format!(
                "{} announces that it closes idle connections after {} s (Keep-Alive: timeout), short of the {} s required, so the ladder stopped there ({advice}). Test the idle path with a hybrid connection (--hybrid-connection) or a mock-relay beyond the firewall",
                self.host,
                fmt_s(*limit_s),
                fmt_s(self.required_s)
            ),
            Finding::RelayCapped { limit_s, holds } => self.relay_capped(*limit_s, *holds).join(". "),
            Finding::LadderTooShort => format!(
                "the ladder stopped at {} s, short of the {} s required: raise --idle-max",
                fmt_s(self.max_s),
                fmt_s(self.required_s)
            ),
        }
    }

    /// The relay's own limit stopped the ladder: what that leaves tested, and what the SDK needs.
    fn relay_capped(&self, limit_s: Seconds, holds: bool) -> [String; 3] {
        let source = self.relay.map_or("", |r| r.source());
        let longest = self
            .survived_s
            .map_or_else(|| "none".to_string(), |s| format!("{} s", fmt_s(s)));
        let required = fmt_s(self.required_s);
        let reach = if holds {
            format!(", the {required} s required included")
        } else {
            format!(", short of the {required} s required, which the relay's own limit leaves untestable here")
        };
        let sdk = sdk_keepalive();
        let serves = if self.survived_s.is_some_and(|s| s >= sdk) {
            ": this one does".to_string()
        } else {
            format!("; this ladder did not reach {} s", fmt_s(sdk))
        };
        [
            format!(
                "the relay itself forgets listeners idle for {} s ({source}), so the ladder stopped short of that: an idle cut there or beyond is the relay's own limit, not this network's. Longest idle period survived: {longest}{reach}",
                fmt_s(limit_s)
            ),
            format!(
                "Microsoft's SDK keeps its listener alive every {} s, so a path that keeps idle connections beyond that serves writeback{serves}",
                fmt_s(sdk)
            ),
            format!(
                "To test idle periods above {} s, rehearse against a mock-relay beyond the firewall (without --service-idle-limit)",
                fmt_s(limit_s)
            ),
        ]
    }

    /// The path holds the requirement but was not seen to reach the recommendation.
    fn short_of_recommendation(&self) -> Option<String> {
        let (Finding::Holds, Some((recommended_s, source))) = (self.finding, self.recommended)
        else {
            return None;
        };
        if self.survived_s.is_some_and(|s| s >= recommended_s) {
            return None;
        }
        let tested = if self.cut_somewhere {
            "they do not reach"
        } else {
            "the ladder did not test up to"
        };
        let source = source.map(|s| format!(" ({s})")).unwrap_or_default();
        Some(format!(
            "Yet {tested} the {} s recommended{source}",
            fmt_s(recommended_s)
        ))
    }

    /// Connections that contradict the cut.
    fn unstable(&self) -> Option<String> {
        if self.unstable.is_empty() {
            return None;
        }
        let list: Vec<String> = self
            .unstable
            .iter()
            .take(4)
            .map(|(idle, o)| format!("{} s {o}", fmt_s(*idle)))
            .collect();
        Some(format!(
            "Unstable: {} contradicted the others (a lossy path, or a device that is not a plain idle timer); the verdict rests on the consistent connections",
            list.join(", ")
        ))
    }

    /// A known limit of a far end that is not ours falls within the bracket.
    fn far_end_limit(&self) -> Option<String> {
        self.far_end_limit.map(|limit| format!("The far end's own limit falls there too ({limit}): the cause may be the far end, not this network; confirm with a hybrid connection (--hybrid-connection) or a mock-relay beyond the firewall"))
    }

    /// The endpoint's announced limit capped the ladder without deciding the finding.
    fn endpoint_cap(&self) -> Option<String> {
        if matches!(self.finding, Finding::EndpointCapped { .. }) {
            return None;
        }
        self.endpoint_cap_s.map(|cap_s| {
            format!(
                "{} announces that it closes idle connections after {} s (Keep-Alive: timeout): the ladder stopped short of that",
                self.host,
                fmt_s(cap_s)
            )
        })
    }

    /// How far the listener -> relay direction of a hybrid connection could be judged here.
    fn listener_direction(&self) -> Option<String> {
        self.hc_ladder?;
        if !crate::net::tcp_info::SUPPORTED {
            Some("On this platform the kernel's acknowledgement is not read: the listener -> relay direction (an unsolicited Pong, as the SDK's keep-alive) is judged only by the absence of a reset or close".to_string())
        } else if self.via_proxy {
            Some("The listener -> relay direction is judged by the kernel's acknowledgement of an unsolicited Pong: through a proxy that acknowledges itself, it shows only that the proxy is still there".to_string())
        } else {
            None
        }
    }

    /// How the sender of the shortest failed hybrid connection rung fared.
    fn failed_sender(&self) -> Option<String> {
        let (idle_s, sender) = self.failed_sender?;
        let status = sender
            .status_code
            .map(|c| format!(" ({c})"))
            .unwrap_or_default();
        Some(format!(
            "The sender sent after {} s: {}{status} after {} s",
            fmt_s(idle_s),
            sender.outcome,
            fmt_s(sender.after_s)
        ))
    }

    /// How a hybrid connection's listeners were laid over its entities.
    fn hc_layout(&self) -> Option<String> {
        let ladder = self.hc_ladder?;
        Some(if ladder.rungs <= 1 && ladder.entities <= 1 {
            format!(
                "One entity: one listener tested at the required {} s (each more entity, with --hc-entity, adds a rung to a parallel ladder)",
                fmt_s(self.required_s)
            )
        } else {
            format!(
                "{} entities: {} listener(s) idle in parallel, the control listener on {}",
                ladder.entities, ladder.rungs, ladder.control_entity
            )
        })
    }

    fn variants_skipped(&self) -> Option<String> {
        self.variants_skipped.then(|| {
            "--idle-variants needs connections of its own and is not run against a hybrid connection".to_string()
        })
    }

    /// Connections that could not be opened (when some others were).
    fn setup_failures(&self) -> Option<String> {
        if *self.finding == Finding::NothingOpened {
            return None;
        }
        let (_, first) = self.setup_failures.first()?;
        Some(format!(
            "{} test connection(s) could not be opened (first: {first})",
            self.setup_failures.len()
        ))
    }

    /// Endings that arrived while a connection was idle.
    fn unprompted(&self) -> Option<String> {
        if self.unprompted.is_empty() {
            return None;
        }
        let list: Vec<String> = self
            .unprompted
            .iter()
            .take(3)
            .map(|(o, t)| format!("{o} at {} s", fmt_s(*t)))
            .collect();
        Some(format!(
            "Arrived unprompted while idle: {}",
            list.join(", ")
        ))
    }
}
