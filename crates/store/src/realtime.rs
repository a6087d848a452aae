//! What matching one record at a time needs from the store: every read and write of one real-time change, made
//! inside one write transaction ([`crate::Store::write`]), so a change is stored whole or not at all.

use crate::Result;
use crate::types::{ActiveRecord, GoldenRow, IncomingRecord, PairRow, QuarantineEntry};
use model::{CleanRecord, EntityId, RecordKey};
use serde::Serialize;
use std::collections::HashMap;

/// Where a source record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    /// Matched into an entity.
    Active,
    /// Kept, not matched (see the quarantine).
    Quarantined,
    /// Deleted at its source: kept with its versions, not matched.
    Deleted,
    /// Erased (right to be forgotten) and suppressed: never stored, only told in answers.
    Erased,
}

impl RecordStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordStatus::Active => "active",
            RecordStatus::Quarantined => "quarantined",
            RecordStatus::Deleted => "deleted",
            RecordStatus::Erased => "erased",
        }
    }

    /// Reads the stored form.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(RecordStatus::Active),
            "quarantined" => Some(RecordStatus::Quarantined),
            "deleted" => Some(RecordStatus::Deleted),
            _ => None,
        }
    }
}

/// A stored record's current state.
#[derive(Debug, Clone)]
pub struct RecordState {
    /// Internal record id.
    pub rid: i64,
    /// Current version.
    pub version: i64,
    /// Hash of the current raw content.
    pub content_hash: i64,
    /// Where it stands.
    pub status: RecordStatus,
    /// Its clean form, when active.
    pub clean: Option<CleanRecord>,
    /// Its entity, when it has one.
    pub entity: Option<EntityId>,
}

/// What writing a record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteKind {
    /// A new record.
    Inserted,
    /// A new version of a record.
    Updated,
    /// The same content again: no new version.
    Unchanged,
}

/// A steward's decision about a pair of records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pin {
    /// The smaller record id.
    pub a: i64,
    /// The larger record id.
    pub b: i64,
    /// `true`: must be one entity; `false`: must never be.
    pub together: bool,
    /// Who decided.
    pub actor: String,
    /// When, seconds since the epoch.
    pub at: i64,
    /// Why, if given.
    pub reason: Option<String>,
}

/// Why a record joined its entity: the pair that carried it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// The record that joined.
    pub record: i64,
    /// The member it matched.
    pub with: i64,
    /// The deterministic rule or pin, if one decided; otherwise the model did.
    pub rule: Option<String>,
    /// Match probability of the pair.
    pub score: f64,
}

/// Who or what made a change, and why: shown in each entity's history.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Lineage {
    /// `batch resolve`, `api`, or a steward's name.
    pub by: String,
    /// The pairs that carried records into their entities.
    pub evidence: Vec<Evidence>,
    /// Records whose content changed: an entity holding one is told `entity.updated` (`changed`) even when no
    /// record joined or left it, since its golden record may have changed.
    pub changed: Vec<i64>,
}

/// A change to some entities, re-clustered from the records involved: everything in it replaces what the store
/// held for those records.
#[derive(Debug, Clone, Default)]
pub struct LocalChange {
    /// Every record involved: the previous members of every entity concerned, and the changed records.
    pub records: Vec<i64>,
    /// The new clusters: a partition of the involved records that can still be matched (the others leave).
    pub clusters: Vec<Vec<i64>>,
    /// Entity id per cluster (kept from before, or new from [`Tx::next_entity_id`]).
    pub ids: Vec<EntityId>,
    /// Golden record per cluster.
    pub goldens: Vec<GoldenRow>,
    /// Entities no cluster kept, each with its successor.
    pub retired: Vec<(i64, Option<i64>)>,
    /// Scored pairs among the involved records and of the changed records (matched and review); they replace the
    /// stored pairs of the changed records and those among the involved ones.
    pub pairs: Vec<PairRow>,
    /// The records whose pairs are all replaced.
    pub changed: Vec<i64>,
    /// Who and why, for the feed.
    pub lineage: Lineage,
}

/// Reads and writes inside one write transaction.
pub trait Tx {
    /// A record's current state.
    fn record_state(&self, key: &RecordKey) -> Result<Option<RecordState>>;
    /// True when the record was erased and is on the suppression list (it must not be stored again).
    fn is_suppressed(&self, key: &RecordKey) -> Result<bool>;
    /// Inserts a record or a new version of it (the same content is a no-op); returns its id.
    fn write_record(&mut self, record: &IncomingRecord, now: i64) -> Result<(i64, WriteKind)>;
    /// Marks a record deleted at its source (a new, empty version); returns its id, or `None` when unknown or
    /// already deleted.
    fn delete_record(&mut self, key: &RecordKey, now: i64) -> Result<Option<i64>>;
    /// Notes that the record's source still sends it (for retention), to the hour.
    fn mark_seen(&mut self, rid: i64, now: i64) -> Result<()>;
    /// Removes a record for good (retention): every version, its quarantine entries, pairs, pins, membership and
    /// the record itself. The caller has taken it out of its entity first.
    fn purge_record(&mut self, rid: i64, key: &RecordKey) -> Result<()>;
    /// Replaces a record's quarantine entries; a record-level entry also appends `record.quarantined` to the feed.
    fn replace_quarantine(&mut self, key: &RecordKey, entries: &[QuarantineEntry], now: i64) -> Result<()>;
    /// The claim of the hub whose blocking index follows the records (see [`crate::Store::claim_index`]), if any.
    fn index_claim(&self) -> Result<Option<String>>;
    /// The entity (and since when) of each of these records that has one.
    fn entities_of(&self, rids: &[i64]) -> Result<HashMap<i64, (i64, i64)>>;
    /// Every member of these entities: (record, entity, since).
    fn members_of(&self, entities: &[i64]) -> Result<Vec<(i64, i64, i64)>>;
    /// Active records by id (others are left out).
    fn active_by_rid(&self, rids: &[i64]) -> Result<Vec<ActiveRecord>>;
    /// Stored pairs with both records among `rids`.
    fn pairs_among(&self, rids: &[i64]) -> Result<Vec<PairRow>>;
    /// Pins with both records among `rids`.
    fn pins_among(&self, rids: &[i64]) -> Result<Vec<Pin>>;
    /// Sets (or replaces) a pin.
    fn pin(&mut self, pin: &Pin) -> Result<()>;
    /// Removes the pin of a pair, if any; true when there was one.
    fn unpin(&mut self, a: i64, b: i64) -> Result<bool>;
    /// The next unused entity id.
    fn next_entity_id(&self) -> Result<u64>;
    /// The id of the latest trained model, if any.
    fn latest_model_id(&self) -> Result<Option<i64>>;
    /// Writes a change: memberships, entities, golden records, pairs and the feed events that say what happened.
    /// Returns the feed sequence numbers appended.
    fn apply(&mut self, change: &LocalChange, now: i64) -> Result<Vec<i64>>;
}
