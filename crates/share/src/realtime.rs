//! The real-time hub: one record at a time — upserted, deleted, or moved by a steward — is cleaned, matched
//! against its candidates from the blocking index (kept in memory, built from the stored records when the hub
//! opens), scored with the stored model, and the entities it touches are re-clustered by the same clustering as
//! batch resolution, all inside one store transaction. Entity ids stay stable (`master::identity`), and every
//! change lands on the change feed with who made it and why.

mod memory;
mod rematch;

use crate::ingest::SourceCleaner;
use master::MatchModel;
use master::compare::ComparisonKind;
use master::features::{FeatureBuilder, Features};
use master::incremental::{IndexRules, RecordKeys};
use memory::Memory;
use model::{BirthDate, CleanRecord, Config, EntityId, RecordKey, SourceRecord};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use store::{ErasureOutcome, ErasureRequest, Pin, RecordStatus, Store, Subject, Tx, WriteKind};

/// Why a real-time operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HubError {
    /// The source is not declared in the configuration.
    #[error("no source named `{0}` in the configuration")]
    UnknownSource(String),
    /// The record is not in the store.
    #[error("no record {0}")]
    UnknownRecord(RecordKey),
    /// The entity does not exist, or is retired.
    #[error("no live entity {0}")]
    UnknownEntity(EntityId),
    /// The request cannot be carried out as asked.
    #[error("{0}")]
    Invalid(String),
    /// The configuration's rules are unusable.
    #[error(transparent)]
    Master(#[from] master::MasterError),
    /// The source's mapping is unusable.
    #[error(transparent)]
    Config(#[from] model::ConfigError),
    /// The stored model could not be read, or a record could not be encoded.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Each source's cleaner, validating against `today`.
fn cleaners(config: &Config, today: BirthDate) -> Result<HashMap<String, SourceCleaner>> {
    config.sources.iter().map(|s| Ok((s.name.clone(), SourceCleaner::new(s, today)?))).collect()
}

/// Result of a hub operation.
pub type Result<T, E = HubError> = std::result::Result<T, E>;

/// What an upsert or delete did to one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RecordOutcome {
    /// `source:id`.
    pub record: String,
    /// `inserted`, `updated`, `unchanged`, `deleted` or `suppressed` (erased before; not stored).
    pub write: &'static str,
    /// Where the record stands now.
    pub status: RecordStatus,
    /// The entity it belongs to now, if any.
    pub entity: Option<EntityId>,
    /// Why values were dropped or the record was quarantined.
    pub issues: Vec<String>,
    /// Sequence numbers of the change-feed events this change appended.
    pub events: Vec<i64>,
}

/// Records purged by retention in one transaction.
pub const PURGE_BATCH: usize = 500;

/// What a steward's merge or unmerge did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StewardOutcome {
    /// The entity that now holds the records concerned (the survivor of a merge, the new entity of an unmerge).
    pub entity: Option<EntityId>,
    /// Sequence numbers of the change-feed events appended.
    pub events: Vec<i64>,
}

/// What the matcher knows: the stored model (if one was trained) and the rules derived from it.
struct Matching {
    model: Option<MatchModel>,
    model_id: Option<i64>,
    kinds: Vec<ComparisonKind>,
    builder: FeatureBuilder,
    rules: IndexRules,
    fingerprint: String,
}

/// The real-time matcher over a store. Not tied to one connection: each call takes the store it works in.
pub struct Hub {
    config: Config,
    cleaners: HashMap<String, SourceCleaner>,
    /// The date the cleaners validate birth dates against; they are made again when it changes.
    today: BirthDate,
    matching: Matching,
    /// Every active record's blocking keys and match features.
    memory: Memory,
    /// What the hub wrote to the store's index claim when it built `index` (the rules' fingerprint and a token
    /// of this build); while the store holds it, no one else changed the records.
    claim: String,
}

impl Hub {
    /// A hub for `config`: registers its sources, loads the latest model and builds the blocking index (which
    /// reads every active record once) and claims it in the store.
    pub fn open(config: Config, store: &mut dyn Store) -> Result<Self> {
        let today = crate::clock::today();
        for s in &config.sources {
            let path = config.resolve(&s.path).display().to_string();
            store.register_source(&s.name, &format!("{:?}", s.format).to_lowercase(), &path, s.trust)?;
        }
        let cleaners = cleaners(&config, today)?;
        let matching = Self::matching(&config, store)?;
        let mut hub = Hub { config, cleaners, today, matching, memory: Memory::default(), claim: String::new() };
        hub.refresh(store)?;
        Ok(hub)
    }

    /// The configuration the hub runs with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// True when a trained model scores the pairs (without one only deterministic rules and pins join records).
    pub fn has_model(&self) -> bool {
        self.matching.model.is_some()
    }

    fn matching(config: &Config, store: &dyn Store) -> Result<Matching> {
        let model_id = store.latest_model_id()?;
        let model: Option<MatchModel> = match store.latest_model()? {
            Some(json) => Some(serde_json::from_str(&json)?),
            None => None,
        };
        // Without a model, identifiers are those the configuration declares.
        let names = match &model {
            Some(m) => m.identifier_names.clone(),
            None => {
                let mut names: Vec<String> =
                    config.sources.iter().flat_map(|s| s.identifiers.keys().cloned()).collect();
                names.sort();
                names.dedup();
                names
            }
        };
        let rules = IndexRules::new(&config.master, names.clone())?;
        Ok(Matching {
            kinds: model.as_ref().map(MatchModel::kinds).unwrap_or_default(),
            model,
            model_id,
            builder: FeatureBuilder::new(names),
            fingerprint: rules.fingerprint(),
            rules,
        })
    }

    /// Picks up a model trained since (by `cdihub resolve`, perhaps in another process) and rebuilds the
    /// blocking index when records changed outside the hub (or another hub claimed the index) or the rules
    /// changed. Returns true when it rebuilt.
    pub fn refresh(&mut self, store: &mut dyn Store) -> Result<bool> {
        let today = crate::clock::today();
        if today != self.today {
            self.cleaners = cleaners(&self.config, today)?;
            self.today = today;
        }
        let mut rules_changed = false;
        if store.latest_model_id()? != self.matching.model_id {
            let fingerprint = self.matching.fingerprint.clone();
            self.matching = Self::matching(&self.config, store)?;
            rules_changed = self.matching.fingerprint != fingerprint;
        }
        if !rules_changed && store.index_claim()?.as_deref() == Some(self.claim.as_str()) {
            return Ok(false);
        }
        // Chunk by chunk, so that only the features stay (not every clean record at once).
        let mut featured_all: Vec<(i64, Features, RecordKeys)> = Vec::new();
        let hub = &*self;
        store.for_each_active_chunk(&mut |records| {
            featured_all.par_extend(records.par_iter().map(|r| {
                let f = hub.features(&r.key.source, &r.clean);
                let k = hub.matching.rules.keys(&f);
                (r.rid, f, k)
            }));
            Ok(())
        })?;
        self.memory = Memory::build(featured_all)?;
        let mut token = [0u8; 8];
        getrandom::fill(&mut token).map_err(|e| HubError::Invalid(format!("cannot draw a random token: {e}")))?;
        self.claim = format!("{}|{:016x}", self.matching.fingerprint, u64::from_le_bytes(token));
        store.claim_index(&self.claim)?;
        Ok(true)
    }

    /// A record's match features.
    fn features(&self, source: &str, clean: &CleanRecord) -> Features {
        self.matching.builder.build(self.config.source_index(source), clean)
    }

    /// Upserts records of one source, each given as its raw fields (column → value; the id is `id`), in one
    /// transaction: each is cleaned, stored as a new version if it changed, and matched. `by` names the caller.
    pub fn upsert(
        &mut self,
        store: &mut dyn Store,
        source: &str,
        records: Vec<(String, BTreeMap<String, String>)>,
        by: &str,
    ) -> Result<Vec<RecordOutcome>> {
        if !self.cleaners.contains_key(source) {
            return Err(HubError::UnknownSource(source.to_string()));
        }
        // First: it may make the cleaners again for a new day.
        self.refresh(store)?;
        let cleaner = self.cleaners.get(source).ok_or_else(|| HubError::UnknownSource(source.to_string()))?;
        let now = crate::clock::now();
        let prepared = records
            .into_iter()
            .map(|(id, fields)| {
                let record = SourceRecord { key: RecordKey::new(source, id), line: 0, fields: fields.into() };
                cleaner.prepare(&Ok(record), now)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut outcomes = Vec::with_capacity(prepared.len());
        self.in_transaction(store, &mut |hub, tx| {
            outcomes.clear();
            for p in &prepared {
                let Some(incoming) = &p.record else { continue };
                let issues: Vec<String> = p.entries.iter().map(|e| e.reason.clone()).collect();
                let key = &incoming.key;
                if tx.is_suppressed(key)? {
                    // Erased, and kept from coming back: nothing of it is stored.
                    outcomes.push(RecordOutcome {
                        record: key.to_string(),
                        write: "suppressed",
                        status: RecordStatus::Erased,
                        entity: None,
                        issues: Vec::new(),
                        events: Vec::new(),
                    });
                    continue;
                }
                let state = tx.record_state(key)?;
                let unchanged = state
                    .as_ref()
                    .is_some_and(|s| s.content_hash == incoming.content_hash && s.status != RecordStatus::Deleted);
                if let (true, Some(s)) = (unchanged, &state) {
                    tx.mark_seen(s.rid, now)?;
                    outcomes.push(RecordOutcome {
                        record: key.to_string(),
                        write: "unchanged",
                        status: s.status,
                        entity: s.entity,
                        issues,
                        events: Vec::new(),
                    });
                    continue;
                }
                tx.replace_quarantine(key, &p.entries, now)?;
                let (rid, kind) = tx.write_record(incoming, now)?;
                let old = state.as_ref().and_then(|s| s.clean.as_ref()).map(|c| hub.features(source, c));
                let new = p.clean.as_ref().map(|c| hub.features(source, c));
                let change = hub.reindex(rid, old.as_ref(), new)?;
                let old_entity = state.as_ref().and_then(|s| s.entity);
                let (entity, events) =
                    hub.rematch(tx, Some(change), old_entity.map(|e| e.0 as i64).into_iter().collect(), by, now)?;
                outcomes.push(RecordOutcome {
                    record: key.to_string(),
                    write: match kind {
                        WriteKind::Inserted => "inserted",
                        WriteKind::Updated => "updated",
                        WriteKind::Unchanged => "unchanged",
                    },
                    status: if p.clean.is_some() { RecordStatus::Active } else { RecordStatus::Quarantined },
                    entity,
                    issues,
                    events,
                });
            }
            Ok(())
        })?;
        Ok(outcomes)
    }

    /// Deletes a record at its source: it leaves its entity (whose golden record is recomputed; an entity left
    /// with no records is retired) and is no longer matched. Its versions are kept.
    pub fn delete(&mut self, store: &mut dyn Store, key: &RecordKey, by: &str) -> Result<RecordOutcome> {
        if !self.cleaners.contains_key(&key.source) {
            return Err(HubError::UnknownSource(key.source.clone()));
        }
        self.refresh(store)?;
        let now = crate::clock::now();
        let mut outcome = None;
        self.in_transaction(store, &mut |hub, tx| {
            let state = tx.record_state(key)?.ok_or_else(|| HubError::UnknownRecord(key.clone()))?;
            let Some(rid) = tx.delete_record(key, now)? else {
                // Deleted before: nothing changes.
                outcome = Some(RecordOutcome {
                    record: key.to_string(),
                    write: "unchanged",
                    status: RecordStatus::Deleted,
                    entity: None,
                    issues: Vec::new(),
                    events: Vec::new(),
                });
                return Ok(());
            };
            let old = state.clean.as_ref().map(|c| hub.features(&key.source, c));
            let change = hub.reindex(rid, old.as_ref(), None)?;
            let (_, events) =
                hub.rematch(tx, Some(change), state.entity.map(|e| e.0 as i64).into_iter().collect(), by, now)?;
            outcome = Some(RecordOutcome {
                record: key.to_string(),
                write: "deleted",
                status: RecordStatus::Deleted,
                entity: None,
                issues: Vec::new(),
                events,
            });
            Ok(())
        })?;
        outcome.ok_or_else(|| HubError::Invalid("the delete did not run".into()))
    }

    /// A steward merges entities into one: all their records are pinned together (replacing pins that kept them
    /// apart), and the oldest id survives. Later resolves keep them together.
    pub fn merge(
        &mut self,
        store: &mut dyn Store,
        entities: &[EntityId],
        by: &str,
        reason: Option<&str>,
    ) -> Result<StewardOutcome> {
        if entities.len() < 2 {
            return Err(HubError::Invalid("a merge needs at least two entities".into()));
        }
        self.refresh(store)?;
        let now = crate::clock::now();
        let mut outcome = None;
        self.in_transaction(store, &mut |hub, tx| {
            let ids: Vec<i64> = entities.iter().map(|e| e.0 as i64).collect();
            let mut groups: Vec<Vec<i64>> = Vec::new();
            for id in &ids {
                let members: Vec<i64> = tx.members_of(&[*id])?.into_iter().map(|(rid, _, _)| rid).collect();
                if members.is_empty() {
                    return Err(HubError::UnknownEntity(EntityId(*id as u64)));
                }
                groups.push(members);
            }
            let all: Vec<i64> = groups.iter().flatten().copied().collect();
            // Pins that kept any two of them apart go; one pin per entity ties it to the first.
            for pin in tx.pins_among(&all)? {
                if !pin.together {
                    tx.unpin(pin.a, pin.b)?;
                }
            }
            // Every record is pinned to the first: a steward's merge holds whole, even where the model would see
            // records that contradict each other.
            let anchor = groups[0][0];
            for rid in all.iter().filter(|r| **r != anchor) {
                let pin = Pin {
                    a: anchor.min(*rid),
                    b: anchor.max(*rid),
                    together: true,
                    actor: by.into(),
                    at: now,
                    reason: reason.map(str::to_string),
                };
                tx.pin(&pin)?;
            }
            let (_, events) = hub.rematch(tx, None, ids, by, now)?;
            let entity = tx.entities_of(&[anchor])?.get(&anchor).map(|(e, _)| EntityId(*e as u64));
            outcome = Some(StewardOutcome { entity, events });
            Ok(())
        })?;
        outcome.ok_or_else(|| HubError::Invalid("the merge did not run".into()))
    }

    /// A steward splits records off their entity: they are pinned apart from the records that stay (replacing
    /// pins that held them together) and together with each other, and get a new entity id.
    pub fn unmerge(
        &mut self,
        store: &mut dyn Store,
        entity: EntityId,
        records: &[RecordKey],
        by: &str,
        reason: Option<&str>,
    ) -> Result<StewardOutcome> {
        if records.is_empty() {
            return Err(HubError::Invalid("name the records to split off".into()));
        }
        self.refresh(store)?;
        let now = crate::clock::now();
        let mut outcome = None;
        self.in_transaction(store, &mut |hub, tx| {
            let eid = entity.0 as i64;
            let members: Vec<i64> = tx.members_of(&[eid])?.into_iter().map(|(rid, _, _)| rid).collect();
            if members.is_empty() {
                return Err(HubError::UnknownEntity(entity));
            }
            let mut split = Vec::new();
            for key in records {
                let state = tx.record_state(key)?.ok_or_else(|| HubError::UnknownRecord(key.clone()))?;
                if state.entity != Some(entity) {
                    return Err(HubError::Invalid(format!("{key} is not a member of {entity}")));
                }
                split.push(state.rid);
            }
            let rest: Vec<i64> = members.iter().copied().filter(|m| !split.contains(m)).collect();
            if rest.is_empty() {
                return Err(HubError::Invalid("an unmerge must leave at least one record in the entity".into()));
            }
            let pin = |a: i64, b: i64, together: bool| Pin {
                a: a.min(b),
                b: a.max(b),
                together,
                actor: by.into(),
                at: now,
                reason: reason.map(str::to_string),
            };
            for s in &split {
                for r in &rest {
                    tx.pin(&pin(*s, *r, false))?;
                }
            }
            for pair in split.windows(2) {
                tx.pin(&pin(pair[0], pair[1], true))?;
            }
            let (_, events) = hub.rematch(tx, None, vec![eid], by, now)?;
            let entity = tx.entities_of(&split[..1])?.get(&split[0]).map(|(e, _)| EntityId(*e as u64));
            outcome = Some(StewardOutcome { entity, events });
            Ok(())
        })?;
        outcome.ok_or_else(|| HubError::Invalid("the unmerge did not run".into()))
    }

    /// Purges records for good (retention): each leaves its entity as a delete at its source would (the golden
    /// record is recomputed, an entity left empty is retired, the feed says `by`), then its versions, quarantine
    /// entries, pairs and pins are removed. One transaction; returns how many were purged.
    pub fn purge(&mut self, store: &mut dyn Store, keys: &[RecordKey], by: &str) -> Result<usize> {
        self.refresh(store)?;
        let now = crate::clock::now();
        let mut purged = 0;
        self.in_transaction(store, &mut |hub, tx| {
            purged = 0;
            for key in keys {
                let Some(state) = tx.record_state(key)? else { continue };
                if let Some(rid) = tx.delete_record(key, now)? {
                    let old = state.clean.as_ref().map(|c| hub.features(&key.source, c));
                    let change = hub.reindex(rid, old.as_ref(), None)?;
                    let entities = state.entity.map(|e| e.0 as i64).into_iter().collect();
                    hub.rematch(tx, Some(change), entities, by, now)?;
                }
                tx.purge_record(state.rid, key)?;
                purged += 1;
            }
            Ok(())
        })?;
        Ok(purged)
    }

    /// Purges, source by source, the records not seen for longer than the source's `retention_days` (in
    /// transactions of [`PURGE_BATCH`] records). Returns (source, records purged) for each source with retention.
    pub fn purge_expired(&mut self, store: &mut dyn Store) -> Result<Vec<(String, usize)>> {
        let now = crate::clock::now();
        let mut report = Vec::new();
        for (source, days) in self.config.retention() {
            let keys = store.expired_records(&source, now - i64::from(days) * 86_400)?;
            let mut purged = 0;
            for chunk in keys.chunks(PURGE_BATCH) {
                purged += self.purge(store, chunk, "retention")?;
            }
            report.push((source, purged));
        }
        Ok(report)
    }

    /// Erases a person (the right to be forgotten; see [`Store::erase_subject`]) and forgets their records'
    /// features and index keys. `None` when the hub holds nothing on them.
    pub fn erase(
        &mut self,
        store: &mut dyn Store,
        who: &Subject,
        request: &ErasureRequest,
    ) -> Result<Option<ErasureOutcome>> {
        self.refresh(store)?;
        let Some(outcome) = store.erase_subject(who, request, crate::clock::now(), Some(&self.claim))? else {
            return Ok(None);
        };
        // Committed: the removals below are not rolled back (a failure leaves the claim to be rebuilt).
        self.memory.begin();
        for rid in &outcome.rids {
            if let Some(features) = self.memory.features(*rid).cloned() {
                self.reindex(*rid, Some(&features), None)?;
            }
        }
        self.memory.begin();
        Ok(Some(outcome))
    }

    /// Runs `work` in one store transaction; hub errors roll it back and come out as they went in. Changes to
    /// the blocking index are undone with a rolled-back transaction.
    fn in_transaction(
        &mut self,
        store: &mut dyn Store,
        work: &mut dyn FnMut(&mut Hub, &mut dyn Tx) -> Result<()>,
    ) -> Result<()> {
        let mut failure: Option<HubError> = None;
        self.memory.begin();
        let written = store.write(&mut |tx| {
            if tx.index_claim()?.as_deref() != Some(self.claim.as_str()) {
                failure = Some(HubError::Invalid(
                    "the records changed outside this hub while it was working; retry the request".into(),
                ));
                return Err(store::Error::Invalid("aborted".into()));
            }
            work(self, tx).map_err(|e| {
                failure = Some(e);
                store::Error::Invalid("aborted".into())
            })
        });
        let outcome = match (written, failure) {
            (_, Some(e)) => Err(e),
            (Err(e), None) => Err(e.into()),
            (Ok(()), None) => return Ok(()),
        };
        self.memory.rollback()?;
        outcome
    }
}
