//! `Proxy-Authenticate` challenges as RFC 9110 section 11.6.1 writes them:
//!
//! ```text
//! Proxy-Authenticate = #challenge
//! challenge   = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
//! auth-param  = token BWS "=" BWS ( token / quoted-string )
//! token68     = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//! ```
//!
//! Challenges and their parameters share the comma, so a list element that reads as
//! `name=value` belongs to the challenge before it, and any other element starts a new one
//! (the section's own example: `Basic realm="simple", Newauth realm="apps", type=1`). A response
//! may also carry several header fields; their lists join in order.
//!
//! Hand-written because the one maintained parser (http-auth) rejects token68, which is exactly
//! what NTLM and Negotiate challenges carry.

/// One challenge: a scheme and either a token68 (NTLM, Negotiate) or parameters (Basic, Digest).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// As the proxy wrote it, except the well-known schemes, spelled canonically.
    pub scheme: String,
    pub token68: Option<String>,
    /// Names lower-cased (they compare case-insensitively), values unquoted.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// Whether this challenge is of `scheme` (case-insensitive).
    pub fn is(&self, scheme: &str) -> bool {
        self.scheme.eq_ignore_ascii_case(scheme)
    }

    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Every challenge of every `Proxy-Authenticate` value, in order. Elements that follow no
/// syntax above are skipped: a proxy's malformed header never hides its valid challenges.
pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<Challenge> {
    let mut challenges: Vec<Challenge> = Vec::new();
    for value in values {
        for element in split_list(value) {
            let element = element.trim_matches(is_ows);
            let Some((name, rest)) = split_token(element) else {
                continue;
            };
            let after_name = rest.trim_start_matches(is_ows);
            if let Some(value) = after_name.strip_prefix('=') {
                if let (Some(current), Some(value)) = (challenges.last_mut(), param_value(value)) {
                    current.params.push((name.to_ascii_lowercase(), value));
                }
                continue;
            }
            let mut challenge = Challenge {
                scheme: canonical(name),
                token68: None,
                params: Vec::new(),
            };
            if !rest.is_empty() {
                if !rest.starts_with(' ') {
                    continue;
                }
                let argument = rest.trim_start_matches(' ');
                if is_token68(argument) {
                    challenge.token68 = Some(argument.to_string());
                } else if let Some((pname, prest)) = split_token(argument) {
                    let Some(value) = prest
                        .trim_start_matches(is_ows)
                        .strip_prefix('=')
                        .and_then(param_value)
                    else {
                        continue;
                    };
                    challenge.params.push((pname.to_ascii_lowercase(), value));
                } else {
                    continue;
                }
            }
            challenges.push(challenge);
        }
    }
    challenges
}

/// The schemes offered, each once, in the proxy's order.
pub fn scheme_names(challenges: &[Challenge]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for c in challenges {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(&c.scheme)) {
            names.push(c.scheme.clone());
        }
    }
    names
}

/// `Basic`, `NTLM`, `Negotiate`, `Digest`, `Bearer` in their usual spelling; others as given.
fn canonical(scheme: &str) -> String {
    ["Basic", "NTLM", "Negotiate", "Digest", "Bearer", "Kerberos"]
        .into_iter()
        .find(|known| known.eq_ignore_ascii_case(scheme))
        .unwrap_or(scheme)
        .to_string()
}

fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// RFC 9110 `tchar`.
fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn is_token68(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~+/".contains(c))
}

/// A leading token and what follows it.
fn split_token(s: &str) -> Option<(&str, &str)> {
    let end = s.find(|c| !is_tchar(c)).unwrap_or(s.len());
    (end > 0).then(|| s.split_at(end))
}

/// `BWS ( token / quoted-string )` filling the rest of the element.
fn param_value(s: &str) -> Option<String> {
    let s = s.trim_matches(is_ows);
    if let Some(quoted) = s.strip_prefix('"') {
        let mut out = String::new();
        let mut chars = quoted.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => out.push(chars.next()?),
                '"' => {
                    return chars
                        .as_str()
                        .trim_matches(is_ows)
                        .is_empty()
                        .then_some(out)
                }
                c => out.push(c),
            }
        }
        return None;
    }
    (!s.is_empty() && s.chars().all(is_tchar)).then(|| s.to_string())
}

/// Splits a `#list` on the commas outside quoted strings.
fn split_list(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&value[start..]);
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(values: &[&str]) -> Vec<String> {
        scheme_names(&parse(values.iter().copied()))
    }

    #[test]
    fn the_rfc_example_is_two_challenges() {
        let c = parse([
            r#"Basic realm="simple", Newauth realm="apps", type=1, title="Login to \"apps\"""#,
        ]);
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(c[0].is("basic"));
        assert_eq!(c[0].param("realm"), Some("simple"));
        assert_eq!(c[1].scheme, "Newauth");
        assert_eq!(c[1].param("type"), Some("1"));
        assert_eq!(c[1].param("title"), Some(r#"Login to "apps""#));
    }

    #[test]
    fn several_headers_and_bare_schemes_join_in_order() {
        assert_eq!(
            names(&["negotiate", "NTLM", r#"Basic realm="Corp, Inc.""#]),
            ["Negotiate", "NTLM", "Basic"]
        );
        assert_eq!(names(&["Negotiate, NTLM"]), ["Negotiate", "NTLM"]);
        assert_eq!(names(&["NTLM", "ntlm"]), ["NTLM"]);
        let c = parse([r#"Basic realm="Corp, Inc.", charset="UTF-8""#]);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].param("realm"), Some("Corp, Inc."));
        assert_eq!(c[0].param("charset"), Some("UTF-8"));
    }

    #[test]
    fn token68_is_kept_whole_with_its_padding() {
        let c = parse([
            "NTLM TlRMTVNTUAACAAAADAAMADAAAAA=, Negotiate YIIB+w==",
            "Digest realm=\"r\", nonce=\"n\", qop=\"auth,auth-int\", algorithm=MD5",
        ]);
        assert_eq!(c.len(), 3, "{c:?}");
        assert_eq!(
            c[0].token68.as_deref(),
            Some("TlRMTVNTUAACAAAADAAMADAAAAA=")
        );
        assert_eq!(c[1].token68.as_deref(), Some("YIIB+w=="));
        assert!(c[2].is("Digest"));
        assert_eq!(c[2].param("qop"), Some("auth,auth-int"));
        assert_eq!(c[2].param("algorithm"), Some("MD5"));
    }

    #[test]
    fn malformed_elements_are_skipped_not_fatal() {
        assert_eq!(
            names(&[r#", , "quoted", =x, Basic realm="unterminated"#]),
            Vec::<String>::new()
        );
        assert_eq!(names(&["Bad\u{7f}scheme, NTLM", ""]), ["NTLM"]);
        assert_eq!(names(&["Basic realm=a b, Negotiate"]), ["Negotiate"]);
        // BWS around "=" is allowed.
        let c = parse(["Basic realm = lab"]);
        assert_eq!(c[0].param("realm"), Some("lab"));
    }
}
