//! Router firewall profiles in nftables, on the router's forward chain.
//!
//! Idle expiry uses a conntrack timeout policy: a `ct timeout` object with `established = T`,
//! attached to each new TCP connection by `ct timeout set` in the forward chain. (On this kernel
//! the attach must run after conntrack has made the entry, so it cannot sit in a raw-priority
//! prerouting chain: there it is silently ignored.) `nf_conntrack_tcp_loose` is set to 0 in the
//! router so a mid-stream packet after expiry is INVALID instead of starting a new entry;
//! INVALID is then dropped (silent) or answered with a TCP reset.

use super::netns::Netns;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

/// One rule of a router profile. Combine several in [`super::Topology::apply`]; at most one
/// idle rule (`BlackholeAfter` or `ResetAfter`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Conntrack forgets an established TCP connection idle for this long; later packets are
    /// dropped (silent expiry, like Azure LB or a firewall).
    BlackholeAfter(Duration),
    /// As `BlackholeAfter`, but later packets get a TCP reset (lazy RST, like a NAT gateway).
    ResetAfter(Duration),
    /// SYNs to this TCP port are dropped (connect times out).
    BlockPort(u16),
    /// SYNs to this TCP port are answered with a TCP reset (connect refused).
    RejectPort(u16),
    /// Nothing is forwarded: the client reaches the outside only through a service in the
    /// router namespace (e.g. a proxy).
    ForwardNothing,
    /// Every forwarded packet, either way, is dropped with this probability in percent (a lossy
    /// WAN link); before every other rule.
    Loss(u8),
}

/// Idle connections go silent after `t` (whole seconds, at least 1).
pub fn blackhole_after(t: Duration) -> Rule {
    Rule::BlackholeAfter(t)
}

/// Idle connections get a TCP reset on their next packet after `t`.
pub fn reset_after(t: Duration) -> Rule {
    Rule::ResetAfter(t)
}

/// Connections to `port` time out.
pub fn block_port(port: u16) -> Rule {
    Rule::BlockPort(port)
}

/// Connections to `port` are refused.
pub fn reject_port(port: u16) -> Rule {
    Rule::RejectPort(port)
}

/// Forwarded packets are lost at random, `percent` of them, both ways.
pub fn loss(percent: u8) -> Rule {
    assert!(percent < 100, "a loss rate below 100 %");
    Rule::Loss(percent)
}

/// The client can leave only through a proxy in the router namespace.
pub fn forward_nothing() -> Rule {
    Rule::ForwardNothing
}

const TABLE: &str = "e2elab";

/// The nft script that replaces the lab table with `rules`.
pub fn ruleset(rules: &[Rule]) -> String {
    let idle: Vec<(u64, bool)> = rules
        .iter()
        .filter_map(|r| match r {
            Rule::BlackholeAfter(t) => Some((whole_seconds(*t), false)),
            Rule::ResetAfter(t) => Some((whole_seconds(*t), true)),
            _ => None,
        })
        .collect();
    assert!(idle.len() <= 1, "at most one idle rule: {rules:?}");
    // Declaring then deleting makes the script work whether or not the table exists.
    let mut s = format!("table inet {TABLE} {{}}\ndelete table inet {TABLE}\n");
    if rules.is_empty() {
        return s;
    }
    let _ = writeln!(s, "table inet {TABLE} {{");
    if let Some((secs, _)) = idle.first() {
        let _ = writeln!(
            s,
            "  ct timeout idle {{\n    protocol tcp;\n    l3proto ip;\n    policy = {{ established: {secs} }};\n  }}"
        );
    }
    let _ = writeln!(
        s,
        "  chain lab_forward {{\n    type filter hook forward priority filter; policy accept;"
    );
    for rule in rules {
        if let Rule::Loss(percent) = rule {
            let _ = writeln!(s, "    numgen random mod 100 < {percent} counter drop");
        }
    }
    for rule in rules {
        match rule {
            Rule::BlockPort(p) => {
                let _ = writeln!(s, "    tcp dport {p} counter drop");
            }
            Rule::RejectPort(p) => {
                let _ = writeln!(s, "    tcp dport {p} counter reject with tcp reset");
            }
            _ => {}
        }
    }
    if let Some((_, reset)) = idle.first() {
        if *reset {
            let _ = writeln!(
                s,
                "    ct state invalid meta l4proto tcp counter reject with tcp reset"
            );
        }
        let _ = writeln!(s, "    ct state invalid counter drop");
        let _ = writeln!(
            s,
            "    ct state new meta l4proto tcp ct timeout set \"idle\""
        );
    }
    if rules.contains(&Rule::ForwardNothing) {
        let _ = writeln!(s, "    counter drop");
    }
    let _ = writeln!(s, "  }}\n}}");
    s
}

/// Loads `rules` into the router namespace `ns` (replacing earlier ones).
pub fn apply(ns: &Netns, rules: &[Rule]) {
    ns.sysctl("net.netfilter.nf_conntrack_tcp_loose", "0");
    let script = ruleset(rules);
    let mut child = ns
        .site()
        .command(super::tools::require("nft"))
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn nft");
    child
        .stdin
        .take()
        .expect("nft stdin")
        .write_all(script.as_bytes())
        .expect("write nft script");
    let out = child.wait_with_output().expect("wait for nft");
    assert!(
        out.status.success(),
        "nft rejected the ruleset ({}): {}\n{script}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The router's current ruleset with counters (for failure messages).
pub fn listing(ns: &Netns) -> String {
    ns.site().run("nft", &["list", "ruleset"])
}

fn whole_seconds(t: Duration) -> u64 {
    let secs = t.as_secs() + u64::from(t.subsec_nanos() > 0);
    assert!(
        secs >= 1,
        "conntrack timeouts are whole seconds, at least 1"
    );
    secs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ruleset_orders_ports_before_idle_policy() {
        let s = ruleset(&[reset_after(Duration::from_millis(2500)), block_port(9350)]);
        assert!(s.contains("established: 3"), "{s}");
        let port = s.find("tcp dport 9350").expect("port rule");
        let rst = s.find("reject with tcp reset").expect("reset rule");
        let attach = s.find("ct timeout set").expect("attach");
        assert!(port < rst && rst < attach, "{s}");
    }

    #[test]
    fn loss_comes_first() {
        let s = ruleset(&[reset_after(Duration::from_secs(5)), loss(8)]);
        let lossy = s
            .find("numgen random mod 100 < 8 counter drop")
            .expect("loss rule");
        assert!(
            lossy < s.find("ct state invalid").expect("idle rule"),
            "{s}"
        );
    }

    #[test]
    fn empty_ruleset_only_removes_the_table() {
        assert!(!ruleset(&[]).contains("chain"));
    }
}
