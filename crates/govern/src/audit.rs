//! The audit trail's hash chain: each entry's hash covers its own fields and the hash of the entry before, so
//! editing, removing or reordering any stored entry breaks every hash after it, which [`verify`] finds.
//!
//! Entries of the current form ([`FORM`]) cover their target by its SHA-256 digest: when an erasure redacts a
//! target that named the person, the entry keeps that digest and the chain still verifies. Entries of the first
//! form covered the target itself; one of them redacted can no longer be checked on its own (the chain still
//! links through it), and the verifier counts it.

use sha2::{Digest, Sha256};

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One entry's fields, as hashed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditFields<'a> {
    /// Sequence number (1, 2, … without gaps).
    pub seq: i64,
    /// When, seconds since the epoch.
    pub at: i64,
    /// Who: `key:3:crm-sync`, `cli:alice`.
    pub actor: &'a str,
    /// What kind of thing happened: `change`, `read`, `access`.
    pub action: &'a str,
    /// What it was done to: the request (`PUT /sources/crm/records/7`) or the command.
    pub target: &'a str,
    /// From where: the client's address, or `local`.
    pub origin: &'a str,
    /// The outcome (an HTTP status, or 0 for a command that succeeded).
    pub status: i64,
    /// How the hash covers the fields: 1 (the target itself) or 2 ([`FORM`]: the target's digest).
    pub form: i64,
    /// The SHA-256 of the target as it was written, kept when the target was redacted.
    pub target_digest: Option<&'a str>,
}

/// The form new entries are written in.
pub const FORM: i64 = 2;

/// The hash of an entry following the entry whose hash is `previous`: SHA-256 (hex) over the previous hash and
/// the entry's fields encoded as a JSON array (unambiguous, whatever the texts contain).
pub fn chain_hash(previous: &str, e: &AuditFields<'_>) -> String {
    let target = match (e.form, e.target_digest) {
        (1, _) => e.target.to_string(),
        (_, Some(digest)) => digest.to_string(),
        (_, None) => crate::erasure::sha256_hex(e.target.as_bytes()),
    };
    let fields = serde_json::json!([e.seq, e.at, e.actor, e.action, target, e.origin, e.status]).to_string();
    let mut hasher = Sha256::new();
    hasher.update(previous.as_bytes());
    hasher.update(b"\n");
    hasher.update(fields.as_bytes());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit entry {seq}: {reason}")]
pub struct Broken {
    /// The first entry that does not fit.
    pub seq: i64,
    /// Why.
    pub reason: String,
}

/// Checks a chain read in sequence order, entry by entry (fields and stored hash); stops at the first break.
#[derive(Debug)]
pub struct Verifier {
    previous: String,
    next_seq: i64,
    unverifiable: i64,
}

impl Default for Verifier {
    fn default() -> Self {
        Verifier { previous: GENESIS.to_string(), next_seq: 1, unverifiable: 0 }
    }
}

impl Verifier {
    /// Checks the next entry.
    pub fn check(&mut self, fields: &AuditFields<'_>, stored_hash: &str) -> Result<(), Broken> {
        if fields.seq != self.next_seq {
            return Err(Broken {
                seq: fields.seq,
                reason: format!("expected entry {} here: entries were removed or reordered", self.next_seq),
            });
        }
        if fields.form == 1 && fields.target_digest.is_some() {
            // A first-form entry whose target was redacted: its hash covered the erased text, so only its place
            // in the chain can be checked (the next entry's hash covers this one's).
            self.unverifiable += 1;
            self.previous = stored_hash.to_string();
            self.next_seq += 1;
            return Ok(());
        }
        let expected = chain_hash(&self.previous, fields);
        if expected != stored_hash {
            return Err(Broken {
                seq: fields.seq,
                reason: "its hash does not match its content: it was altered".into(),
            });
        }
        self.previous = expected;
        self.next_seq += 1;
        Ok(())
    }

    /// Entries checked so far.
    pub fn checked(&self) -> i64 {
        self.next_seq - 1
    }

    /// Of those, first-form entries with a redacted target, whose own content could not be checked.
    pub fn unverifiable(&self) -> i64 {
        self.unverifiable
    }
}

/// Checks a whole chain of (fields, stored hash), in sequence order.
pub fn verify<'a>(entries: impl IntoIterator<Item = (AuditFields<'a>, &'a str)>) -> Result<i64, Broken> {
    let mut verifier = Verifier::default();
    for (fields, hash) in entries {
        verifier.check(&fields, hash)?;
    }
    Ok(verifier.checked())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<(String, String, String)> {
        let mut out = Vec::new();
        let mut previous = GENESIS.to_string();
        for seq in 1..=n {
            let target = format!("GET /entities/E{seq}");
            let fields = AuditFields {
                seq,
                at: 100 + seq,
                actor: "key:1:ann",
                action: "read",
                target: &target,
                origin: "10.0.0.1",
                status: 200,
                form: FORM,
                target_digest: None,
            };
            previous = chain_hash(&previous, &fields);
            out.push((target, previous.clone(), "key:1:ann".to_string()));
        }
        out
    }

    fn entries(chain: &[(String, String, String)]) -> Vec<(AuditFields<'_>, &str)> {
        chain
            .iter()
            .enumerate()
            .map(|(i, (target, hash, actor))| {
                let seq = i as i64 + 1;
                (
                    AuditFields {
                        seq,
                        at: 100 + seq,
                        actor,
                        action: "read",
                        target,
                        origin: "10.0.0.1",
                        status: 200,
                        form: FORM,
                        target_digest: None,
                    },
                    hash.as_str(),
                )
            })
            .collect()
    }

    #[test]
    fn an_intact_chain_verifies_and_any_edit_is_found() {
        let good = chain(5);
        assert_eq!(verify(entries(&good)), Ok(5));
        let mut edited = good.clone();
        edited[2].0 = "GET /entities/E99".into();
        assert_eq!(verify(entries(&edited)).map_err(|b| b.seq), Err(3));
        let mut reactor = good.clone();
        reactor[3].2 = "key:2:eve".into();
        assert_eq!(verify(entries(&reactor)).map_err(|b| b.seq), Err(4));
        let mut removed = entries(&good);
        removed.remove(1);
        assert!(verify(removed).expect_err("gap").reason.contains("removed"));
        // Rehashing one altered entry does not help: the next entry's hash covers it.
        let mut rehashed = good.clone();
        rehashed[1].0 = "GET /entities/E77".into();
        let f = AuditFields {
            seq: 2,
            at: 102,
            actor: "key:1:ann",
            action: "read",
            target: &rehashed[1].0,
            origin: "10.0.0.1",
            status: 200,
            form: FORM,
            target_digest: None,
        };
        rehashed[1].1 = chain_hash(&good[0].1, &f);
        assert_eq!(verify(entries(&rehashed)).map_err(|b| b.seq), Err(3));
    }

    #[test]
    fn a_redacted_target_keeps_the_chain_whole_through_its_digest() {
        let good = chain(3);
        let digest = crate::erasure::sha256_hex(good[1].0.as_bytes());
        let mut list = entries(&good);
        list[1].0.target = crate::erasure::REDACTED;
        list[1].0.target_digest = Some(&digest);
        assert_eq!(verify(list.clone()), Ok(3));
        // A wrong digest is an alteration.
        let wrong = crate::erasure::sha256_hex(b"GET /entities/E1");
        list[1].0.target_digest = Some(&wrong);
        assert_eq!(verify(list).map_err(|b| b.seq), Err(2));
    }

    #[test]
    fn a_redacted_first_form_entry_is_linked_but_counted_as_unverifiable() {
        let mut previous = GENESIS.to_string();
        let mut hashes = Vec::new();
        for seq in 1..=3 {
            let f = AuditFields {
                seq,
                at: seq,
                actor: "cli:ann",
                action: "change",
                target: "resolve",
                origin: "local",
                status: 0,
                form: 1,
                target_digest: None,
            };
            previous = chain_hash(&previous, &f);
            hashes.push(previous.clone());
        }
        let mut verifier = Verifier::default();
        for (i, hash) in hashes.iter().enumerate() {
            let seq = i as i64 + 1;
            let redacted = seq == 2;
            let f = AuditFields {
                seq,
                at: seq,
                actor: "cli:ann",
                action: "change",
                target: if redacted { crate::erasure::REDACTED } else { "resolve" },
                origin: "local",
                status: 0,
                form: 1,
                target_digest: redacted.then_some("digest"),
            };
            assert_eq!(verifier.check(&f, hash), Ok(()));
        }
        assert_eq!((verifier.checked(), verifier.unverifiable()), (3, 1));
    }
}
