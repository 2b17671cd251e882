//! Percent-encoding as the Relay wire uses it.
//!
//! The SDKs encode URL components with .NET's `WebUtility.UrlEncode` (leaves `A-Z a-z 0-9 - _ . ! * ( )`)
//! or JavaScript's `encodeURIComponent` (leaves those plus `~ '`), both with upper-case hex. Encoding
//! everything but `A-Z a-z 0-9 - _ .` is a subset of both: any decoder reads it back, and for the
//! characters that occur in practice (scheme, host, path, base64) the output is byte-identical to
//! the SDKs', which matters because a SAS signature covers the encoded `sr` exactly as sent.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything except ASCII letters, digits and `-` `_` `.`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.');

/// Percent-encodes one URL component (a query value, a token field, a path segment).
pub(crate) fn encode_component(text: &str) -> String {
    utf8_percent_encode(text, COMPONENT).to_string()
}

/// Decodes `%XX` escapes; `+` stays `+` (base64 signatures contain it when a client forgot to
/// encode them, and no Relay name contains a space). `None` when the result is not UTF-8.
pub(crate) fn decode_component(text: &str) -> Option<String> {
    percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}

/// A client-supplied value made safe to put in an error message: control characters escaped,
/// at most 64 characters.
pub(crate) fn shown(text: &str) -> String {
    const LIMIT: usize = 64;
    let mut out: String = text
        .chars()
        .take(LIMIT)
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect();
    if text.chars().count() > LIMIT {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_the_sdks_with_upper_case_hex() {
        assert_eq!(
            encode_component("http://contoso.servicebus.windows.net/hyco/"),
            "http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2F"
        );
        assert_eq!(encode_component("a+b/c="), "a%2Bb%2Fc%3D");
        assert_eq!(encode_component("hé llo"), "h%C3%A9%20llo");
    }

    #[test]
    fn decodes_escapes_but_keeps_plus() {
        assert_eq!(decode_component("a%2Bb+c").as_deref(), Some("a+b+c"));
        assert_eq!(decode_component("%3a%2F").as_deref(), Some(":/"));
        assert_eq!(decode_component("%FF"), None);
    }

    #[test]
    fn shown_escapes_and_truncates() {
        assert_eq!(shown("a\nb"), "a\\nb");
        assert_eq!(shown(&"x".repeat(70)), format!("{}…", "x".repeat(64)));
    }
}
