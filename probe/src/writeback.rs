//! What writeback would see: the idle bracket of a one-shot run translated into the share of
//! password resets that would fail. A model, written down here and in the README; no I/O.
//!
//! Writeback's listener keeps one connection to the relay open, and the relay pushes each reset
//! request down it. The model:
//!
//! - The listener sends a keep-alive every [`KEEPALIVE`] (the relay SDK's 210 s) after its last
//!   traffic. A keep-alive is application data: it refreshes NATs, firewalls and proxies alike,
//!   so a path that cuts idle connections only after longer than that never cuts the listener.
//! - A path that cuts sooner (after `cut` seconds idle) cuts it every cycle, and the listener is
//!   dead until it notices and reopens (about [`REOPEN`]). How long it stays unnoticed depends
//!   on the kind of cut:
//!   - a RST or FIN the path sends by itself at the cut (a proxy's FIN, a proactive RST): at
//!     once;
//!   - a RST sent only in answer to the next packet (a NAT that forgot the mapping): at the
//!     listener's next send, its keep-alive, `210 - cut` s later;
//!   - a silent drop: the keep-alive goes out and nothing answers it (the SDK's keep-alive is an
//!     unsolicited WebSocket Pong); writeback notices at its next heartbeat, every
//!     [`HEARTBEAT`] (5 minutes), so `300 - cut` s later. (The keep-alive's retransmissions end
//!     the connection too once the OS gives up, minutes later on a default Windows: not counted.)
//! - Reset requests come at random times, rare next to the cycle (a few an hour), so the share
//!   that fails is the share of time the listener is dead: `(unnoticed + reopen) / cycle`.
//!
//! Writeback shortens its own ping interval (to 60 s at the most) once it sees connections
//! killed; the model leaves that out, so it describes a listener before it adapts.
//!
//! The idle check brackets the cut between the longest period that survived and the shortest
//! that failed; the share is given for both ends.

use crate::outcome::Outcome;
pub use crate::result::{Detection, WritebackImpact};
use crate::seconds::Seconds;

/// The relay SDK's listener keep-alive interval.
pub const KEEPALIVE: Seconds = Seconds::new(210);
/// Writeback's heartbeat interval.
pub const HEARTBEAT: Seconds = Seconds::new(300);
/// How long a listener takes to reopen once it knows (the SDK's first retry is immediate).
pub const REOPEN: Seconds = Seconds::new(1);

/// How the path cut, from the idle check's failure and whether the RST or FIN came by itself.
pub fn detection(failure: Option<Outcome>, unprompted: bool) -> Detection {
    match failure {
        Some(Outcome::Reset | Outcome::Closed | Outcome::TlsCloseNotify) if unprompted => {
            Detection::AtOnce
        }
        // A proxy's FIN or an endpoint's close is sent at the cut, not in answer.
        Some(Outcome::Closed | Outcome::TlsCloseNotify) => Detection::AtOnce,
        Some(Outcome::Reset) => Detection::NextKeepalive,
        _ => Detection::NextHeartbeat,
    }
}

/// For a cut after `cut` idle noticed by `how`: how long each cut goes unnoticed, and the
/// share of time (0..=1) the listener is dead.
pub fn dead_share(cut: Seconds, how: Detection) -> (Seconds, f64) {
    if cut > KEEPALIVE || how == Detection::NotCut {
        return (Seconds::ZERO, 0.0);
    }
    let (unnoticed, cycle) = match how {
        Detection::NotCut => unreachable!("returned above"),
        Detection::AtOnce => (Seconds::ZERO, cut),
        Detection::NextKeepalive => (KEEPALIVE - cut, KEEPALIVE),
        // Reopened at a heartbeat, cut `cut` later, noticed at the next heartbeat.
        Detection::NextHeartbeat => {
            let next = next_heartbeat(cut);
            (next - cut, next)
        }
    };
    let share = (unnoticed + REOPEN).as_f64() / (cycle + REOPEN).as_f64();
    (unnoticed, share)
}

/// The first heartbeat at or after `cut` (at least the first).
fn next_heartbeat(cut: Seconds) -> Seconds {
    let beat = HEARTBEAT.duration().as_nanos();
    let beats = cut.duration().as_nanos().div_ceil(beat).max(1);
    let nanos = u64::try_from(beats * beat).unwrap_or(u64::MAX);
    Seconds::from(std::time::Duration::from_nanos(nanos))
}

/// The impact of an idle bracket (`survived` < cut <= `failed`); `None` when the ladder
/// neither found a cut nor reached past the keep-alive interval (it cannot say).
pub fn impact(
    survived: Option<Seconds>,
    failed: Option<Seconds>,
    failure: Option<Outcome>,
    unprompted: bool,
) -> Option<WritebackImpact> {
    let Some(failed) = failed else {
        let lived = survived.filter(|s| *s >= KEEPALIVE)?;
        return Some(WritebackImpact {
            detection: Detection::NotCut,
            failing_pct_low: 0.0,
            failing_pct_high: 0.0,
            undetected_s: Seconds::ZERO,
            summary: format!(
                "idle connections lived {lived} s, past the listener's {KEEPALIVE} s keep-alive: no password reset would fail for an idle cut"
            ),
        });
    };
    let how = detection(failure, unprompted);
    // The cut lies just above the survived period at worst, at the failed one at best.
    let worst_cut = survived.map_or(Seconds::ZERO, |s| s.min(failed));
    let (_, low) = dead_share(failed, how);
    let (undetected_s, high) = dead_share(worst_cut, how);
    let (low, high) = (percent(low), percent(high));
    let cut = match survived {
        Some(s) if s < failed => format!("{s}-{failed} s"),
        Some(_) => format!("{failed} s"),
        None => format!("{failed} s or sooner"),
    };
    let kind = match (how, failure) {
        (Detection::AtOnce, Some(Outcome::Reset)) => "a reset sent at the cut",
        (Detection::AtOnce, Some(Outcome::TlsCloseNotify)) => "the endpoint's clean close",
        (Detection::AtOnce, _) => "a close (FIN) sent at the cut",
        (Detection::NextKeepalive, _) => "a reset that answers the next packet",
        _ => "a silent drop",
    };
    let why = match how {
        Detection::NotCut => String::new(),
        Detection::AtOnce => {
            format!("the listener sees the cut and reopens (about {REOPEN} s)")
        }
        Detection::NextKeepalive => format!(
            "a dead listener goes unnoticed until its next {KEEPALIVE} s keep-alive, up to {undetected_s} s"
        ),
        Detection::NextHeartbeat => format!(
            "a dead listener goes unnoticed until writeback's next {}-minute heartbeat, up to {undetected_s} s",
            HEARTBEAT.duration().as_secs() / 60
        ),
    };
    let pct = if fmt_pct(low) == fmt_pct(high) {
        fmt_pct(high)
    } else {
        format!("{}-{}", fmt_pct(low), fmt_pct(high))
    };
    let summary = if high == 0.0 {
        format!(
            "with idle connections cut at {cut} by {kind}, past the listener's {KEEPALIVE} s keep-alive, no password reset would fail for an idle cut"
        )
    } else {
        format!("with idle connections cut at {cut} by {kind}, about {pct} % of password resets would fail: {why}")
    };
    Some(WritebackImpact {
        detection: if high == 0.0 { Detection::NotCut } else { how },
        failing_pct_low: low,
        failing_pct_high: high,
        undetected_s,
        summary,
    })
}

/// A share as a percentage with one decimal.
fn percent(share: f64) -> f64 {
    (share * 1000.0).round() / 10.0
}

/// `60`, `0.8`, `under 0.1`.
fn fmt_pct(p: f64) -> String {
    if p >= 10.0 {
        format!("{p:.0}")
    } else if p > 0.0 {
        format!("{p:.1}")
    } else {
        "0".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: f64) -> Seconds {
        Seconds::from_f64(v)
    }

    #[test]
    fn a_cut_beyond_the_keepalive_never_reaches_the_listener() {
        for how in [
            Detection::AtOnce,
            Detection::NextKeepalive,
            Detection::NextHeartbeat,
        ] {
            assert_eq!(dead_share(s(211.0), how), (Seconds::ZERO, 0.0));
        }
        let i = impact(Some(s(360.0)), None, None, false).unwrap();
        assert_eq!((i.detection, i.failing_pct_high), (Detection::NotCut, 0.0));
        assert!(
            i.summary.contains("no password reset would fail"),
            "{}",
            i.summary
        );
        // Nothing cut, but the ladder stopped short of the keep-alive: it cannot say.
        assert!(impact(Some(s(180.0)), None, None, false).is_none());
    }

    #[test]
    fn a_silent_drop_at_120_s_goes_unnoticed_until_the_heartbeat() {
        // Reopened at a heartbeat, dead from 120 s to the next heartbeat at 300 s.
        let (unnoticed, share) = dead_share(s(120.0), Detection::NextHeartbeat);
        assert_eq!(unnoticed, Seconds::new(180));
        assert!((share - 181.0 / 301.0).abs() < 1e-9);
        let i = impact(
            Some(s(105.0)),
            Some(s(120.0)),
            Some(Outcome::SilentDrop),
            false,
        )
        .unwrap();
        assert_eq!(i.detection, Detection::NextHeartbeat);
        assert_eq!((i.failing_pct_low, i.failing_pct_high), (60.1, 65.1));
        assert_eq!(i.undetected_s, Seconds::new(195));
        assert_eq!(
            i.summary,
            "with idle connections cut at 105-120 s by a silent drop, about 60-65 % of password resets would fail: a dead listener goes unnoticed until writeback's next 5-minute heartbeat, up to 195 s"
        );
    }

    #[test]
    fn a_lazy_reset_is_seen_at_the_next_keepalive() {
        let (unnoticed, share) = dead_share(s(120.0), Detection::NextKeepalive);
        assert_eq!(unnoticed, Seconds::new(90));
        assert!((share - 91.0 / 211.0).abs() < 1e-9);
        assert_eq!(
            detection(Some(Outcome::Reset), false),
            Detection::NextKeepalive
        );
    }

    #[test]
    fn a_cut_the_path_announces_costs_only_the_reopen() {
        assert_eq!(detection(Some(Outcome::Reset), true), Detection::AtOnce);
        assert_eq!(detection(Some(Outcome::Closed), false), Detection::AtOnce);
        let i = impact(Some(s(105.0)), Some(s(120.0)), Some(Outcome::Closed), false).unwrap();
        assert_eq!((i.failing_pct_low, i.failing_pct_high), (0.8, 0.9));
        assert!(i.summary.contains("about 0.8-0.9 %"), "{}", i.summary);
        assert!(i.summary.contains("a close (FIN)"), "{}", i.summary);
    }

    #[test]
    fn the_shorter_the_cut_the_more_fails() {
        for how in [
            Detection::AtOnce,
            Detection::NextKeepalive,
            Detection::NextHeartbeat,
        ] {
            let mut last = 1.0;
            for cut in [1.0, 30.0, 60.0, 120.0, 180.0, 210.0] {
                let (_, share) = dead_share(s(cut), how);
                assert!(share <= last && share > 0.0, "{how:?} {cut}: {share}");
                last = share;
            }
        }
    }

    #[test]
    fn a_bracket_straddling_the_keepalive_ranges_from_none() {
        let i = impact(
            Some(s(180.0)),
            Some(s(240.0)),
            Some(Outcome::SilentDrop),
            false,
        )
        .unwrap();
        assert_eq!(i.failing_pct_low, 0.0);
        assert!(i.failing_pct_high > 35.0, "{i:?}");
        assert!(i.summary.contains("about 0-40 %"), "{}", i.summary);
    }

    #[test]
    fn even_the_shortest_period_failed() {
        let i = impact(None, Some(s(30.0)), Some(Outcome::SilentDrop), false).unwrap();
        assert!(i.summary.contains("cut at 30 s or sooner"), "{}", i.summary);
        assert!(i.failing_pct_high > 99.0, "{i:?}");
    }
}
