//! A named shared access key (an authorization rule's `SharedAccessKeyName` and `SharedAccessKey`).

use std::fmt;

use base64::Engine;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use crate::secret::SecretString;

use super::token::SasToken;

/// Longest key name the .NET SDK accepts (`SharedAccessSignatureToken.MaxKeyNameLength`).
pub const MAX_KEY_NAME_LENGTH: usize = 256;
/// Longest key the .NET SDK accepts (`SharedAccessSignatureToken.MaxKeyLength`).
pub const MAX_KEY_LENGTH: usize = 256;

/// A key name and its key. `Debug` shows the name and `****`.
#[derive(Clone, PartialEq, Eq)]
pub struct SasKey {
    name: String,
    key: SecretString,
}

/// Why a key name or key was refused. Names the field, never shows the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SasKeyError {
    #[error("{0} is empty")]
    Empty(&'static str),
    #[error("{0} is longer than 256 characters")]
    TooLong(&'static str),
    #[error("{0} has leading or trailing whitespace")]
    SurroundingWhitespace(&'static str),
    #[error("{0} contains a control character or ';'")]
    ForbiddenCharacter(&'static str),
}

/// Field names as a connection string spells them, used in errors.
const NAME_FIELD: &str = "SharedAccessKeyName";
const KEY_FIELD: &str = "SharedAccessKey";

impl SasKey {
    /// A key name and key as written in the portal or a connection string. They must be
    /// non-empty, at most 256 characters, without surrounding whitespace, control characters or
    /// `;` (so that they survive a connection string).
    pub fn new(name: impl Into<String>, key: impl Into<String>) -> Result<Self, SasKeyError> {
        let name = name.into();
        let key = key.into();
        check_field(NAME_FIELD, &name, MAX_KEY_NAME_LENGTH)?;
        check_field(KEY_FIELD, &key, MAX_KEY_LENGTH)?;
        Ok(SasKey {
            name,
            key: SecretString::new(key),
        })
    }

    /// A fresh random key (32 random bytes, base64, like the portal's keys), for a relay that
    /// was given none.
    pub fn generate(name: impl Into<String>) -> Result<Self, SasKeyError> {
        let mut bytes = [0u8; 32];
        // The system RNG only fails when the OS has no entropy source at all.
        SystemRandom::new()
            .fill(&mut bytes)
            .expect("the operating system provides random bytes");
        SasKey::new(
            name,
            base64::engine::general_purpose::STANDARD.encode(bytes),
        )
    }

    /// The key name (`skn`), not secret.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key itself.
    pub fn key(&self) -> &SecretString {
        &self.key
    }

    /// Signs `resource_uri` (e.g. `http://contoso.servicebus.windows.net/hyco/`) until
    /// `expiry_unix` (seconds since 1970).
    pub fn sign(&self, resource_uri: &str, expiry_unix: u64) -> SasToken {
        SasToken::sign(self, resource_uri, expiry_unix)
    }

    /// The HMAC key: the UTF-8 bytes of the key text, as written (not base64-decoded).
    pub(crate) fn hmac_key(&self) -> hmac::Key {
        hmac::Key::new(hmac::HMAC_SHA256, self.key.expose().as_bytes())
    }
}

impl fmt::Debug for SasKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SasKey")
            .field("name", &self.name)
            .field("key", &self.key)
            .finish()
    }
}

fn check_field(field: &'static str, text: &str, max: usize) -> Result<(), SasKeyError> {
    if text.is_empty() {
        return Err(SasKeyError::Empty(field));
    }
    if text.chars().count() > max {
        return Err(SasKeyError::TooLong(field));
    }
    if text.trim() != text {
        return Err(SasKeyError::SurroundingWhitespace(field));
    }
    if text.chars().any(|c| c.is_control() || c == ';') {
        return Err(SasKeyError::ForbiddenCharacter(field));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_key() {
        let key = SasKey::new("RootManageSharedAccessKey", "s3cr3t-key").unwrap();
        let shown = format!("{key:?}");
        assert_eq!(
            shown,
            r#"SasKey { name: "RootManageSharedAccessKey", key: **** }"#
        );
    }

    #[test]
    fn errors_name_the_field_and_hide_the_key() {
        assert_eq!(
            SasKey::new("", "k"),
            Err(SasKeyError::Empty("SharedAccessKeyName"))
        );
        assert_eq!(
            SasKey::new("n", ""),
            Err(SasKeyError::Empty("SharedAccessKey"))
        );
        let err = SasKey::new("n", "abc;def").unwrap_err();
        assert_eq!(err, SasKeyError::ForbiddenCharacter("SharedAccessKey"));
        assert!(!err.to_string().contains("abc"));
        assert_eq!(
            SasKey::new("n", " k"),
            Err(SasKeyError::SurroundingWhitespace("SharedAccessKey"))
        );
        assert_eq!(
            SasKey::new("n".repeat(257), "k"),
            Err(SasKeyError::TooLong("SharedAccessKeyName"))
        );
    }

    #[test]
    fn generated_keys_differ_and_look_like_portal_keys() {
        let a = SasKey::generate("relay").unwrap();
        let b = SasKey::generate("relay").unwrap();
        assert_ne!(a.key(), b.key());
        assert_eq!(a.key().expose().len(), 44);
        assert!(a.key().expose().ends_with('='));
    }
}
