//! Audit entries as the store keeps them: append-only, each chained to the one before by its hash
//! (`govern::audit`).

use serde::Serialize;

/// A stored audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Sequence number: 1, 2, … without gaps.
    pub seq: i64,
    /// When, seconds since the epoch.
    pub at: i64,
    /// Who: `key:3:crm-sync`, `cli:alice`.
    pub actor: String,
    /// `change` or `read` (of unmasked personal data).
    pub action: String,
    /// The request or command.
    pub target: String,
    /// The client's address, or `local`.
    pub origin: String,
    /// HTTP status, or 0 for a command that succeeded.
    pub status: i64,
    /// SHA-256 over the previous entry's hash and this entry's fields (hex).
    pub hash: String,
    /// How the hash covers the fields (`govern::audit::FORM`).
    pub form: i64,
    /// When the target was redacted by an erasure: the SHA-256 of what it was.
    pub target_digest: Option<String>,
}

impl AuditEntry {
    /// The fields the hash covers.
    pub fn fields(&self) -> govern::audit::AuditFields<'_> {
        govern::audit::AuditFields {
            seq: self.seq,
            at: self.at,
            actor: &self.actor,
            action: &self.action,
            target: &self.target,
            origin: &self.origin,
            status: self.status,
            form: self.form,
            target_digest: self.target_digest.as_deref(),
        }
    }
}

/// An entry to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// Who.
    pub actor: String,
    /// `change` or `read`.
    pub action: String,
    /// The request or command.
    pub target: String,
    /// From where.
    pub origin: String,
    /// Outcome.
    pub status: i64,
}
