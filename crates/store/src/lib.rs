//! Persistence behind one [`Store`] trait: source records with their versions, quarantine, trained models,
//! entities with stable ids, memberships, golden records, scored pairs and the change feed. [`SqliteStore`] is
//! the embedded default (one file, WAL) and, so far, the only backend.

mod active_set;
mod api_key;
mod audit;
mod binary_form;
pub mod clean_codec;
mod error;
pub mod golden_codec;
pub mod raw_form;
pub mod realtime;
pub mod sqlite;
mod subject;
mod types;
mod webhook;

pub use active_set::ActiveSet;
pub use api_key::{ApiKey, NewApiKey};
pub use audit::{AuditEntry, NewAuditEntry};
pub use error::{Error, Result};
pub use realtime::*;
pub use sqlite::SqliteStore;
pub use subject::*;
pub use types::*;
pub use webhook::*;

use model::{EntityId, Golden, RawFields, RecordKey};

/// Record batches written as they come (see [`Store::record_sink`]). Dropped without [`RecordSink::finish`]
/// (after an error), it rolls back what it has not committed; what it committed stays.
pub trait RecordSink {
    /// Stores a batch as [`Store::upsert_records`] would and adds its quarantine entries, committing the open
    /// transaction once it holds enough records.
    fn write(&mut self, records: &[IncomingRecord], entries: &[QuarantineEntry]) -> Result<UpsertCounts>;
    /// Commits what is not committed yet.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// Everything the pipeline and the command line need from a database.
pub trait Store {
    /// Records that a source was declared (or re-declared) with this trust rank.
    fn register_source(&mut self, name: &str, format: &str, path: &str, trust: i32) -> Result<()>;
    /// Forgets a source's quarantine entries before it is ingested again (they are re-evaluated).
    fn clear_quarantine(&mut self, source: &str) -> Result<()>;
    /// Inserts or versions a batch of records in one transaction; unchanged content is a no-op.
    fn upsert_records(&mut self, records: &[IncomingRecord], now: i64) -> Result<UpsertCounts>;
    /// Adds quarantine entries.
    fn quarantine(&mut self, entries: &[QuarantineEntry]) -> Result<()>;
    /// A writer of record batches stamped `now`, as they come, in transactions that each hold at least
    /// `per_commit` records (a bulk load: fewer commits, and no batch waits for others to be gathered).
    fn record_sink(&mut self, per_commit: usize, now: i64) -> Result<Box<dyn RecordSink + '_>>;
    /// Quarantine entries, newest first, optionally for one source.
    fn quarantined(&self, source: Option<&str>, limit: usize) -> Result<Vec<QuarantineEntry>>;
    /// All records that can be matched, ordered by record id, in compact form (for a batch resolution).
    fn active_set(&self) -> Result<ActiveSet>;
    /// All records that can be matched, ordered by record id.
    fn active_records(&self) -> Result<Vec<ActiveRecord>> {
        let mut all = Vec::new();
        self.for_each_active_chunk(&mut |chunk| {
            all.extend(chunk);
            Ok(())
        })?;
        Ok(all)
    }
    /// The records that can be matched, in chunks of some thousands in record-id order, each handed over (on
    /// another thread) as soon as it is decoded: for callers that keep less than the whole records.
    fn for_each_active_chunk(&self, f: &mut (dyn FnMut(Vec<ActiveRecord>) -> Result<()> + Send)) -> Result<()>;
    /// One record's current clean form.
    fn record(&self, key: &RecordKey) -> Result<Option<ActiveRecord>>;
    /// Each record's current entity (record id → entity id), for choosing stable ids.
    fn previous_entities(&self) -> Result<RidMap<i64>>;
    /// The next unused entity id (ids are never reused).
    fn next_entity_id(&self) -> Result<u64>;
    /// Writes a whole resolution in one transaction: model, run report, entities, memberships, golden records
    /// (one from `goldens` per cluster, in cluster order: they may still be being made while earlier ones are
    /// written) and pairs. Entities that lost all members are retired and redirect to their successor.
    fn save_resolution(
        &mut self,
        resolved: &Resolved,
        goldens: &mut dyn Iterator<Item = Result<GoldenRow>>,
        now: i64,
    ) -> Result<()>;
    /// The latest trained model (JSON), if any.
    fn latest_model(&self) -> Result<Option<String>>;
    /// Stores a model (JSON) as the latest, without a resolution (imported from another hub).
    fn save_model(&mut self, json: &str, now: i64) -> Result<()>;
    /// The id of the latest trained model, if any: cheap, to notice a new one.
    fn latest_model_id(&self) -> Result<Option<i64>>;
    /// The claim of the hub whose blocking index follows the records (see [`Store::claim_index`]), if any.
    fn index_claim(&self) -> Result<Option<String>>;
    /// An entity with its golden record and members; a retired id answers with its successor.
    fn entity(&self, id: EntityId) -> Result<Option<EntityView>>;
    /// The entity a source record belongs to.
    fn entity_of(&self, key: &RecordKey) -> Result<Option<EntityId>>;
    /// Entities whose names, emails, phones or postcodes resemble the query, best first.
    fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>>;
    /// Calls `f` with every golden record, in entity order.
    fn for_each_golden(&self, f: &mut dyn FnMut(&Golden) -> Result<()>) -> Result<()>;
    /// Calls `f` with every (record key, entity) membership, in record order.
    fn for_each_membership(&self, f: &mut dyn FnMut(&RecordKey, EntityId) -> Result<()>) -> Result<()>;
    /// Calls `f` with every record's current raw fields, in record order (records deleted at their source have
    /// none and are left out).
    fn for_each_raw(&self, f: &mut dyn FnMut(&RecordKey, &RawFields) -> Result<()>) -> Result<()>;
    /// Stored pairs, best first: `match`, `review` (the review queue, vetoed joins included) or `all`.
    fn pairs(&self, decision: &str, limit: usize) -> Result<Vec<StoredPair>>;
    /// Counts for summaries.
    fn stats(&self) -> Result<StoreStats>;
    /// Change-feed events after sequence number `after`, oldest first, at most `limit`.
    fn feed(&self, after: i64, limit: usize) -> Result<Vec<FeedEvent>>;
    /// Every change-feed event about one entity, oldest first: its lineage.
    fn entity_history(&self, id: EntityId) -> Result<Vec<FeedEvent>>;
    /// Runs `work` inside one write transaction: committed when it returns `Ok`, rolled back otherwise.
    fn write(&mut self, work: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()>;
    /// Records that a hub has built its (in-memory) blocking index from the records as they are now; `claim` names
    /// the rules and that build. The claim holds until records change outside that hub (a file ingest clears it)
    /// or another hub claims the index: the hub checks it in every change and rebuilds when it is gone.
    fn claim_index(&mut self, claim: &str) -> Result<()>;
    /// Every pin stewards set.
    fn pins(&self) -> Result<Vec<Pin>>;
    /// The newest feed sequence (0 when the feed is empty).
    fn feed_head(&self) -> Result<i64>;
    /// Everything held about a person; `None` when the hub holds nothing on them (no such live entity, or nothing
    /// under that record key).
    fn subject(&self, who: &Subject) -> Result<Option<SubjectData>>;
    /// Erases that person in one transaction (see `sqlite/subject.rs` for what goes), leaving a receipt and a
    /// `subject.erased` feed event. The blocking index is marked out of date unless the hub whose claim is
    /// `keep_claim` holds it (that hub forgets the records itself). `None` when the hub holds nothing on them.
    fn erase_subject(
        &mut self,
        who: &Subject,
        request: &ErasureRequest,
        now: i64,
        keep_claim: Option<&str>,
    ) -> Result<Option<ErasureOutcome>>;
    /// Every erasure receipt, oldest first.
    fn erasures(&self) -> Result<Vec<Erasure>>;
    /// Records of `source` its source has not sent since `seen_before` (seconds since the epoch), by key: what
    /// retention purges.
    fn expired_records(&self, source: &str, seen_before: i64) -> Result<Vec<RecordKey>>;
    /// The suppression list (source records erased that ingesting skips).
    fn suppression(&self) -> Result<Suppression>;
    /// Appends an audit entry at `now`; returns its sequence number.
    fn append_audit(&mut self, entry: &NewAuditEntry, now: i64) -> Result<i64>;
    /// Audit entries after sequence `after`, oldest first, at most `limit`.
    fn audit(&self, after: i64, limit: usize) -> Result<Vec<AuditEntry>>;
    /// The newest audit entry's sequence number and hash, if any.
    fn audit_head(&self) -> Result<Option<(i64, String)>>;
    /// Every audit entry in order, one at a time.
    fn for_each_audit(&self, f: &mut dyn FnMut(AuditEntry) -> Result<()>) -> Result<()>;
    /// Checks the audit trail's hash chain: the number of entries, or where it breaks.
    fn verify_audit(&self) -> Result<Result<i64, govern::audit::Broken>> {
        let mut verifier = govern::audit::Verifier::default();
        let mut broken = None;
        self.for_each_audit(&mut |entry| {
            if broken.is_none() {
                broken = verifier.check(&entry.fields(), &entry.hash).err();
            }
            Ok(())
        })?;
        Ok(broken.map_or(Ok(verifier.checked()), Err))
    }
    /// Stores an API key; `now` in seconds since the epoch.
    fn add_api_key(&mut self, key: &NewApiKey, now: i64) -> Result<ApiKey>;
    /// One API key.
    fn api_key(&self, id: i64) -> Result<Option<ApiKey>>;
    /// Every API key, revoked and expired ones included, by id.
    fn api_keys(&self) -> Result<Vec<ApiKey>>;
    /// Revokes an API key; false when there is none or it was revoked already.
    fn revoke_api_key(&mut self, id: i64, now: i64) -> Result<bool>;
    /// Registers a webhook; `now` in seconds since the epoch.
    fn add_webhook(&mut self, hook: &NewWebhook, now: i64) -> Result<Webhook>;
    /// Every registered webhook, by id.
    fn webhooks(&self) -> Result<Vec<Webhook>>;
    /// One webhook.
    fn webhook(&self, id: i64) -> Result<Option<Webhook>>;
    /// Removes a webhook; false if there was none.
    fn remove_webhook(&mut self, id: i64) -> Result<bool>;
    /// Records the outcome of a delivery attempt. A cursor never moves back, and an outcome for a webhook removed
    /// meanwhile is ignored.
    fn record_delivery(&mut self, id: i64, outcome: &Delivery) -> Result<()>;
}
