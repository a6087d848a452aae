//! A data subject in SQLite: gathering everything held about one person (right of access) and erasing it (right
//! to be forgotten) in one transaction, leaving a receipt and, if asked, suppressing the source records.

use super::{
    PAIRS_WITH_KEYS, QUARANTINE_COLUMNS, StoredClean, audit, feed, golden_of, key_of, quarantine_entry, stored_pair,
};
use crate::subject::*;
use crate::types::{FeedEvent, QuarantineEntry, StoredPair};
use crate::{Error, Result};
use govern::erasure::{Mentions, REDACTED, sha256_hex, suppression_key};
use model::{EntityId, RecordKey};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use std::collections::{BTreeSet, HashSet};

/// The live entity an id stands for (following merges), or `None` when there is none.
fn live_entity(conn: &Connection, id: EntityId) -> Result<Option<i64>> {
    let mut current = id.0 as i64;
    for _ in 0..64 {
        let row: Option<(Option<i64>, Option<i64>)> = conn
            .prepare_cached("SELECT retired_at, merged_into FROM entities WHERE entity_id = ?1")?
            .query_row([current], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        match row {
            None | Some((Some(_), None)) => return Ok(None),
            Some((Some(_), Some(next))) => current = next,
            Some((None, _)) => return Ok(Some(current)),
        }
    }
    Ok(None)
}

/// Everything held about a person: an entity's (see [`gather_entity`]), or a source record's that is in no
/// entity (see [`gather_record`]).
pub(super) fn gather(conn: &Connection, who: &Subject) -> Result<Option<SubjectData>> {
    match who {
        Subject::Entity(id) => gather_entity(conn, *id),
        Subject::Record(key) => {
            let entity: Option<i64> = conn
                .prepare_cached(
                    "SELECT m.entity_id FROM records r JOIN memberships m ON m.rid = r.rid
                     WHERE r.source = ?1 AND r.source_id = ?2",
                )?
                .query_row(params![key.source, key.source_id], |r| r.get(0))
                .optional()?;
            match entity {
                Some(e) => gather_entity(conn, EntityId(e as u64)),
                None => gather_record(conn, key),
            }
        }
    }
}

/// Everything held about the person whose entity (or a former id of it) is `id`.
fn gather_entity(conn: &Connection, id: EntityId) -> Result<Option<SubjectData>> {
    let Some(entity) = live_entity(conn, id)? else { return Ok(None) };
    let Some(golden) = golden_of(conn, entity)? else { return Ok(None) };
    let mut stmt = conn.prepare(
        "WITH RECURSIVE lineage (id) AS (SELECT ?1 UNION SELECT e.entity_id FROM entities e JOIN lineage l
         ON e.merged_into = l.id) SELECT id FROM lineage ORDER BY id",
    )?;
    let entities: Vec<i64> = stmt.query_map([entity], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    let mut history: Vec<FeedEvent> = Vec::new();
    for e in &entities {
        history.extend(feed::of_entity(conn, EntityId(*e as u64))?);
    }
    // The members, and records the entities once held that are in no entity now (deleted at their source).
    let mut rids: BTreeSet<i64> = conn
        .prepare("SELECT rid FROM memberships WHERE entity_id = ?1")?
        .query_map([entity], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut orphan = conn.prepare(
        "SELECT rid FROM records WHERE source = ?1 AND source_id = ?2 AND rid NOT IN (SELECT rid FROM memberships)",
    )?;
    for event in &history {
        for key in keys_in(&event.payload) {
            if let Some(rid) =
                orphan.query_row(params![key.source, key.source_id], |r| r.get::<_, i64>(0)).optional()?
            {
                rids.insert(rid);
            }
        }
    }
    let records = rids.iter().map(|rid| record(conn, *rid)).collect::<Result<Vec<_>>>()?;
    let keys: Vec<RecordKey> = records.iter().map(|r| r.key.clone()).collect();
    let entities: Vec<EntityId> = entities.iter().map(|e| EntityId(*e as u64)).collect();
    let subject =
        Held { entity: Some(EntityId(entity as u64)), entities, golden: Some(golden), records, keys, history };
    subject.with_the_rest(conn, &rids).map(Some)
}

/// Everything held under a source record key that is in no entity: the record with its versions (if a row was
/// stored), its quarantine entries and its own feed events; `None` when there is neither a record nor an entry.
fn gather_record(conn: &Connection, key: &RecordKey) -> Result<Option<SubjectData>> {
    let rid: Option<i64> = conn
        .prepare_cached("SELECT rid FROM records WHERE source = ?1 AND source_id = ?2")?
        .query_row(params![key.source, key.source_id], |r| r.get(0))
        .optional()?;
    let held: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM quarantine WHERE source = ?1 AND source_id = ?2)")?
        .query_row(params![key.source, key.source_id], |r| r.get(0))?;
    if rid.is_none() && !held {
        return Ok(None);
    }
    let rids: BTreeSet<i64> = rid.into_iter().collect();
    let records = rids.iter().map(|rid| record(conn, *rid)).collect::<Result<Vec<_>>>()?;
    let subject = Held {
        entity: None,
        entities: Vec::new(),
        golden: None,
        records,
        keys: vec![key.clone()],
        history: Vec::new(),
    };
    subject.with_the_rest(conn, &rids).map(Some)
}

/// What a subject's gathering found first; the rest follows from its records.
struct Held {
    entity: Option<EntityId>,
    entities: Vec<EntityId>,
    golden: Option<model::Golden>,
    records: Vec<SubjectRecord>,
    /// The source record keys of the subject (a quarantined row's key, even without a stored record).
    keys: Vec<RecordKey>,
    history: Vec<FeedEvent>,
}

impl Held {
    /// Adds the records' quarantine entries and own feed events, pairs, pins and the audit entries that name the
    /// subject.
    fn with_the_rest(self, conn: &Connection, rids: &BTreeSet<i64>) -> Result<SubjectData> {
        let Held { entity, entities, golden, records, keys, mut history } = self;
        let mut quarantine = Vec::new();
        for key in &keys {
            quarantine.extend(quarantine_of(conn, key)?);
            // The record's own quarantine events (they name no entity).
            let mut stmt = conn.prepare_cached(
                "SELECT seq, at, kind, entity_id, unseal_text('feed.payload', payload) FROM feed
                 WHERE kind = 'record.quarantined' AND entity_id IS NULL
                 AND instr(unseal_text('feed.payload', payload), ?1) > 0 ORDER BY seq",
            )?;
            let quoted = serde_json::to_string(&key.to_string())?;
            for event in stmt.query_map([&quoted], feed::row)? {
                let event = feed::decode(event?)?;
                if event.payload.get("record").and_then(|v| v.as_str()) == Some(key.to_string().as_str()) {
                    history.push(event);
                }
            }
        }
        history.sort_by_key(|e| e.seq);
        let pairs = pairs_of(conn, rids)?;
        let pins = pins_of(conn, rids)?;
        let ids: Vec<i64> = entities.iter().map(|e| e.0 as i64).collect();
        let mentions = mentions(&ids, &keys, &records);
        let mut audit = Vec::new();
        audit::for_each(conn, &mut |entry| {
            if entry.target_digest.is_none() && mentions.in_target(&entry.target) {
                audit.push(entry);
            }
            Ok(())
        })?;
        Ok(SubjectData { entity, entities, golden, records, quarantine, history, pairs, pins, audit })
    }
}

/// Record keys (`source:id` strings) named anywhere in an event's payload.
fn keys_in(payload: &serde_json::Value) -> Vec<RecordKey> {
    let mut out = Vec::new();
    let mut stack = vec![payload];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::String(s) => out.extend(RecordKey::parse(s)),
            serde_json::Value::Array(items) => stack.extend(items),
            serde_json::Value::Object(map) => stack.extend(map.values()),
            _ => {}
        }
    }
    out
}

/// What names the person in an audit target: entity ids, record keys, and the identifying values of the records.
fn mentions(entities: &[i64], keys: &[RecordKey], records: &[SubjectRecord]) -> Mentions {
    let mut texts: Vec<String> = Vec::new();
    let mut phones: Vec<String> = Vec::new();
    for r in records {
        let Some(c) = &r.clean else { continue };
        texts.extend(c.emails.iter().cloned());
        texts.extend(c.identifiers.values().cloned());
        phones.extend(c.phones.iter().cloned());
        if let (Some(given), Some(family)) = (&c.name.given, &c.name.family) {
            let prefix = c.name.prefix.as_deref().map(|p| format!("{p} ")).unwrap_or_default();
            texts.push(format!("{given} {prefix}{family}"));
        }
    }
    Mentions::new(
        entities.iter().map(|e| *e as u64),
        keys.iter().map(|k| (k.source.clone(), k.source_id.clone())),
        texts.iter().map(String::as_str),
        phones.iter().map(String::as_str),
    )
}

fn record(conn: &Connection, rid: i64) -> Result<SubjectRecord> {
    let (key, status, version, ingested_at, updated_at, clean) = conn
        .prepare_cached(
            "SELECT source, source_id, status, version, ingested_at, updated_at, unseal_blob('records.clean', clean)
             FROM records WHERE rid = ?1",
        )?
        .query_row([rid], |r| {
            Ok((
                key_of(r, 0)?,
                r.get::<_, String>(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get::<_, Option<StoredClean>>(6)?,
            ))
        })?;
    let clean = match (&clean, status.as_str()) {
        (Some(c), "active") => Some(c.decode()?),
        _ => None,
    };
    let mut stmt = conn.prepare_cached(
        "SELECT version, ingested_at, unseal_text('record_versions.raw', raw) FROM record_versions WHERE rid = ?1
             ORDER BY version",
    )?;
    let mut layouts = super::raw_layouts::RawLayouts::default();
    let versions = stmt
        .query_map([rid], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?)))?
        .map(|row| {
            let (version, ingested_at, raw) = row?;
            let raw = match layouts.read(conn, &raw)? {
                Some(fields) => serde_json::to_value(&fields)?,
                None => serde_json::Value::Null,
            };
            Ok(RecordVersion { version, ingested_at, raw })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(SubjectRecord { rid, key, status, version, ingested_at, updated_at, clean, versions })
}

fn quarantine_of(conn: &Connection, key: &RecordKey) -> Result<Vec<QuarantineEntry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {QUARANTINE_COLUMNS} FROM quarantine WHERE source = ?1 AND source_id = ?2 ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![key.source, key.source_id], quarantine_entry)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn pairs_of(conn: &Connection, rids: &BTreeSet<i64>) -> Result<Vec<StoredPair>> {
    let mut stmt = conn.prepare_cached(&format!("{PAIRS_WITH_KEYS} WHERE p.a = ?1 OR p.b = ?1"))?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for rid in rids {
        for pair in stmt.query_map([rid], stored_pair)? {
            let pair = pair?;
            if seen.insert((pair.a.clone(), pair.b.clone())) {
                out.push(pair);
            }
        }
    }
    Ok(out)
}

fn pins_of(conn: &Connection, rids: &BTreeSet<i64>) -> Result<Vec<SubjectPin>> {
    let mut stmt = conn.prepare_cached(
        "SELECT ra.source, ra.source_id, rb.source, rb.source_id, p.kind, p.actor, p.at,
                unseal_text('pins.reason', p.reason)
         FROM pins p JOIN records ra ON ra.rid = p.a JOIN records rb ON rb.rid = p.b WHERE p.a = ?1 OR p.b = ?1",
    )?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for rid in rids {
        for pin in stmt.query_map([rid], |r| {
            Ok(SubjectPin {
                a: key_of(r, 0)?,
                b: key_of(r, 2)?,
                kind: r.get(4)?,
                actor: r.get(5)?,
                at: r.get(6)?,
                reason: r.get(7)?,
            })
        })? {
            let pin = pin?;
            if seen.insert((pin.a.clone(), pin.b.clone())) {
                out.push(pin);
            }
        }
    }
    Ok(out)
}

/// Erases a person in one transaction: their source records (every version), quarantine entries (under the
/// record keys, also where an unreadable row left no record), pairs and pins, the golden record (the entity is
/// retired), the payloads of the entities' feed events, their record keys wherever other events name them, and
/// the audit targets that name them; appends a `subject.erased` event and a receipt. The blocking index is marked
/// out of date unless `keep_claim` holds it (that hub forgets the records itself). `None` when the hub holds
/// nothing on them.
pub(super) fn erase(
    conn: &mut Connection,
    who: &Subject,
    request: &ErasureRequest,
    now: i64,
    keep_claim: Option<&str>,
) -> Result<Option<ErasureOutcome>> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(data) = gather(&tx, who)? else { return Ok(None) };
    let digest = sha256_hex(&serde_json::to_vec(&data)?);
    let entity = data.entity.map(|e| e.0 as i64);
    let entity_ids: Vec<i64> = data.entities.iter().map(|e| e.0 as i64).collect();
    // The record keys: the records', and a quarantined row's that has no record.
    let mut keys: Vec<RecordKey> = data.records.iter().map(|r| r.key.clone()).collect();
    if let Subject::Record(key) = who
        && !keys.contains(key)
    {
        keys.push(key.clone());
    }
    let suppressed = if request.suppress { keys.len() as i64 } else { 0 };
    tx.execute(
        "INSERT INTO erasures (entity_id, entities, at, actor, requested_by, reason, records, digest, suppressed)
         VALUES (?1, ?2, ?3, ?4, seal('erasures.requested_by', ?5), seal('erasures.reason', ?6), ?7, ?8, ?9)",
        params![
            entity,
            serde_json::to_string(&entity_ids)?,
            now,
            request.actor,
            request.requested_by,
            request.reason,
            data.records.len() as i64,
            digest,
            suppressed
        ],
    )?;
    let receipt_id = tx.last_insert_rowid();
    for r in &data.records {
        let rid = r.rid;
        tx.execute("DELETE FROM memberships WHERE rid = ?1", [rid])?;
        tx.execute("DELETE FROM pairs WHERE a = ?1 OR b = ?1", [rid])?;
        tx.execute("DELETE FROM pins WHERE a = ?1 OR b = ?1", [rid])?;
        tx.execute("DELETE FROM record_versions WHERE rid = ?1", [rid])?;
        tx.execute("DELETE FROM records WHERE rid = ?1", [rid])?;
    }
    for key in &keys {
        tx.execute("DELETE FROM quarantine WHERE source = ?1 AND source_id = ?2", params![key.source, key.source_id])?;
        if request.suppress {
            tx.execute(
                "INSERT OR IGNORE INTO suppressed (key, erasure, at) VALUES (?1, ?2, ?3)",
                params![suppression_key(&key.source, &key.source_id), receipt_id, now],
            )?;
        }
    }
    if let Some(entity) = entity {
        tx.execute("DELETE FROM golden WHERE entity_id = ?1", [entity])?;
        tx.execute(
            "UPDATE entities SET retired_at = ?2, merged_into = NULL WHERE entity_id = ?1",
            params![entity, now],
        )?;
    }
    let erased_payload = serde_json::json!({ "erased": receipt_id }).to_string();
    for e in &entity_ids {
        tx.execute(
            "UPDATE feed SET payload = seal('feed.payload', ?2) WHERE entity_id = ?1",
            params![e, erased_payload],
        )?;
    }
    scrub_feed(&tx, &keys, &erased_payload)?;
    for entry in &data.audit {
        audit::redact(&tx, entry)?;
    }
    let payload = serde_json::json!({
        "entities": data.entities.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "records": data.records.len(),
        "receipt": receipt_id,
        "digest": digest,
        "by": request.actor,
    });
    tx.execute(
        "INSERT INTO feed (at, kind, entity_id, payload) VALUES (?1, 'subject.erased', ?2, seal('feed.payload', ?3))",
        params![now, entity, payload.to_string()],
    )?;
    let event = tx.last_insert_rowid();
    // Only removed records can leave the blocking index out of date (a quarantined row never entered it).
    if !data.records.is_empty() && super::realtime::index_claim(&tx)?.as_deref() != keep_claim.filter(|c| !c.is_empty())
    {
        super::realtime::invalidate_index(&tx)?;
    }
    tx.commit()?;
    // The log still holds the pages as they were before; checkpoint them into the file (where the deleted content
    // was overwritten: secure_delete) and empty the log.
    let log_cleared = super::empty_log(conn);
    let receipt = Erasure {
        id: receipt_id,
        entity: data.entity,
        entities: data.entities.clone(),
        at: now,
        actor: request.actor.clone(),
        requested_by: request.requested_by.clone(),
        reason: request.reason.clone(),
        records: data.records.len() as i64,
        digest,
        suppressed,
    };
    Ok(Some(ErasureOutcome { receipt, rids: data.records.iter().map(|r| r.rid).collect(), event, log_cleared }))
}

/// Other events that name the records: a record's own quarantine event loses its payload; elsewhere each key
/// becomes [`REDACTED`].
fn scrub_feed(conn: &Connection, keys: &[RecordKey], erased_payload: &str) -> Result<()> {
    let keys: HashSet<String> = keys.iter().map(ToString::to_string).collect();
    if keys.is_empty() {
        return Ok(());
    }
    let quoted: Vec<String> = keys.iter().map(serde_json::to_string).collect::<serde_json::Result<_>>()?;
    for chunk in quoted.chunks(50) {
        let filter = vec!["instr(unseal_text('feed.payload', payload), ?) > 0"; chunk.len()].join(" OR ");
        let mut stmt =
            conn.prepare(&format!("SELECT seq, unseal_text('feed.payload', payload) FROM feed WHERE {filter}"))?;
        let hits: Vec<(i64, String)> = stmt
            .query_map(rusqlite::params_from_iter(chunk.iter()), |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (seq, payload) in hits {
            let mut value: serde_json::Value = serde_json::from_str(&payload)?;
            let own = value.get("record").and_then(|v| v.as_str()).is_some_and(|k| keys.contains(k));
            let rewritten = if own {
                erased_payload.to_string()
            } else {
                redact_keys(&mut value, &keys);
                value.to_string()
            };
            conn.execute("UPDATE feed SET payload = seal('feed.payload', ?2) WHERE seq = ?1", params![seq, rewritten])?;
        }
    }
    Ok(())
}

/// Replaces every string in `value` that is one of `keys`.
fn redact_keys(value: &mut serde_json::Value, keys: &HashSet<String>) {
    match value {
        serde_json::Value::String(s) if keys.contains(s.as_str()) => *s = REDACTED.to_string(),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| redact_keys(v, keys)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| redact_keys(v, keys)),
        _ => {}
    }
}

/// Every erasure receipt, oldest first.
pub(super) fn receipts(conn: &Connection) -> Result<Vec<Erasure>> {
    let mut stmt = conn.prepare(
        "SELECT id, entity_id, entities, at, actor, unseal_text('erasures.requested_by', requested_by),
                unseal_text('erasures.reason', reason), records, digest, suppressed FROM erasures
         ORDER BY id",
    )?;
    let rows = stmt.query_map([], |r| <(i64, Option<i64>, String, _, _, _, _, _, _, _)>::try_from(r))?;
    rows.map(|row| {
        let (id, entity, entities, at, actor, requested_by, reason, records, digest, suppressed) = row?;
        let entities: Vec<u64> = serde_json::from_str(&entities)
            .map_err(|e| Error::Invalid(format!("erasure {id}: unreadable entity list: {e}")))?;
        Ok(Erasure {
            id,
            entity: entity.map(|e| EntityId(e as u64)),
            entities: entities.into_iter().map(EntityId).collect(),
            at,
            actor,
            requested_by,
            reason,
            records,
            digest,
            suppressed,
        })
    })
    .collect()
}

/// The suppression list.
pub(super) fn suppression(conn: &Connection) -> Result<Suppression> {
    let mut stmt = conn.prepare_cached("SELECT key FROM suppressed")?;
    let keys = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<HashSet<String>>>()?;
    Ok(Suppression(keys))
}

/// True when a source record is on the suppression list.
pub(super) fn is_suppressed(conn: &Connection, key: &RecordKey) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM suppressed WHERE key = ?1")?
        .query_row([suppression_key(&key.source, &key.source_id)], |_| Ok(()))
        .optional()?
        .is_some())
}
