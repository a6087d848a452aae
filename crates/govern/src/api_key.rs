//! API keys: `cdh_<id>_<secret>`, where the id finds the stored key and the secret (256 random bits, hex) is
//! checked against its Argon2id hash. The secret itself is never stored; it is shown once, when issued.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::fmt;

/// Prefix of every key, so a leaked one is recognisable (and can be found by secret scanners).
const PREFIX: &str = "cdh_";

/// Hex digits of a secret (256 bits).
const SECRET_HEX: usize = 64;

/// Why an API key could not be issued or read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ApiKeyError {
    /// The text is not shaped like a cdihub API key.
    #[error("not a cdihub API key (expected cdh_<id>_<secret>)")]
    Malformed,
    /// The system's random source failed.
    #[error("no randomness for a new key: {0}")]
    Random(String),
    /// Hashing failed.
    #[error("hashing the key: {0}")]
    Hash(String),
}

/// A key as presented by a caller: the id of the stored key and the secret to check.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyToken {
    /// The stored key's id.
    pub id: i64,
    secret: String,
}

impl fmt::Debug for KeyToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyToken").field("id", &self.id).field("secret", &"…").finish()
    }
}

impl KeyToken {
    /// Reads `cdh_<id>_<secret>`.
    pub fn parse(text: &str) -> Result<Self, ApiKeyError> {
        let rest = text.trim().strip_prefix(PREFIX).ok_or(ApiKeyError::Malformed)?;
        let (id, secret) = rest.split_once('_').ok_or(ApiKeyError::Malformed)?;
        let id: i64 = id.parse().map_err(|_| ApiKeyError::Malformed)?;
        if id <= 0 || secret.len() != SECRET_HEX || !secret.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(ApiKeyError::Malformed);
        }
        Ok(KeyToken { id, secret: secret.to_ascii_lowercase() })
    }

    /// True when the secret matches `hash` (an Argon2 PHC string as made by [`new_secret`]).
    pub fn verify(&self, hash: &str) -> bool {
        Argon2::default().verify_password(self.secret.as_bytes(), hash).is_ok()
    }

    /// The secret, for a cache of keys already verified against their hash (keep only a digest of it there).
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

/// A freshly made secret and its hash: store the hash, show the key once.
#[derive(Clone)]
pub struct IssuedKey {
    secret: String,
    /// Argon2id PHC string of the secret, to store.
    pub hash: String,
}

impl fmt::Debug for IssuedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedKey").field("secret", &"…").field("hash", &self.hash).finish()
    }
}

impl IssuedKey {
    /// The full key for the stored key `id`, to hand to its owner once.
    pub fn token(&self, id: i64) -> String {
        format!("{PREFIX}{id}_{}", self.secret)
    }
}

/// Makes a new random secret and hashes it with Argon2id (default parameters: 19 MiB, 2 passes).
pub fn new_secret() -> Result<IssuedKey, ApiKeyError> {
    let mut bytes = [0u8; SECRET_HEX / 2];
    getrandom::fill(&mut bytes).map_err(|e| ApiKeyError::Random(e.to_string()))?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let hash =
        Argon2::default().hash_password(secret.as_bytes()).map_err(|e| ApiKeyError::Hash(e.to_string()))?.to_string();
    Ok(IssuedKey { secret, hash })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_keys_verify_and_others_do_not() {
        let issued = new_secret().expect("issue");
        assert!(issued.hash.starts_with("$argon2id$"), "{}", issued.hash);
        let token = KeyToken::parse(&issued.token(42)).expect("parse");
        assert_eq!(token.id, 42);
        assert!(token.verify(&issued.hash));
        let other = new_secret().expect("issue");
        assert!(!token.verify(&other.hash));
        assert!(!token.verify("not a hash"));
        assert!(!format!("{token:?}{issued:?}").contains(token.secret()), "debug output hides the secret");
    }

    #[test]
    fn malformed_keys_are_refused() {
        let secret = "a".repeat(64);
        assert!(KeyToken::parse(&format!("cdh_7_{secret}")).is_ok());
        for bad in [
            String::new(),
            format!("cdh7_{secret}"),
            format!("cdh_x_{secret}"),
            format!("cdh_0_{secret}"),
            format!("cdh_-1_{secret}"),
            format!("cdh_7_{}", "a".repeat(63)),
            format!("cdh_7_{}", "g".repeat(64)),
            format!("xyz_7_{secret}"),
        ] {
            assert_eq!(KeyToken::parse(&bad), Err(ApiKeyError::Malformed), "{bad}");
        }
    }
}
