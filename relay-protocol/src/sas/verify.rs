//! The service side: is this token good for this request?
//!
//! Order of checks: readable, known key name, signature, not expired, resource. The HTTP status
//! follows the protocol guide's handshake table: 401 "The security token is missing or
//! malformed or invalid", 403 "The security token is not valid for this path for this action".

use base64::Engine;
use ring::hmac;

use crate::encoding::{decode_component, shown};
use crate::hc::Namespace;

use super::key::SasKey;
use super::token::{SasToken, SasTokenError};

/// Why a token was refused. Never shows the signature or a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no token: send one in the ServiceBusAuthorization header or the sb-hc-token query parameter")]
    Missing,
    #[error("{0}")]
    Malformed(SasTokenError),
    #[error("token is signed with key name '{0}', which this relay does not have")]
    UnknownKeyName(String),
    #[error("token signature does not match (wrong key, or sr/se changed after signing)")]
    BadSignature,
    #[error("token expired at {expiry} (now {now}, Unix seconds)")]
    Expired { expiry: u64, now: u64 },
    #[error("token is for {resource}, not for this namespace and entity")]
    WrongResource { resource: String },
}

impl AuthError {
    /// 403 for a good token aimed elsewhere, 401 for everything else.
    pub fn http_status(&self) -> u16 {
        match self {
            AuthError::WrongResource { .. } => 403,
            _ => 401,
        }
    }
}

/// Checks `token` (the header or query text, `None` when the client sent none) against the
/// relay's `keys`, the clock `now_unix`, and the request's `namespace` and `entity`. Returns the
/// parsed token on success. Key names match exactly (case-sensitive), as they are written.
pub fn authorize(
    token: Option<&str>,
    keys: &[SasKey],
    now_unix: u64,
    namespace: &Namespace,
    entity: &str,
) -> Result<SasToken, AuthError> {
    let token = SasToken::parse(token.ok_or(AuthError::Missing)?).map_err(AuthError::Malformed)?;
    let key = keys
        .iter()
        .find(|key| key.name() == token.key_name())
        .ok_or_else(|| AuthError::UnknownKeyName(shown(token.key_name())))?;
    verify_signature(&token, key)?;
    if now_unix >= token.expiry() {
        return Err(AuthError::Expired {
            expiry: token.expiry(),
            now: now_unix,
        });
    }
    if !resource_matches(token.resource(), namespace, entity) {
        return Err(AuthError::WrongResource {
            resource: shown(token.resource()),
        });
    }
    Ok(token)
}

/// Recomputes the HMAC over `sr` and `se` as sent and compares in constant time
/// (`ring::hmac::verify`).
pub fn verify_signature(token: &SasToken, key: &SasKey) -> Result<(), AuthError> {
    let sig = base64::engine::general_purpose::STANDARD
        .decode(token.signature().expose())
        .map_err(|_| AuthError::BadSignature)?;
    hmac::verify(&key.hmac_key(), token.string_to_sign().as_bytes(), &sig)
        .map_err(|_| AuthError::BadSignature)
}

/// Whether a token's resource URI covers `entity` in `namespace`, as the service accepts it:
///
/// - scheme `http`, `https` or `sb` (any case);
/// - the namespace host (any case), with no port or with the namespace's port
///   ([`Namespace::effective_port`]; the .NET SDK drops the port when signing);
/// - either no path (a namespace-wide token) or exactly the entity path, segment by segment,
///   ASCII case-insensitive (Azure entity names are case-insensitive), with or without a trailing
///   slash. A token for another entity, or for a path below or above the entity, does not match.
pub fn resource_matches(resource: &str, namespace: &Namespace, entity: &str) -> bool {
    let Some((scheme, rest)) = resource.split_once("://") else {
        return false;
    };
    if !["http", "https", "sb"]
        .iter()
        .any(|known| scheme.eq_ignore_ascii_case(known))
    {
        return false;
    }
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if authority.contains('@') || path.contains(['?', '#']) {
        return false;
    }
    let Ok(named) = Namespace::parse(authority) else {
        return false;
    };
    if named.host() != namespace.host()
        || named
            .port()
            .is_some_and(|port| port != namespace.effective_port())
    {
        return false;
    }
    let Some(token_segments) = path
        .split('/')
        .filter(|segment| !segment.is_empty())
        .map(decode_component)
        .collect::<Option<Vec<_>>>()
    else {
        return false;
    };
    if token_segments.is_empty() {
        return true;
    }
    let entity_segments: Vec<&str> = entity.split('/').filter(|s| !s.is_empty()).collect();
    token_segments.len() == entity_segments.len()
        && token_segments
            .iter()
            .zip(&entity_segments)
            .all(|(a, b)| a.eq_ignore_ascii_case(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000;

    fn keys() -> Vec<SasKey> {
        vec![
            SasKey::new("listen", "0123456789abcdefABCDEF0123456789abcdefABCDE=").unwrap(),
            SasKey::new("send", "another-key").unwrap(),
        ]
    }

    fn lab() -> Namespace {
        Namespace::parse("relay.lab:8443").unwrap()
    }

    fn token(key: usize, resource: &str, expiry: u64) -> String {
        keys()[key]
            .sign(resource, expiry)
            .expose()
            .expose()
            .to_owned()
    }

    #[test]
    fn accepts_a_good_token_and_returns_it() {
        let text = token(1, "http://relay.lab/hyco/", NOW + 60);
        let ok = authorize(Some(&text), &keys(), NOW, &lab(), "hyco").unwrap();
        assert_eq!(ok.key_name(), "send");
    }

    #[test]
    fn accepts_a_token_signed_with_lower_case_escapes() {
        // The protocol guide's renewToken example encodes sr as http%3a%2f%2f...; the signature
        // covers that text as sent.
        let key = &keys()[0];
        let sr = "http%3a%2f%2frelay.lab%2fhyco%2f";
        let sig = crate::sas::signature(key, &format!("{sr}\n{}", NOW + 60));
        let text = format!(
            "SharedAccessSignature sr={sr}&sig={}&se={}&skn=listen",
            crate::encoding::encode_component(sig.expose()),
            NOW + 60
        );
        assert!(authorize(Some(&text), &keys(), NOW, &lab(), "hyco").is_ok());
    }

    #[test]
    fn refusals_map_to_401_or_403() {
        let keys = keys();
        let check = |text: Option<&str>, entity: &str| {
            authorize(text, &keys, NOW, &lab(), entity).unwrap_err()
        };
        assert_eq!(check(None, "hyco"), AuthError::Missing);
        assert!(matches!(
            check(Some("Bearer x"), "hyco"),
            AuthError::Malformed(_)
        ));

        let other_key = SasKey::new("listen", "wrong-key").unwrap();
        let forged = other_key.sign("http://relay.lab/hyco/", NOW + 60).expose();
        assert_eq!(
            check(Some(forged.expose()), "hyco"),
            AuthError::BadSignature
        );

        let unknown = SasKey::new("admin", "k")
            .unwrap()
            .sign("http://relay.lab/", NOW + 60);
        assert_eq!(
            check(Some(unknown.expose().expose()), "hyco"),
            AuthError::UnknownKeyName("admin".into())
        );

        let expired = token(0, "http://relay.lab/hyco/", NOW);
        assert_eq!(
            check(Some(&expired), "hyco"),
            AuthError::Expired {
                expiry: NOW,
                now: NOW
            }
        );

        let elsewhere = token(0, "http://relay.lab/other/", NOW + 60);
        let err = check(Some(&elsewhere), "hyco");
        assert_eq!(
            err,
            AuthError::WrongResource {
                resource: "http://relay.lab/other/".into()
            }
        );
        assert_eq!(err.http_status(), 403);
        for err in [
            AuthError::Missing,
            AuthError::BadSignature,
            AuthError::UnknownKeyName("x".into()),
        ] {
            assert_eq!(err.http_status(), 401);
        }
    }

    #[test]
    fn tampered_fields_break_the_signature() {
        let good = token(0, "http://relay.lab/hyco/", NOW + 60);
        let later = good.replace(&format!("se={}", NOW + 60), &format!("se={}", NOW + 6000));
        assert_eq!(
            authorize(Some(&later), &keys(), NOW, &lab(), "hyco"),
            Err(AuthError::BadSignature)
        );
    }

    #[test]
    fn resource_forms_the_service_accepts() {
        let ns = lab();
        for resource in [
            "http://relay.lab/hyco/",
            "http://relay.lab/hyco",
            "https://RELAY.lab:8443/hyco/",
            "sb://relay.lab/HYCO",
            "http://relay.lab/",
            "sb://relay.lab",
        ] {
            assert!(resource_matches(resource, &ns, "hyco"), "{resource}");
        }
        for resource in [
            "http://relay.lab/hyco2/",
            "http://relay.lab/hyco/sub/",
            "http://relay.lab:9999/hyco/",
            "http://other.lab/hyco/",
            "ftp://relay.lab/hyco/",
            "http://user@relay.lab/hyco/",
            "http://relay.lab/hyco?x=1",
            "relay.lab/hyco",
        ] {
            assert!(!resource_matches(resource, &ns, "hyco"), "{resource}");
        }
        let default_port = Namespace::parse("contoso.servicebus.windows.net").unwrap();
        assert!(resource_matches(
            "https://contoso.servicebus.windows.net:443/a/b",
            &default_port,
            "a/b"
        ));
        assert!(resource_matches(
            "http://contoso.servicebus.windows.net/my%20hc/",
            &default_port,
            "my hc"
        ));
    }
}
