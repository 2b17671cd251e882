//! Generators shared by the properties.

use proptest::prelude::*;
use relay_protocol::hc::{EntityPath, Namespace};
use relay_protocol::sas::SasKey;

/// A DNS name of one to four labels, each starting with a letter.
pub fn host() -> impl Strategy<Value = String> {
    prop::collection::vec("[a-z]([a-z0-9-]{0,8}[a-z0-9])?", 1..5)
        .prop_map(|labels| labels.join("."))
}

/// A namespace on a generated host; the rare label that is invalid punycode (`xn--...`) is
/// skipped, as URL host parsing refuses it.
pub fn namespace() -> impl Strategy<Value = Namespace> {
    (host(), prop::option::of(1u16..=65535))
        .prop_filter_map("invalid punycode label", |(host, port)| {
            Namespace::new(&host, port).ok()
        })
}

/// Entity paths with any characters the type allows, spaces, `%`, `+` and non-ASCII included.
pub fn entity() -> impl Strategy<Value = EntityPath> {
    prop::collection::vec("[a-zA-Z0-9 ._~%+&=$é漢-]{1,10}", 1..4)
        .prop_map(|segments| segments.join("/"))
        .prop_filter_map("not a valid entity path", |path| {
            EntityPath::new(&path).ok()
        })
}

/// A key name as Azure allows them.
pub fn key_name() -> impl Strategy<Value = String> {
    "[A-Za-z0-9][A-Za-z0-9._-]{0,30}"
}

/// Key material, tagged so that a leak into an error message is unmistakable.
pub fn key_text() -> impl Strategy<Value = String> {
    "[A-Za-z0-9+/]{20,40}={0,2}".prop_map(|body| format!("K3Y{body}"))
}

pub fn sas_key() -> impl Strategy<Value = SasKey> {
    (key_name(), key_text())
        .prop_map(|(name, key)| SasKey::new(name, key).expect("generated keys are valid"))
}

/// `name` with its letters in random case.
pub fn any_case(name: &'static str) -> impl Strategy<Value = String> {
    prop::collection::vec(any::<bool>(), name.len()).prop_map(move |upper| {
        name.chars()
            .zip(upper)
            .map(|(c, up)| {
                if up {
                    c.to_ascii_uppercase()
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect()
    })
}

/// Spaces or tabs, possibly none.
pub fn blanks() -> impl Strategy<Value = String> {
    "[ \t]{0,2}"
}
