//! HTTP basic authentication against bcrypt hashes (`basic_auth_users` of the web config).
//!
//! bcrypt is slow on purpose (tens of milliseconds at cost 10), and a Prometheus sends the same
//! credentials every scrape: a verified pair is remembered by its SHA-256, never in the clear,
//! so a scrape costs one hash lookup. An unknown user costs a bcrypt verification all the same,
//! so timing does not tell which users exist.

use base64::Engine;
use std::collections::{BTreeMap, HashSet};
use std::str::FromStr;
use std::sync::Mutex;

/// Verified pairs remembered at most; beyond that the memory starts over.
const REMEMBERED: usize = 64;

/// A `basic_auth_users` entry that cannot be used; never shows the hash.
#[derive(Debug, thiserror::Error)]
pub enum BadUser {
    #[error("basic_auth_users.{user}: a user name cannot hold `:`")]
    Colon { user: String },
    #[error(
        "basic_auth_users.{user}: not a bcrypt hash (make one with `htpasswd -nBC 10 {user}`)"
    )]
    NotBcrypt { user: String },
}

pub struct BasicAuth {
    /// User -> bcrypt hash.
    users: BTreeMap<String, String>,
    /// SHA-256 of `user NUL password NUL hash` of pairs that verified.
    verified: Mutex<HashSet<[u8; 32]>>,
}

impl BasicAuth {
    /// Every hash must be a bcrypt hash (`$2a$`, `$2b$`, `$2y$`); the error names the user, never
    /// the value.
    pub fn new(users: BTreeMap<String, String>) -> Result<BasicAuth, BadUser> {
        for (user, hash) in &users {
            if user.contains(':') {
                return Err(BadUser::Colon { user: user.clone() });
            }
            bcrypt::HashParts::from_str(hash)
                .map_err(|_| BadUser::NotBcrypt { user: user.clone() })?;
        }
        Ok(BasicAuth {
            users,
            verified: Mutex::new(HashSet::new()),
        })
    }

    /// Whether an `Authorization` header value carries a known user and the right password.
    /// Blocking: may run a bcrypt verification.
    pub fn allows(&self, authorization: Option<&[u8]>) -> bool {
        let Some((user, password)) = authorization.and_then(credentials) else {
            return false;
        };
        let (hash, known) = match self.users.get(&user) {
            Some(hash) => (hash, true),
            // Same work for an unknown user (the map is never empty).
            None => match self.users.values().next() {
                Some(hash) => (hash, false),
                None => return false,
            },
        };
        let key = fingerprint(&user, &password, hash);
        let remembered = self
            .verified
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&key);
        if known && remembered {
            return true;
        }
        let ok = bcrypt::verify(password.as_bytes(), hash).unwrap_or(false) && known;
        if ok {
            let mut verified = self
                .verified
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if verified.len() >= REMEMBERED {
                verified.clear();
            }
            verified.insert(key);
        }
        ok
    }
}

/// `Basic base64(user:password)` -> (user, password).
fn credentials(header: &[u8]) -> Option<(String, String)> {
    let header = std::str::from_utf8(header).ok()?;
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_string(), password.to_string()))
}

fn fingerprint(user: &str, password: &str, hash: &str) -> [u8; 32] {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [user, password, hash] {
        ctx.update(part.as_bytes());
        ctx.update(&[0]);
    }
    let mut out = [0; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(user: &str, password: &str) -> Vec<u8> {
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {encoded}").into_bytes()
    }

    #[test]
    fn verifies_against_bcrypt_hashes() {
        // Cost 4, the least bcrypt allows: the test is about the logic, not the cost.
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let auth = BasicAuth::new(BTreeMap::from([("prom".to_string(), hash)])).unwrap();
        assert!(auth.allows(Some(&header("prom", "s3cret"))));
        // Remembered, and still right.
        assert!(auth.allows(Some(&header("prom", "s3cret"))));
        assert!(!auth.allows(Some(&header("prom", "wrong"))));
        assert!(!auth.allows(Some(&header("nobody", "s3cret"))));
        assert!(!auth.allows(None));
        assert!(!auth.allows(Some(b"Bearer abc")));
        assert!(!auth.allows(Some(b"Basic !!!")));
    }

    #[test]
    fn a_value_that_is_not_a_hash_is_refused_without_showing_it() {
        let e = BasicAuth::new(BTreeMap::from([("a".to_string(), "hunter2".to_string())]))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("basic_auth_users.a") && !e.contains("hunter2"),
            "{e}"
        );
    }
}
