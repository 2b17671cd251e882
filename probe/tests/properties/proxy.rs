//! Proxy URLs (`--proxy`, `HTTPS_PROXY` and friends, a scenario's `proxy`) and `NO_PROXY`: a
//! password never shows in an error or a redacted form, user and password read back exactly
//! as percent-encoded, and `NO_PROXY` follows curl's rules on any input.

use crate::urls::{url_like, MARKER};
use crate::{check, ensure};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use probe::net::proxy::{NoProxy, Proxy, ProxyRoute};
use proptest::prelude::*;

fn proxy_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => url_like(),
        // Without a scheme, as users often write it.
        1 => url_like().prop_map(|u| u.split_once("://").map(|(_, r)| r.to_string()).unwrap_or(u)),
        1 => "\\PC{0,40}",
    ]
}

#[test]
fn proxy_urls_never_show_their_password() {
    check(
        "proxy URLs",
        proxy_text,
        |text: String| match Proxy::parse(&text, "HTTPS_PROXY") {
            Ok(p) => {
                let shown = format!("{} {p:?}", p.redacted());
                ensure(!shown.contains(MARKER), || {
                    format!("{text}: shown as {shown}")
                })?;
                ensure(!p.host.contains(MARKER), || {
                    format!("{text}: host {}", p.host)
                })
            }
            Err(e) => {
                let e = e.to_string();
                ensure(e.starts_with("HTTPS_PROXY"), || format!("{text}: {e}"))?;
                ensure(!e.contains(MARKER), || format!("{text}: password in {e}"))
            }
        },
    );
}

#[test]
fn credentials_read_back_exactly_as_percent_encoded() {
    let credentials = ("\\PC{1,16}", "\\PC{0,16}", any::<bool>());
    check(
        "proxy credentials",
        move || credentials,
        |(user, password, raw_plus)| {
            let encode = |s: &str| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string();
            // `+` is a plus whether encoded or not.
            let password_text = if raw_plus {
                encode(&password).replace("%2B", "+")
            } else {
                encode(&password)
            };
            let url = format!(
                "http://{}:{password_text}@proxy.example:3128",
                encode(&user)
            );
            let p = Proxy::parse(&url, "--proxy")
                .map_err(|e| TestCaseError::fail(format!("{url}: {e}")))?;
            ensure(
                p.credentials() == Some((user.as_str(), password.as_str())),
                || format!("{url}: read as {:?}", p.credentials()),
            )?;
            ensure(p.redacted() == "http://****@proxy.example:3128", || {
                p.redacted()
            })
        },
    );
}

#[test]
fn proxy_environment_variables_are_named_in_errors() {
    let vars = || prop::collection::vec(prop::option::of(proxy_text()), 4..=4);
    check(
        "proxy environment",
        move || (vars(), "\\PC{0,40}"),
        |(values, no_proxy)| {
            let names = ["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"];
            let get = |k: &str| {
                if k.eq_ignore_ascii_case("no_proxy") {
                    return Some(no_proxy.clone());
                }
                names
                    .iter()
                    .position(|n| *n == k)
                    .and_then(|i| values.get(i).cloned().flatten())
            };
            match ProxyRoute::from_env(get) {
                Ok(route) => {
                    let _ = route.for_host("relay.example");
                    Ok(())
                }
                Err(e) => {
                    let e = e.to_string();
                    ensure(names.iter().any(|n| e.starts_with(n)), || {
                        format!("no variable named: {e}")
                    })?;
                    ensure(!e.contains(MARKER), || format!("password in {e}"))
                }
            }
        },
    );
}

#[test]
fn no_proxy_follows_curls_rules_on_any_input() {
    let input = (
        "\\PC{0,60}",
        "\\PC{0,20}",
        "[a-z0-9-]{1,10}(\\.[a-z0-9-]{1,10}){0,3}",
        any::<std::net::Ipv4Addr>(),
        0u32..=32,
    );
    check(
        "NO_PROXY",
        move || input,
        |(list, any_host, name, ip, bits)| {
            let _ = NoProxy::parse(&list).matches(&any_host);
            // A name matches itself and its subdomains; `*` matches everything.
            let entry = NoProxy::parse(&format!("{list},{name}"));
            ensure(entry.matches(&name), || {
                format!("{name} not matched by {list},{name}")
            })?;
            ensure(entry.matches(&format!("sub.{name}")), || {
                format!("sub.{name}")
            })?;
            ensure(NoProxy::parse("*").matches(&any_host), || any_host.clone())?;
            // A CIDR range contains its own network address.
            let cidr = NoProxy::parse(&format!("{ip}/{bits}"));
            ensure(cidr.matches(&ip.to_string()), || format!("{ip}/{bits}"))
        },
    );
}
