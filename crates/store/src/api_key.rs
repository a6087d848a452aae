//! API keys as the store keeps them: who holds a key and with which role, the Argon2 hash of its secret (never
//! the secret), and whether it still works.

use serde::Serialize;

/// A stored API key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKey {
    /// Its id (the number in `cdh_<id>_…`; never reused).
    pub id: i64,
    /// Who or what holds it ("crm-sync", "Alice").
    pub name: String,
    /// The role it acts with.
    pub role: String,
    /// Argon2id PHC string of the secret.
    #[serde(skip)]
    pub hash: String,
    /// Who created it (a principal's name, or `cli`).
    pub created_by: String,
    /// When it was created, seconds since the epoch.
    pub created_at: i64,
    /// When it stops working, seconds since the epoch; `None`: never.
    pub expires_at: Option<i64>,
    /// When it was revoked, seconds since the epoch.
    pub revoked_at: Option<i64>,
}

impl ApiKey {
    /// True when the key may be used at `now` (not revoked, not expired).
    pub fn usable_at(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e)
    }
}

/// A key to store (its secret already hashed).
#[derive(Debug, Clone, PartialEq)]
pub struct NewApiKey {
    /// Holder.
    pub name: String,
    /// Role.
    pub role: String,
    /// Argon2id PHC string of the secret.
    pub hash: String,
    /// Creator.
    pub created_by: String,
    /// Expiry, seconds since the epoch.
    pub expires_at: Option<i64>,
}
