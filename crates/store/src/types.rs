//! The values that cross the store boundary.

use crate::raw_form::StoredLayout;
use model::{CleanRecord, EntityId, Golden, RawFields, RecordKey};
use serde::{Deserialize, Serialize};

/// A record as ingested, already encoded for storage (so callers can encode in parallel): raw fields always,
/// the clean form unless the record is quarantined.
#[derive(Debug, Clone)]
pub struct IncomingRecord {
    /// Source and id.
    pub key: RecordKey,
    /// Raw values as stored (see [`crate::raw_form`]): compact, or (as earlier versions wrote it) a JSON object.
    pub raw: String,
    /// The column names a compact `raw` refers to; the store keeps them once per layout.
    pub layout: Option<StoredLayout>,
    /// Hash of the raw values as a JSON object: an unchanged record is recognised by it.
    pub content_hash: i64,
    /// Clean form, encoded by [`crate::clean_codec`]; `None` marks the record quarantined (it is kept, but not
    /// matched).
    pub clean: Option<Vec<u8>>,
    /// When the source last changed the record (from the clean form).
    pub updated_at: Option<i64>,
    /// Why the record is quarantined (when `clean` is `None`): told to the change feed when it is stored.
    pub quarantine_reasons: Vec<String>,
}

impl IncomingRecord {
    /// Encodes a record's raw fields (as a JSON object) and clean form.
    pub fn encode(key: RecordKey, raw: &RawFields, clean: Option<&CleanRecord>) -> Result<Self, serde_json::Error> {
        let object = serde_json::to_string(raw)?;
        Ok(Self::with_raw(key, crate::raw_form::content_hash(object.as_bytes()), object, None, clean))
    }

    /// Encodes a record whose raw fields are laid out by a file's header: compact, its column names kept once
    /// (see [`crate::raw_form`]). Only for header names, which are schema: a document's keys may hold personal
    /// data, and a stored layout outlives the versions an erasure deletes.
    pub fn encode_compact(
        key: RecordKey,
        raw: &RawFields,
        clean: Option<&CleanRecord>,
    ) -> Result<Self, serde_json::Error> {
        let layout = StoredLayout::of(raw);
        let encoded = crate::raw_form::encode(raw, layout.id)?;
        // The hash is of the JSON object either way, so a record is recognised as unchanged however it came.
        Ok(Self::with_raw(key, encoded.content_hash, encoded.compact, Some(layout), clean))
    }

    fn with_raw(
        key: RecordKey,
        content_hash: i64,
        raw: String,
        layout: Option<StoredLayout>,
        clean: Option<&CleanRecord>,
    ) -> Self {
        IncomingRecord {
            key,
            content_hash,
            raw,
            layout,
            clean: clean.map(crate::clean_codec::encode),
            updated_at: clean.and_then(|c| c.updated_at),
            quarantine_reasons: Vec::new(),
        }
    }
}

/// What an upsert batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpsertCounts {
    /// New records.
    pub inserted: u64,
    /// Records whose content changed (a new version).
    pub updated: u64,
    /// Records ingested again with the same content.
    pub unchanged: u64,
}

/// A quarantine entry: a record or a value that could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuarantineEntry {
    /// Source name.
    pub source: String,
    /// Record id, when it could be read.
    pub source_id: Option<String>,
    /// Line (or array index) in the file.
    pub line: u64,
    /// `record` (the record was not used) or `value` (one value was dropped).
    pub severity: String,
    /// The field concerned.
    pub field: Option<String>,
    /// The rejected value or raw row, shortened.
    pub value: Option<String>,
    /// Why.
    pub reason: String,
    /// When, seconds since the epoch.
    pub at: i64,
}

/// A record that takes part in matching.
#[derive(Debug, Clone)]
pub struct ActiveRecord {
    /// Internal record id.
    pub rid: i64,
    /// Source and id.
    pub key: RecordKey,
    /// Trust rank of its source.
    pub trust: i32,
    /// Source update time if known, else ingest time.
    pub recency: i64,
    /// Current version number.
    pub version: i64,
    /// Clean form.
    pub clean: CleanRecord,
}

/// A pair worth storing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredPair {
    /// First record.
    pub a: RecordKey,
    /// Second record.
    pub b: RecordKey,
    /// Match probability.
    pub probability: f64,
    /// `match`, `review` or `vetoed`.
    pub decision: String,
    /// Deterministic rule, if one matched.
    pub rule: Option<String>,
}

/// A pair to write, by record id.
#[derive(Debug, Clone, PartialEq)]
pub struct PairRow {
    /// First record id.
    pub a: i64,
    /// Second record id.
    pub b: i64,
    /// Match probability.
    pub probability: f64,
    /// `match`, `review` or `vetoed`.
    pub decision: &'static str,
    /// Deterministic rule name.
    pub rule: Option<String>,
}

/// A golden record rendered for storage: display name, search text and stored form. Rendering as soon as a
/// golden record is made keeps one form in memory instead of two.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldenRow {
    /// "Henk de Vries".
    pub name: String,
    /// Folded tokens a search can find the entity by.
    pub search: String,
    /// The golden record in the store's binary form ([`crate::golden_codec`]).
    pub stored: Vec<u8>,
}

/// A map keyed by record id (or entity id). Hashed with foldhash: a re-resolution of a million records builds a
/// few of these, and the standard library's SipHash made that a noticeable share of its work.
pub type RidMap<V> = std::collections::HashMap<i64, V, foldhash::fast::RandomState>;

/// A whole resolution to write.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The model as JSON.
    pub model_json: String,
    /// The run report as JSON.
    pub report_json: String,
    /// Record ids per cluster.
    pub clusters: Vec<Vec<i64>>,
    /// Entity id per cluster (stable: see `master::identity`).
    pub ids: Vec<EntityId>,
    /// Matched and review pairs.
    pub pairs: Vec<PairRow>,
    /// Record keys as `source:id` by record id, sorted by id, for the change feed; records not in it are looked
    /// up in the store (the caller holds the resolved records' keys already, so the store need not read them all).
    pub record_keys: Vec<(i64, String)>,
}

/// Every kind of change-feed event.
pub const FEED_KINDS: &[&str] = &[
    "entity.created",
    "entity.updated",
    "entity.split",
    "entity.merged",
    "entity.retired",
    "record.quarantined",
    "subject.erased",
];

/// One event of the change feed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedEvent {
    /// Position in the feed; only grows.
    pub seq: i64,
    /// When, seconds since the epoch.
    pub at: i64,
    /// One of [`FEED_KINDS`].
    pub kind: String,
    /// The entity it is about.
    pub entity: Option<EntityId>,
    /// What changed: `records`, `from`, `joined`, `left`, `merged_from`, `into` (record keys as `source:id`,
    /// entities as `E12`).
    pub payload: serde_json::Value,
}

/// An entity as shown to people.
#[derive(Debug, Clone, Serialize)]
pub struct EntityView {
    /// The id (the survivor's, when a retired id was asked for).
    pub id: EntityId,
    /// The id asked for, when it was retired and redirected.
    pub redirected_from: Option<EntityId>,
    /// The golden record.
    pub golden: Golden,
    /// Member records with their clean form.
    pub members: Vec<(RecordKey, CleanRecord)>,
}

/// A search result.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    /// The entity.
    pub entity: EntityId,
    /// Its display name.
    pub name: String,
    /// Similarity to the query in [0, 1].
    pub score: f64,
}

/// Counts for summaries.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StoreStats {
    /// Records by source: (name, active, quarantined).
    pub sources: Vec<(String, u64, u64)>,
    /// Quarantine entries (records and values).
    pub quarantine_entries: u64,
    /// Live entities.
    pub entities: u64,
    /// Pairs waiting for review.
    pub review_pairs: u64,
}
