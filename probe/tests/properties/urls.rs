//! Target URLs (`--target`, a scenario's `url`), `--resolve HOST:PORT:ADDR` and `--dns-server`:
//! any text parses or fails with a message quoting the value (never its credentials), and a
//! parsed target reads back to itself.

use crate::{check, ensure};
use probe::net::resolve::{parse_dns_server, ResolveOverride};
use probe::target::{Target, TargetKind};
use proptest::prelude::*;

/// What a generated password always contains, so its absence from a message can be checked.
pub const MARKER: &str = "Zq9pw";

/// Text shaped like a URL, with the pieces users and attackers get wrong: odd schemes and
/// separators, credentials (with the marker, and characters that end an authority early),
/// hosts of every form, ports out of range, paths, queries, fragments.
pub fn url_like() -> impl Strategy<Value = String> {
    let scheme = prop_oneof![
        Just("https"),
        Just("wss"),
        Just("tcp"),
        Just("relay"),
        Just("http"),
        Just("ftp"),
        Just(""),
        Just("HTTPS"),
    ];
    let separator = prop_oneof![4 => Just("://"), 1 => Just(":/"), 1 => Just(":"), 1 => Just("")];
    let userinfo = prop::option::of(
        (
            "[a-z%+]{0,6}",
            "[a-zA-Z0-9/?#@+%: ]{0,4}",
            "[a-zA-Z0-9/?#@+%:]{0,4}",
        )
            .prop_map(|(user, a, b)| format!("{user}:{a}{MARKER}{b}@")),
    );
    let host = prop_oneof![
        "[a-z0-9-]{1,12}(\\.[a-z0-9-]{1,12}){0,3}",
        "[0-9]{1,3}(\\.[0-9]{1,3}){3}",
        "\\[[0-9a-fA-F:.%a-z]{0,24}\\]",
        "\\PC{0,8}",
        Just(String::new()),
    ];
    let port = prop::option::of(prop_oneof![
        (0u32..70_000).prop_map(|p| p.to_string()),
        "[0-9]{0,8}",
        "[a-z]{1,3}",
    ]);
    let rest = (
        "(/[a-zA-Z0-9$%._~-]{0,8}){0,3}",
        prop::option::of("\\?\\PC{0,8}"),
        prop::option::of("#\\PC{0,4}"),
    );
    (scheme, separator, userinfo, host, port, rest).prop_map(
        |(scheme, sep, userinfo, host, port, (path, query, fragment))| {
            format!(
                "{scheme}{sep}{}{host}{}{path}{}{}",
                userinfo.unwrap_or_default(),
                port.map(|p| format!(":{p}")).unwrap_or_default(),
                query.unwrap_or_default(),
                fragment.unwrap_or_default()
            )
        },
    )
}

fn any_target_text() -> impl Strategy<Value = String> {
    prop_oneof![3 => url_like(), 1 => "\\PC{0,60}"]
}

#[test]
fn target_urls_parse_to_a_usable_target_or_a_message_without_credentials() {
    check("target URLs", any_target_text, |text: String| {
        match Target::parse(&text) {
            Ok(t) => {
                ensure(t.port != 0 && !t.host.is_empty(), || {
                    format!("{text}: {t:?}")
                })?;
                ensure(t.path.starts_with('/'), || {
                    format!("{text}: path {}", t.path)
                })?;
                // The URL standard may read a password with `#` or `?` as the end of the
                // authority: never as a host, and never as credentials.
                ensure(!t.host.contains(MARKER), || {
                    format!("{text}: host {}", t.host)
                })?;
                let scheme_ok = match t.kind {
                    TargetKind::Https { .. } => text.to_ascii_lowercase().starts_with("https:"),
                    TargetKind::Wss => text.to_ascii_lowercase().starts_with("wss:"),
                    TargetKind::Tcp => text.to_ascii_lowercase().starts_with("tcp:"),
                    TargetKind::Relay => text.to_ascii_lowercase().starts_with("relay:"),
                    TargetKind::AdDomain | TargetKind::Hc(_) => false,
                };
                ensure(scheme_ok, || format!("{text}: read as {:?}", t.kind))?;
                // It reads back to itself, and what the checks derive from it is well formed.
                ensure(Target::parse(&t.url).as_ref() == Ok(&t), || {
                    format!("{text}: not stable")
                })?;
                let _ = (t.authority(), t.host_header(), t.ip_literal());
                Ok(())
            }
            Err(e) => {
                let e = e.to_string();
                ensure(!e.contains(MARKER), || {
                    format!("{text}: credentials in {e}")
                })?;
                ensure(e.starts_with('`'), || {
                    format!("{text}: does not quote the value: {e}")
                })
            }
        }
    });
}

fn resolve_like() -> impl Strategy<Value = String> {
    let host = prop_oneof!["[a-zA-Z0-9.-]{0,20}", "\\PC{0,8}"];
    let port = prop_oneof![(0u32..70_000).prop_map(|p| p.to_string()), "[0-9a-z]{0,6}"];
    let addr = prop_oneof![
        any::<std::net::Ipv4Addr>().prop_map(|a| a.to_string()),
        any::<std::net::Ipv6Addr>().prop_map(|a| format!("[{a}]")),
        any::<std::net::Ipv6Addr>().prop_map(|a| a.to_string()),
        "[0-9a-f.:\\[\\] ]{0,12}",
    ];
    let addrs = prop::collection::vec(addr, 0..4).prop_map(|a| a.join(","));
    prop_oneof![
        3 => (host, port, addrs).prop_map(|(h, p, a)| format!("{h}:{p}:{a}")),
        1 => "\\PC{0,40}",
    ]
}

#[test]
fn resolve_overrides_parse_and_read_back_or_quote_the_value() {
    check(
        "--resolve",
        resolve_like,
        |text: String| match text.parse::<ResolveOverride>() {
            Ok(o) => {
                ensure(!o.host.is_empty() && !o.addresses.is_empty(), || {
                    format!("{text}: {o:?}")
                })?;
                let addrs: Vec<String> = o
                    .addresses
                    .iter()
                    .map(|a| match a {
                        std::net::IpAddr::V6(v6) => format!("[{v6}]"),
                        std::net::IpAddr::V4(v4) => v4.to_string(),
                    })
                    .collect();
                let again = format!("{}:{}:{}", o.host, o.port, addrs.join(","));
                ensure(again.parse::<ResolveOverride>().as_ref() == Ok(&o), || {
                    format!("{text} -> {again} does not read back")
                })
            }
            Err(e) => ensure(e.to_string().contains(&format!("`{text}`")), || {
                format!("{text}: the message does not quote the value: {e}")
            }),
        },
    );
}

#[test]
fn dns_servers_and_ad_domains_never_panic() {
    check(
        "--dns-server and --ad-domain",
        || "\\PC{0,40}",
        |text: String| {
            let _ = parse_dns_server(&text);
            if let Ok(t) = Target::ad_domain(&text) {
                ensure(t.kind == TargetKind::AdDomain && t.port == 389, || {
                    format!("{text}: {t:?}")
                })?;
            }
            Ok(())
        },
    );
}
