//! A data subject (one person: an entity, or a source record in none) as the store holds them: what a
//! right-of-access export shows and an erasure removes, and the receipt an erasure leaves.

use crate::audit::AuditEntry;
use crate::types::{FeedEvent, QuarantineEntry, StoredPair};
use model::{CleanRecord, EntityId, Golden, RecordKey};
use serde::Serialize;
use std::collections::HashSet;

/// Who a right-of-access export or an erasure is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The person an entity stands for (any of its ids, a former one included).
    Entity(EntityId),
    /// The person behind a source record: its entity's subject when it is in one; otherwise the record alone —
    /// quarantined (an unreadable row may have left nothing but its quarantine entry), deleted at its source
    /// before it was resolved, or not resolved yet.
    Record(RecordKey),
}

impl std::fmt::Display for Subject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Subject::Entity(id) => id.fmt(f),
            Subject::Record(key) => key.fmt(f),
        }
    }
}

/// Everything held about one person.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectData {
    /// The live entity; none for a source record in no entity.
    pub entity: Option<EntityId>,
    /// It and every entity merged into it (ids a consumer may still hold).
    pub entities: Vec<EntityId>,
    /// The golden record; none for a source record in no entity.
    pub golden: Option<Golden>,
    /// Every source record: the members, and former members no other entity holds (deleted at their source); or
    /// the one record in no entity (none when an unreadable row left only its quarantine entries).
    pub records: Vec<SubjectRecord>,
    /// Quarantine entries of those records.
    pub quarantine: Vec<QuarantineEntry>,
    /// The entities' change-feed events and the records' quarantine events, in order.
    pub history: Vec<FeedEvent>,
    /// Scored pairs involving the records.
    pub pairs: Vec<StoredPair>,
    /// Stewards' decisions involving the records.
    pub pins: Vec<SubjectPin>,
    /// Audit entries that name the person (by entity, record or identifier).
    pub audit: Vec<AuditEntry>,
}

/// One source record of a subject, with all its versions.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectRecord {
    /// Internal record id.
    #[serde(skip)]
    pub rid: i64,
    /// Source and id.
    pub key: RecordKey,
    /// `active`, `quarantined` or `deleted`.
    pub status: String,
    /// Current version.
    pub version: i64,
    /// When the current version was stored.
    pub ingested_at: i64,
    /// When the source last changed it, if it says.
    pub updated_at: Option<i64>,
    /// The current clean form (none for a quarantined or deleted record).
    pub clean: Option<CleanRecord>,
    /// Every version as read from the source, oldest first.
    pub versions: Vec<RecordVersion>,
}

/// One stored version of a source record.
#[derive(Debug, Clone, Serialize)]
pub struct RecordVersion {
    /// Version number.
    pub version: i64,
    /// When it was stored.
    pub ingested_at: i64,
    /// The raw fields (column → value).
    pub raw: serde_json::Value,
}

/// A steward's decision about two records, by key.
#[derive(Debug, Clone, Serialize)]
pub struct SubjectPin {
    /// One record.
    pub a: RecordKey,
    /// The other.
    pub b: RecordKey,
    /// `together` or `apart`.
    pub kind: String,
    /// Who decided.
    pub actor: String,
    /// When.
    pub at: i64,
    /// Why, if given.
    pub reason: Option<String>,
}

/// Who asked for an erasure and how far it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErasureRequest {
    /// Who carries it out (`key:3:dpo`, `cli:alice`): named in the feed event and the receipt.
    pub actor: String,
    /// On whose behalf or under which request (a ticket number, not the person's name).
    pub requested_by: String,
    /// Why, if given.
    pub reason: Option<String>,
    /// Put the source records on the suppression list, so ingesting them again skips them.
    pub suppress: bool,
}

/// The proof an erasure leaves: no personal data, only what was done, by whom, and a digest of what was erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Erasure {
    /// Receipt number.
    pub id: i64,
    /// The entity erased; none for a source record in no entity.
    pub entity: Option<EntityId>,
    /// It and the entities merged into it.
    pub entities: Vec<EntityId>,
    /// When, seconds since the epoch.
    pub at: i64,
    /// Who carried it out.
    pub actor: String,
    /// On whose behalf.
    pub requested_by: String,
    /// Why, if given.
    pub reason: Option<String>,
    /// Source records removed.
    pub records: i64,
    /// SHA-256 (hex) of the subject's data as it was erased (the JSON of [`SubjectData`]).
    pub digest: String,
    /// Source records put on the suppression list.
    pub suppressed: i64,
}

/// What an erasure did: the receipt, and what callers holding state must forget.
#[derive(Debug, Clone)]
pub struct ErasureOutcome {
    /// The receipt.
    pub receipt: Erasure,
    /// The internal ids of the records removed.
    pub rids: Vec<i64>,
    /// The feed sequence of the `subject.erased` event.
    pub event: i64,
    /// False when other readers kept the write-ahead log from being emptied (its old pages may still hold the
    /// erased data until the next checkpoint).
    pub log_cleared: bool,
}

/// The suppression list: source records erased that must not come back.
#[derive(Debug, Clone, Default)]
pub struct Suppression(pub HashSet<String>);

impl Suppression {
    /// True when no record is suppressed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when this source record was erased and suppressed.
    pub fn contains(&self, key: &RecordKey) -> bool {
        !self.0.is_empty() && self.0.contains(&govern::erasure::suppression_key(&key.source, &key.source_id))
    }
}
