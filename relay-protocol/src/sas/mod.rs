//! Shared Access Signature (SAS) tokens, as Azure Relay signs and checks them.
//!
//! ```text
//! sr    = URL-encode(resource URI)            e.g. http%3A%2F%2Fcontoso.servicebus.windows.net%2Fhyco%2F
//! se    = expiry, Unix seconds                e.g. 1700000000
//! sig   = base64(HMAC-SHA256(key = UTF-8 bytes of the key text as written, message = sr + "\n" + se))
//! token = SharedAccessSignature sr={sr}&sig={URL-encode(sig)}&se={se}&skn={key name}
//! ```
//!
//! Source: the .NET SDK's `SharedAccessSignatureTokenProvider` (key bytes from
//! `Encoding.UTF8.GetBytes`, i.e. the key is *not* base64-decoded; `WebUtility.UrlEncode` for `sr`
//! and `sig`; the signature covers `sr` in its encoded form) and node `hyco-ws`
//! `createRelayToken`, which agree. The signature covers the `sr` text exactly as sent, so a
//! checker must verify against the raw field, not a re-encoding of it.

mod key;
mod token;
mod verify;

pub use key::{SasKey, SasKeyError, MAX_KEY_LENGTH, MAX_KEY_NAME_LENGTH};
pub use token::{resource_uri, signature, string_to_sign, SasToken, SasTokenError, TOKEN_TYPE};
pub use verify::{authorize, resource_matches, verify_signature, AuthError};
