//! The SAS token string: building it (client) and reading it (service).

use std::fmt;

use base64::Engine;
use ring::hmac;

use crate::encoding::{decode_component, encode_component};
use crate::hc::{EntityPath, Namespace};
use crate::secret::{SecretString, REDACTED};

use super::key::SasKey;

/// The token type word that starts every token.
pub const TOKEN_TYPE: &str = "SharedAccessSignature";

/// A SAS token. `Debug` and `Display` show every field except the signature (`sig=****`);
/// [`expose`](SasToken::expose) gives the whole text for the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct SasToken {
    /// `sr` exactly as sent (still URL-encoded): what the signature covers.
    sr: String,
    /// `sr` decoded: the resource URI.
    resource: String,
    /// `sig` decoded: base64 text.
    sig: SecretString,
    /// `se` exactly as sent (ASCII digits, never encoded): what the signature covers.
    se_text: String,
    se: u64,
    /// `skn` decoded.
    skn: String,
}

/// Why a token could not be read. Names the field, never shows the signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SasTokenError {
    #[error("token must look like 'SharedAccessSignature sr=...&sig=...&se=...&skn=...'")]
    Format,
    #[error("token has no {0} field")]
    MissingField(&'static str),
    #[error("token has more than one {0} field")]
    DuplicateField(&'static str),
    #[error("token field {field} {reason}")]
    BadField {
        field: &'static str,
        reason: &'static str,
    },
}

const SR: &str = "sr";
const SIG: &str = "sig";
const SE: &str = "se";
const SKN: &str = "skn";

/// The resource URI the .NET SDK signs for an entity (or, with `None`, the whole namespace):
/// `http://{host}/{entity}/`. The SDK normalises every audience this way: scheme `http`, the
/// port dropped, a trailing slash (`TokenProvider.NormalizeAudience` via
/// `UriHelper.NormalizeUri(..., UriScheme.Http, ..., ensureTrailingSlash: true)`, `Port = -1`).
pub fn resource_uri(namespace: &Namespace, entity: Option<&EntityPath>) -> String {
    match entity {
        Some(entity) => format!("http://{}/{}/", namespace.host(), entity.encoded()),
        None => format!("http://{}/", namespace.host()),
    }
}

/// `sr + "\n" + se`: the text the signature covers, with `sr` in its URL-encoded form.
pub fn string_to_sign(encoded_resource: &str, expiry: &str) -> String {
    format!("{encoded_resource}\n{expiry}")
}

/// base64(HMAC-SHA256(key text as UTF-8, `string_to_sign`)).
pub fn signature(key: &SasKey, string_to_sign: &str) -> SecretString {
    let tag = hmac::sign(&key.hmac_key(), string_to_sign.as_bytes());
    SecretString::new(base64::engine::general_purpose::STANDARD.encode(tag.as_ref()))
}

impl SasToken {
    /// Signs `resource_uri` with `key` until `expiry` (Unix seconds).
    pub(crate) fn sign(key: &SasKey, resource_uri: &str, expiry: u64) -> Self {
        let sr = encode_component(resource_uri);
        let se_text = expiry.to_string();
        let sig = signature(key, &string_to_sign(&sr, &se_text));
        SasToken {
            sr,
            resource: resource_uri.to_owned(),
            sig,
            se_text,
            se: expiry,
            skn: key.name().to_owned(),
        }
    }

    /// Reads a token: the type word (any case), whitespace, then `&`-separated `name=value`
    /// fields in any order, names in any case, values URL-decoded (`sr` is also kept as sent,
    /// for the signature). Unknown fields are ignored, as the .NET SDK does.
    pub fn parse(text: &str) -> Result<Self, SasTokenError> {
        let (kind, fields) = text
            .trim()
            .split_once(char::is_whitespace)
            .ok_or(SasTokenError::Format)?;
        let fields = fields.trim_start();
        if !kind.eq_ignore_ascii_case(TOKEN_TYPE) || fields.contains(char::is_whitespace) {
            return Err(SasTokenError::Format);
        }
        let mut raw = RawFields::default();
        for field in fields.split('&').filter(|field| !field.is_empty()) {
            let (name, value) = field.split_once('=').ok_or(SasTokenError::Format)?;
            let (slot, name) = if name.eq_ignore_ascii_case(SR) {
                (&mut raw.sr, SR)
            } else if name.eq_ignore_ascii_case(SIG) {
                (&mut raw.sig, SIG)
            } else if name.eq_ignore_ascii_case(SE) {
                (&mut raw.se, SE)
            } else if name.eq_ignore_ascii_case(SKN) {
                (&mut raw.skn, SKN)
            } else {
                continue;
            };
            if slot.replace(value).is_some() {
                return Err(SasTokenError::DuplicateField(name));
            }
        }
        raw.into_token()
    }

    /// The resource URI (`sr`, decoded).
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// `sr` as sent, URL-encoded.
    pub fn encoded_resource(&self) -> &str {
        &self.sr
    }

    /// Expiry, Unix seconds (`se`).
    pub fn expiry(&self) -> u64 {
        self.se
    }

    /// The key name (`skn`).
    pub fn key_name(&self) -> &str {
        &self.skn
    }

    /// The signature (`sig`, decoded base64 text).
    pub fn signature(&self) -> &SecretString {
        &self.sig
    }

    /// What the signature covers: `sr` and `se` exactly as sent.
    pub fn string_to_sign(&self) -> String {
        string_to_sign(&self.sr, &self.se_text)
    }

    /// The whole token, for a `ServiceBusAuthorization` header or `renewToken`.
    pub fn expose(&self) -> SecretString {
        SecretString::new(self.render(&encode_component(self.sig.expose())))
    }

    /// The token with the signature shown as `****`.
    pub fn redacted(&self) -> String {
        self.render(REDACTED)
    }

    fn render(&self, sig: &str) -> String {
        format!(
            "{TOKEN_TYPE} {SR}={}&{SIG}={sig}&{SE}={}&{SKN}={}",
            self.sr,
            self.se_text,
            encode_component(&self.skn)
        )
    }
}

impl fmt::Display for SasToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Debug for SasToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SasToken")
            .field("resource", &self.resource)
            .field("expiry", &self.se)
            .field("key_name", &self.skn)
            .field("signature", &self.sig)
            .finish()
    }
}

#[derive(Default)]
struct RawFields<'a> {
    sr: Option<&'a str>,
    sig: Option<&'a str>,
    se: Option<&'a str>,
    skn: Option<&'a str>,
}

impl RawFields<'_> {
    fn into_token(self) -> Result<SasToken, SasTokenError> {
        let sr = self.sr.ok_or(SasTokenError::MissingField(SR))?;
        let sig = self.sig.ok_or(SasTokenError::MissingField(SIG))?;
        let se = self.se.ok_or(SasTokenError::MissingField(SE))?;
        let skn = self.skn.ok_or(SasTokenError::MissingField(SKN))?;

        let resource = decoded(SR, sr)?;
        let sig = decoded(SIG, sig)?;
        if base64::engine::general_purpose::STANDARD
            .decode(&sig)
            .is_err()
        {
            return Err(SasTokenError::BadField {
                field: SIG,
                reason: "is not base64",
            });
        }
        let expiry = parse_expiry(se)?;
        let skn = decoded(SKN, skn)?;
        Ok(SasToken {
            sr: sr.to_owned(),
            resource,
            sig: SecretString::new(sig),
            se_text: se.to_owned(),
            se: expiry,
            skn,
        })
    }
}

fn decoded(field: &'static str, raw: &str) -> Result<String, SasTokenError> {
    if raw.is_empty() {
        return Err(SasTokenError::BadField {
            field,
            reason: "is empty",
        });
    }
    decode_component(raw).ok_or(SasTokenError::BadField {
        field,
        reason: "is not percent-encoded UTF-8",
    })
}

fn parse_expiry(text: &str) -> Result<u64, SasTokenError> {
    let bad = SasTokenError::BadField {
        field: SE,
        reason: "is not a whole number of seconds since 1970",
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad);
    }
    text.parse().map_err(|_| bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdefABCDEF0123456789abcdefABCDE=";
    const SKN: &str = "RootManageSharedAccessKey";

    fn key() -> SasKey {
        SasKey::new(SKN, KEY).unwrap()
    }

    /// The worked example of issue 12, checked independently with Python's hmac module: the
    /// key's text is the HMAC key, `sr` is upper-case percent-encoded.
    #[test]
    fn worked_example_with_trailing_slash() {
        let token = key().sign("http://contoso.servicebus.windows.net/hyco/", 1_700_000_000);
        assert_eq!(
            token.encoded_resource(),
            "http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2F"
        );
        assert_eq!(
            token.signature().expose(),
            "D1Ww8+jE1q6C8a5DY/KSkyfwHoHfRaihY1nDvG5cpkE="
        );
        assert_eq!(
            token.expose().expose(),
            "SharedAccessSignature sr=http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2F\
             &sig=D1Ww8%2BjE1q6C8a5DY%2FKSkyfwHoHfRaihY1nDvG5cpkE%3D&se=1700000000&skn=RootManageSharedAccessKey"
        );
    }

    #[test]
    fn worked_example_without_trailing_slash() {
        let token = key().sign("http://contoso.servicebus.windows.net/hyco", 1_700_000_000);
        assert_eq!(
            token.signature().expose(),
            "62c9/jryHph5FyAEwHJt8cqFbe3PCmLDRRxNi0FSaUc="
        );
    }

    #[test]
    fn resource_uri_is_the_sdk_form() {
        let ns = Namespace::parse("Relay.Lab:8443").unwrap();
        let entity = EntityPath::new("hyco").unwrap();
        assert_eq!(resource_uri(&ns, Some(&entity)), "http://relay.lab/hyco/");
        assert_eq!(resource_uri(&ns, None), "http://relay.lab/");
    }

    #[test]
    fn parses_fields_in_any_order_and_case() {
        let text = "sharedaccesssignature  SKN=RootManageSharedAccessKey&se=1700000000&extra=1&&\
                    sig=D1Ww8%2BjE1q6C8a5DY%2FKSkyfwHoHfRaihY1nDvG5cpkE%3D&Sr=http%3a%2f%2fcontoso.servicebus.windows.net%2fhyco%2f";
        let token = SasToken::parse(text).unwrap();
        assert_eq!(
            token.resource(),
            "http://contoso.servicebus.windows.net/hyco/"
        );
        assert_eq!(
            token.encoded_resource(),
            "http%3a%2f%2fcontoso.servicebus.windows.net%2fhyco%2f",
            "kept as sent: the signature covers this text"
        );
        assert_eq!(token.expiry(), 1_700_000_000);
        assert_eq!(token.key_name(), SKN);
        assert_eq!(
            token.signature().expose(),
            "D1Ww8+jE1q6C8a5DY/KSkyfwHoHfRaihY1nDvG5cpkE="
        );
    }

    #[test]
    fn display_and_debug_hide_the_signature() {
        let token = key().sign("http://contoso.servicebus.windows.net/hyco/", 1_700_000_000);
        for shown in [format!("{token}"), format!("{token:?}")] {
            assert!(!shown.contains("D1Ww8"), "{shown}");
            assert!(shown.contains("****"), "{shown}");
        }
        assert_eq!(
            token.to_string(),
            "SharedAccessSignature sr=http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2F&sig=****&se=1700000000&skn=RootManageSharedAccessKey"
        );
    }

    #[test]
    fn errors_name_the_field() {
        let err = |text: &str| SasToken::parse(text).unwrap_err();
        assert_eq!(err("Bearer abc"), SasTokenError::Format);
        assert_eq!(err("SharedAccessSignature"), SasTokenError::Format);
        assert_eq!(err("SharedAccessSignature sr=a&sig"), SasTokenError::Format);
        assert_eq!(
            err("SharedAccessSignature sr=a&sig=AA%3D%3D&se=1"),
            SasTokenError::MissingField("skn")
        );
        assert_eq!(
            err("SharedAccessSignature sr=a&SR=b&sig=AA%3D%3D&se=1&skn=k"),
            SasTokenError::DuplicateField("sr")
        );
        assert_eq!(
            err("SharedAccessSignature sr=a&sig=AA%3D%3D&se=soon&skn=k"),
            SasTokenError::BadField {
                field: "se",
                reason: "is not a whole number of seconds since 1970"
            }
        );
        assert_eq!(
            err("SharedAccessSignature sr=a&sig=not*base64&se=1&skn=k"),
            SasTokenError::BadField {
                field: "sig",
                reason: "is not base64"
            }
        );
        assert_eq!(
            err("SharedAccessSignature sr=%FF&sig=AA%3D%3D&se=1&skn=k"),
            SasTokenError::BadField {
                field: "sr",
                reason: "is not percent-encoded UTF-8"
            }
        );
    }
}
