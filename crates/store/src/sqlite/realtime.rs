//! Real-time changes in SQLite: [`SqliteTx`] runs every read and write of one change inside one `BEGIN
//! IMMEDIATE` transaction; [`RecordWriter`] stores a record or a new version of it, for batches and single
//! records alike.

use super::bulk::{BulkInsert, blob_or_null, int, int_or_null, owned_text, text, values_sql};
use super::raw_layouts::{RawLayouts, as_object};
use super::sealing::written;
use super::{StoredClean, feed};
use crate::realtime::*;
use crate::types::{ActiveRecord, IncomingRecord, PairRow, QuarantineEntry};
use crate::{Error, Result};
use model::{EntityId, RecordKey};
use rusqlite::{CachedStatement, Connection, OptionalExtension, params};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

/// The `meta` entry that holds the claim of the hub whose blocking index follows the records.
const INDEX_META: &str = "block_index";

/// Notes that a record's source still sends it (for retention), to the hour: seen again within the hour, the row
/// is not rewritten.
const MARK_SEEN: &str = "UPDATE records SET seen_at = ?2 WHERE rid = ?1 AND (seen_at IS NULL OR seen_at < ?2 - 3600)";

/// Records a batch inserts to one statement (8 values each, far below SQLite's limit of 32,766).
const INSERT_ROWS: usize = 64;

/// Writes records and their versions with statements prepared once.
pub(super) struct RecordWriter<'c> {
    conn: &'c Connection,
    /// One row of the multi-row insert of new records, as this connection runs it (`sealing::written`).
    new_row: String,
    find: CachedStatement<'c>,
    insert: CachedStatement<'c>,
    update: CachedStatement<'c>,
    refresh: CachedStatement<'c>,
    seen: CachedStatement<'c>,
    version: CachedStatement<'c>,
    layouts: RawLayouts,
}

impl<'c> RecordWriter<'c> {
    /// Prepares the statements.
    pub(super) fn new(conn: &'c Connection) -> Result<Self> {
        Ok(RecordWriter {
            conn,
            new_row: written(conn, "(?, ?, 1, ?, ?, ?, ?, seal('records.clean', ?), ?)").into_owned(),
            find: conn.prepare_cached(
                "SELECT rid, version, content_hash, status FROM records WHERE source = ?1 AND source_id = ?2",
            )?,
            // New records (the common case when loading) take one statement: the insert is skipped on conflict
            // and only then is the existing row looked up.
            insert: conn.prepare_cached(&written(
                conn,
                "INSERT INTO records (source, source_id, version, content_hash, ingested_at, updated_at, status, clean,
                 seen_at) VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, seal('records.clean', ?7), ?4)
                 ON CONFLICT (source, source_id) DO NOTHING",
            ))?,
            update: conn.prepare_cached(&written(
                conn,
                "UPDATE records SET version = ?2, content_hash = ?3, ingested_at = ?4, updated_at = ?5, status = ?6,
                 clean = seal('records.clean', ?7), seen_at = ?4 WHERE rid = ?1",
            ))?,
            refresh: conn.prepare_cached(&written(
                conn,
                "UPDATE records SET status = ?2, clean = seal('records.clean', ?3)
                 WHERE rid = ?1 AND (status IS NOT ?2 OR unseal_blob('records.clean', clean) IS NOT ?3)",
            ))?,
            seen: conn.prepare_cached(MARK_SEEN)?,
            version: conn.prepare_cached(&written(
                conn,
                "INSERT INTO record_versions (rid, version, ingested_at, raw)
                 VALUES (?1, ?2, ?3, seal('record_versions.raw', ?4))",
            ))?,
            layouts: RawLayouts::default(),
        })
    }

    /// A record's raw form as it is stored, its layout stored first; in the (astronomically rare) case of two
    /// layouts with one id, the record's own JSON object instead.
    fn stored_raw<'r>(&mut self, r: &'r IncomingRecord) -> Result<Cow<'r, str>> {
        match &r.layout {
            Some(layout) if !self.layouts.ensure(self.conn, layout)? => Ok(Cow::Owned(as_object(&r.raw, layout)?)),
            _ => Ok(Cow::Borrowed(&r.raw)),
        }
    }

    /// Stores a record: a new one, a new version, or (same content) only its clean form refreshed. Returns its
    /// id, what happened, and whether its matchable content changed. A quarantined record that is new or
    /// changed is told to the feed.
    pub(super) fn write(&mut self, r: &IncomingRecord, now: i64) -> Result<(i64, WriteKind, bool)> {
        let raw = self.stored_raw(r)?;
        let (hash, clean, updated_at) = (r.content_hash, &r.clean, r.updated_at);
        let status = if r.clean.is_some() { "active" } else { "quarantined" };
        let (rid, kind, changed) = if self.insert.execute(params![
            r.key.source,
            r.key.source_id,
            hash,
            now,
            updated_at,
            status,
            clean
        ])? == 1
        {
            let rid = self.conn.last_insert_rowid();
            self.version.execute(params![rid, 1, now, raw])?;
            (rid, WriteKind::Inserted, true)
        } else {
            // The insert conflicted, so the record exists.
            let (rid, v, old, old_status): (i64, i64, i64, String) =
                self.find.query_row(params![r.key.source, r.key.source_id], |row| {
                    Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
                })?;
            if old == hash && old_status != RecordStatus::Deleted.as_str() {
                // Same content: no new version; the clean form follows the current cleaning rules.
                let refreshed = self.refresh.execute(params![rid, status, clean])? > 0;
                self.seen.execute(params![rid, now])?;
                (rid, WriteKind::Unchanged, refreshed)
            } else {
                self.update.execute(params![rid, v + 1, hash, now, updated_at, status, clean])?;
                self.version.execute(params![rid, v + 1, now, raw])?;
                (rid, WriteKind::Updated, true)
            }
        };
        if changed && r.clean.is_none() {
            self.tell_quarantined(r, now)?;
        }
        Ok((rid, kind, changed))
    }

    /// Stores a batch as [`RecordWriter::write`] would one by one, and with the same outcome per record (in
    /// order), but inserts the records not stored yet [`INSERT_ROWS`] to a statement: loading a source into an
    /// empty hub is mostly such inserts, and their per-statement cost was most of the writing.
    pub(super) fn write_all(&mut self, records: &[IncomingRecord], now: i64) -> Result<Vec<(i64, WriteKind, bool)>> {
        let mut outcomes = Vec::with_capacity(records.len());
        let mut versions =
            BulkInsert::new(self.conn, "INSERT INTO record_versions (rid, version, ingested_at, raw)", "", 3)
                .with_row("(?, 1, ?, seal('record_versions.raw', ?))");
        for chunk in records.chunks(INSERT_ROWS) {
            let inserted = self.insert_new(chunk, now)?;
            let (mut quarantined, mut rest) = (Vec::new(), Vec::new());
            for (i, r) in chunk.iter().enumerate() {
                match inserted.get(&i) {
                    Some(rid) => {
                        let raw = match self.stored_raw(r)? {
                            Cow::Borrowed(raw) => text(raw),
                            Cow::Owned(raw) => owned_text(raw),
                        };
                        versions.push([int(*rid), int(now), raw])?;
                        if r.clean.is_none() {
                            quarantined.push(r);
                        }
                        outcomes.push((*rid, WriteKind::Inserted, true));
                    }
                    // Stored before, or a later copy of a record earlier in the batch: a change to it, or none.
                    None => {
                        rest.push((i, outcomes.len()));
                        outcomes.push((0, WriteKind::Unchanged, false));
                    }
                }
            }
            // The first versions of this chunk are written before any later version of the same records.
            versions.flush()?;
            for r in quarantined {
                self.tell_quarantined(r, now)?;
            }
            for (i, slot) in rest {
                outcomes[slot] = self.write(&chunk[i], now)?;
            }
        }
        versions.finish()?;
        Ok(outcomes)
    }

    /// Inserts the records of `chunk` not stored yet, in one statement; returns their new ids by position in the
    /// chunk (of a record in the chunk twice, the first). New rows get the ids after the highest one, in the
    /// order they are inserted: when every row of the chunk was new its ids are known without reading anything
    /// back (a `RETURNING` clause cost a result table and a row read per record); otherwise the rows past the
    /// previous highest id are read and placed.
    fn insert_new(&self, chunk: &[IncomingRecord], now: i64) -> Result<HashMap<usize, i64>> {
        let before: i64 =
            self.conn.prepare_cached("SELECT COALESCE(MAX(rid), 0) FROM records")?.query_row([], |r| r.get(0))?;
        let sql = values_sql(
            "INSERT INTO records (source, source_id, version, content_hash, ingested_at, updated_at, status, clean,
             seen_at)",
            &self.new_row,
            chunk.len(),
            " ON CONFLICT (source, source_id) DO NOTHING",
        );
        let mut values = Vec::with_capacity(chunk.len() * 8);
        for r in chunk {
            let status = if r.clean.is_some() { "active" } else { "quarantined" };
            values.extend([
                text(&r.key.source),
                text(&r.key.source_id),
                int(r.content_hash),
                int(now),
                int_or_null(r.updated_at),
                text(status),
                blob_or_null(r.clean.as_deref()),
                int(now),
            ]);
        }
        let inserted = self.conn.prepare_cached(&sql)?.execute(rusqlite::params_from_iter(values))?;
        let last = self.conn.last_insert_rowid();
        if inserted == chunk.len() && before.checked_add(inserted as i64) == Some(last) {
            return Ok((0..chunk.len()).map(|i| (i, before + 1 + i as i64)).collect());
        }
        let mut read =
            self.conn.prepare_cached("SELECT rid, source, source_id FROM records WHERE rid > ?1 ORDER BY rid")?;
        let returned = read
            .query_map([before], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<(i64, String, String)>>>()?;
        Ok(positions_of(chunk, returned))
    }

    /// Tells the change feed that a new or changed record was quarantined, and why.
    fn tell_quarantined(&self, r: &IncomingRecord, now: i64) -> Result<()> {
        let payload = serde_json::json!({"record": r.key.to_string(), "reasons": r.quarantine_reasons});
        self.conn
            .prepare_cached(&written(
                self.conn,
                "INSERT INTO feed (at, kind, entity_id, payload)
                 VALUES (?1, 'record.quarantined', NULL, seal('feed.payload', ?2))",
            ))?
            .execute(params![now, payload.to_string()])?;
        Ok(())
    }
}

/// The position in `chunk` of each newly inserted `(rid, source, source_id)` (a key in the chunk twice: its
/// first). New rows get increasing ids: in id order they are the inserted rows in chunk order, so each is found
/// by walking on along the chunk (the rows skipped were stored before or repeat an earlier key), without hashing
/// every key. Should a row not be found so, all are matched by key instead.
pub(super) fn positions_of(chunk: &[IncomingRecord], mut returned: Vec<(i64, String, String)>) -> HashMap<usize, i64> {
    returned.sort_unstable_by_key(|(rid, _, _)| *rid);
    let mut positions = HashMap::with_capacity(returned.len());
    let mut next = 0;
    let in_order = returned.iter().all(|(rid, source, id)| {
        let Some(offset) = chunk[next..].iter().position(|r| r.key.source == *source && r.key.source_id == *id) else {
            return false;
        };
        positions.insert(next + offset, *rid);
        next += offset + 1;
        true
    });
    if in_order {
        return positions;
    }
    let mut first: HashMap<(&str, &str), usize> = HashMap::with_capacity(chunk.len());
    for (i, r) in chunk.iter().enumerate() {
        first.entry((r.key.source.as_str(), r.key.source_id.as_str())).or_insert(i);
    }
    returned
        .iter()
        .filter_map(|(rid, source, id)| first.get(&(source.as_str(), id.as_str())).map(|i| (*i, *rid)))
        .collect()
}

/// Adds quarantine entries.
pub(super) fn insert_quarantine(conn: &Connection, entries: &[QuarantineEntry]) -> Result<()> {
    let mut insert = conn.prepare_cached(&written(
        conn,
        "INSERT INTO quarantine (source, source_id, line, severity, field, value, reason, at)
         VALUES (?1, ?2, ?3, ?4, ?5, seal('quarantine.value', ?6), seal('quarantine.reason', ?7), ?8)",
    ))?;
    for e in entries {
        insert.execute(params![e.source, e.source_id, e.line as i64, e.severity, e.field, e.value, e.reason, e.at])?;
    }
    Ok(())
}

/// Marks the blocking index out of date.
pub(super) fn invalidate_index(conn: &Connection) -> Result<()> {
    conn.prepare_cached("DELETE FROM meta WHERE name = ?1")?.execute([INDEX_META])?;
    Ok(())
}

/// The claim of the hub whose blocking index follows the records, while no one else changed them.
pub(super) fn index_claim(conn: &Connection) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE name = ?1")?
        .query_row([INDEX_META], |r| r.get(0))
        .optional()?)
}

/// The id of the latest model, if any.
pub(super) fn latest_model_id(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn.prepare_cached("SELECT MAX(id) FROM models")?.query_row([], |r| r.get(0))?)
}

/// The next unused entity id.
pub(super) fn next_entity_id(conn: &Connection) -> Result<u64> {
    let next: i64 =
        conn.prepare_cached("SELECT COALESCE(MAX(entity_id), 0) + 1 FROM entities")?.query_row([], |r| r.get(0))?;
    Ok(next as u64)
}

/// Records which hub's blocking index follows the records.
pub(super) fn claim_index(conn: &Connection, claim: &str) -> Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO meta (name, value) VALUES (?1, ?2)")?
        .execute(params![INDEX_META, claim])?;
    Ok(())
}

/// Every pin.
pub(super) fn all_pins(conn: &Connection) -> Result<Vec<Pin>> {
    let mut stmt =
        conn.prepare("SELECT a, b, kind, actor, at, unseal_text('pins.reason', reason) FROM pins ORDER BY a, b")?;
    let rows = stmt.query_map([], pin_of)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn pin_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Pin> {
    Ok(Pin {
        a: r.get(0)?,
        b: r.get(1)?,
        together: r.get::<_, String>(2)? == "together",
        actor: r.get(3)?,
        at: r.get(4)?,
        reason: r.get(5)?,
    })
}

/// Runs `work` in one immediate transaction.
pub(super) fn write(conn: &mut Connection, work: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    work(&mut SqliteTx { conn: &tx })?;
    tx.commit()?;
    Ok(())
}

/// The reads and writes of one real-time change, inside a transaction.
struct SqliteTx<'c> {
    conn: &'c Connection,
}

impl SqliteTx<'_> {
    /// `source:id` of each record.
    fn keys_of(&self, rids: impl Iterator<Item = i64>) -> Result<HashMap<i64, String>> {
        let mut stmt = self.conn.prepare_cached("SELECT source || ':' || source_id FROM records WHERE rid = ?1")?;
        let mut keys = HashMap::new();
        for rid in rids {
            if let std::collections::hash_map::Entry::Vacant(slot) = keys.entry(rid) {
                slot.insert(stmt.query_row([rid], |r| r.get::<_, String>(0))?);
            }
        }
        Ok(keys)
    }
}

impl Tx for SqliteTx<'_> {
    fn record_state(&self, key: &RecordKey) -> Result<Option<RecordState>> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT r.rid, r.version, r.content_hash, r.status, unseal_blob('records.clean', r.clean), m.entity_id
                 FROM records r LEFT JOIN memberships m ON m.rid = r.rid WHERE r.source = ?1 AND r.source_id = ?2",
            )?
            .query_row(params![key.source, key.source_id], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, i64>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<StoredClean>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                ))
            })
            .optional()?;
        let Some((rid, version, content_hash, status, clean, entity)) = row else { return Ok(None) };
        let status = RecordStatus::parse(&status).ok_or_else(|| Error::Invalid(format!("record status `{status}`")))?;
        Ok(Some(RecordState {
            rid,
            version,
            content_hash,
            status,
            clean: clean.map(|c| c.decode()).transpose()?,
            entity: entity.map(|e| EntityId(e as u64)),
        }))
    }

    fn write_record(&mut self, record: &IncomingRecord, now: i64) -> Result<(i64, WriteKind)> {
        let (rid, kind, _) = RecordWriter::new(self.conn)?.write(record, now)?;
        Ok((rid, kind))
    }

    fn delete_record(&mut self, key: &RecordKey, now: i64) -> Result<Option<i64>> {
        let row: Option<(i64, i64, String)> = self
            .conn
            .prepare_cached("SELECT rid, version, status FROM records WHERE source = ?1 AND source_id = ?2")?
            .query_row(params![key.source, key.source_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?;
        let Some((rid, version, status)) = row else { return Ok(None) };
        if status == RecordStatus::Deleted.as_str() {
            return Ok(None);
        }
        self.conn
            .prepare_cached(
                "UPDATE records SET version = ?2, content_hash = 0, ingested_at = ?3, status = 'deleted', clean = NULL
             WHERE rid = ?1",
            )?
            .execute(params![rid, version + 1, now])?;
        // The version history ends with an empty version: deleted at the source.
        self.conn
            .prepare_cached(
                "INSERT INTO record_versions (rid, version, ingested_at, raw)
                 VALUES (?1, ?2, ?3, seal('record_versions.raw', 'null'))",
            )?
            .execute(params![rid, version + 1, now])?;
        Ok(Some(rid))
    }

    fn mark_seen(&mut self, rid: i64, now: i64) -> Result<()> {
        self.conn.prepare_cached(MARK_SEEN)?.execute(params![rid, now])?;
        Ok(())
    }

    fn purge_record(&mut self, rid: i64, key: &RecordKey) -> Result<()> {
        for sql in [
            "DELETE FROM memberships WHERE rid = ?1",
            "DELETE FROM pairs WHERE a = ?1 OR b = ?1",
            "DELETE FROM pins WHERE a = ?1 OR b = ?1",
            "DELETE FROM record_versions WHERE rid = ?1",
        ] {
            self.conn.prepare_cached(sql)?.execute([rid])?;
        }
        self.conn
            .prepare_cached("DELETE FROM quarantine WHERE source = ?1 AND source_id = ?2")?
            .execute(params![key.source, key.source_id])?;
        self.conn.prepare_cached("DELETE FROM records WHERE rid = ?1")?.execute([rid])?;
        Ok(())
    }

    fn replace_quarantine(&mut self, key: &RecordKey, entries: &[QuarantineEntry], _now: i64) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM quarantine WHERE source = ?1 AND source_id = ?2")?
            .execute(params![key.source, key.source_id])?;
        insert_quarantine(self.conn, entries)
    }

    fn index_claim(&self) -> Result<Option<String>> {
        index_claim(self.conn)
    }

    fn is_suppressed(&self, key: &RecordKey) -> Result<bool> {
        super::subject::is_suppressed(self.conn, key)
    }

    fn entities_of(&self, rids: &[i64]) -> Result<HashMap<i64, (i64, i64)>> {
        let mut stmt = self.conn.prepare_cached("SELECT entity_id, since FROM memberships WHERE rid = ?1")?;
        let mut out = HashMap::with_capacity(rids.len());
        for rid in rids {
            if let Some(found) = stmt.query_row([rid], |r| Ok((r.get(0)?, r.get(1)?))).optional()? {
                out.insert(*rid, found);
            }
        }
        Ok(out)
    }

    fn members_of(&self, entities: &[i64]) -> Result<Vec<(i64, i64, i64)>> {
        let mut stmt = self.conn.prepare_cached("SELECT rid, since FROM memberships WHERE entity_id = ?1")?;
        let mut out = Vec::new();
        for e in entities {
            let rows = stmt.query_map([e], |r| Ok((r.get(0)?, *e, r.get(1)?)))?;
            for row in rows {
                out.push(row?);
            }
        }
        Ok(out)
    }

    fn active_by_rid(&self, rids: &[i64]) -> Result<Vec<ActiveRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.source, r.source_id, COALESCE(s.trust, 0), COALESCE(r.updated_at, r.ingested_at), r.version,
                    unseal_blob('records.clean', r.clean)
             FROM records r LEFT JOIN sources s ON s.name = r.source WHERE r.rid = ?1 AND r.status = 'active'",
        )?;
        let mut out = Vec::with_capacity(rids.len());
        for rid in rids {
            let row = stmt
                .query_row([rid], |r| {
                    Ok((
                        RecordKey::new(r.get::<_, String>(0)?, r.get::<_, String>(1)?),
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get::<_, StoredClean>(5)?,
                    ))
                })
                .optional()?;
            if let Some((key, trust, recency, version, clean)) = row {
                out.push(ActiveRecord { rid: *rid, key, trust, recency, version, clean: clean.decode()? });
            }
        }
        Ok(out)
    }

    fn pairs_among(&self, rids: &[i64]) -> Result<Vec<PairRow>> {
        let set: HashSet<i64> = rids.iter().copied().collect();
        let mut stmt = self.conn.prepare_cached("SELECT b, probability, decision, rule FROM pairs WHERE a = ?1")?;
        let mut out = Vec::new();
        for a in rids {
            let rows = stmt.query_map([a], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, f64>(1)?, r.get::<_, String>(2)?, r.get::<_, Option<String>>(3)?))
            })?;
            for row in rows {
                let (b, probability, decision, rule) = row?;
                if set.contains(&b) {
                    let decision = match decision.as_str() {
                        "match" => "match",
                        "vetoed" => "vetoed",
                        _ => "review",
                    };
                    out.push(PairRow { a: *a, b, probability, decision, rule });
                }
            }
        }
        Ok(out)
    }

    fn pins_among(&self, rids: &[i64]) -> Result<Vec<Pin>> {
        let set: HashSet<i64> = rids.iter().copied().collect();
        let mut stmt = self.conn.prepare_cached(
            "SELECT a, b, kind, actor, at, unseal_text('pins.reason', reason) FROM pins WHERE a = ?1",
        )?;
        let mut out = Vec::new();
        for a in rids {
            for pin in stmt.query_map([a], pin_of)? {
                let pin = pin?;
                if set.contains(&pin.b) {
                    out.push(pin);
                }
            }
        }
        Ok(out)
    }

    fn pin(&mut self, pin: &Pin) -> Result<()> {
        let (a, b) = (pin.a.min(pin.b), pin.a.max(pin.b));
        if a == b {
            return Err(Error::Invalid("a record cannot be pinned to itself".into()));
        }
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO pins (a, b, kind, actor, at, reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, seal('pins.reason', ?6))",
            )?
            .execute(params![a, b, if pin.together { "together" } else { "apart" }, pin.actor, pin.at, pin.reason])?;
        Ok(())
    }

    fn unpin(&mut self, a: i64, b: i64) -> Result<bool> {
        let n = self
            .conn
            .prepare_cached("DELETE FROM pins WHERE a = ?1 AND b = ?2")?
            .execute(params![a.min(b), a.max(b)])?;
        Ok(n > 0)
    }

    fn next_entity_id(&self) -> Result<u64> {
        next_entity_id(self.conn)
    }

    fn latest_model_id(&self) -> Result<Option<i64>> {
        latest_model_id(self.conn)
    }

    fn apply(&mut self, change: &LocalChange, now: i64) -> Result<Vec<i64>> {
        if change.ids.len() != change.clusters.len() || change.goldens.len() != change.clusters.len() {
            return Err(Error::Invalid("clusters, ids and golden records must line up".into()));
        }
        let old = self.entities_of(&change.records)?;
        let new_of: HashMap<i64, i64> = change
            .clusters
            .iter()
            .zip(&change.ids)
            .flat_map(|(members, id)| members.iter().map(move |rid| (*rid, id.0 as i64)))
            .collect();
        {
            let c = self.conn;
            // Entities that were live before (their members had them) need no row written.
            let live: std::collections::HashSet<i64> = old.values().map(|(e, _)| *e).collect();
            let mut entity = c.prepare_cached(
                "INSERT INTO entities (entity_id, created_at) VALUES (?1, ?2)
                 ON CONFLICT (entity_id) DO UPDATE SET retired_at = NULL, merged_into = NULL",
            )?;
            let mut golden = c.prepare_cached(&written(
                c,
                "INSERT OR REPLACE INTO golden (entity_id, name, search, json)
                 VALUES (?1, seal('golden.name', ?2), blind(?3), seal('golden.json', ?4))",
            ))?;
            for (id, row) in change.ids.iter().zip(&change.goldens) {
                let eid = id.0 as i64;
                if !live.contains(&eid) {
                    entity.execute(params![eid, now])?;
                }
                golden.execute(params![eid, row.name, row.search, row.stored])?;
            }
            // Only memberships that change are written: a record that stays in its entity keeps its row.
            let mut leave = c.prepare_cached("DELETE FROM memberships WHERE rid = ?1")?;
            let mut member =
                c.prepare_cached("INSERT OR REPLACE INTO memberships (rid, entity_id, since) VALUES (?1, ?2, ?3)")?;
            for rid in &change.records {
                let before = old.get(rid).map(|(e, _)| *e);
                match new_of.get(rid) {
                    Some(eid) if before != Some(*eid) => {
                        member.execute(params![rid, eid, now])?;
                    }
                    Some(_) => {}
                    None if before.is_some() => {
                        leave.execute([rid])?;
                    }
                    None => {}
                }
            }
            let mut retire =
                c.prepare_cached("UPDATE entities SET retired_at = ?2, merged_into = ?3 WHERE entity_id = ?1")?;
            let mut drop_golden = c.prepare_cached("DELETE FROM golden WHERE entity_id = ?1")?;
            for (eid, successor) in &change.retired {
                retire.execute(params![eid, now, successor])?;
                drop_golden.execute([eid])?;
            }
            // Pairs: those of the changed records, and those among the records involved, are replaced.
            let mut drop_pairs = c.prepare_cached("DELETE FROM pairs WHERE a = ?1 OR b = ?1")?;
            for rid in &change.changed {
                drop_pairs.execute([rid])?;
            }
            let involved = serde_json::to_string(&change.records)?;
            c.prepare_cached(
                "DELETE FROM pairs WHERE a IN (SELECT value FROM json_each(?1)) AND b IN (SELECT value FROM json_each(?1))",
            )?
            .execute([&involved])?;
            let mut pair = c.prepare_cached(
                "INSERT OR REPLACE INTO pairs (a, b, probability, decision, rule) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for p in &change.pairs {
                pair.execute(params![p.a.min(p.b), p.a.max(p.b), p.probability, p.decision, p.rule])?;
            }
        }
        let involved =
            change.records.iter().copied().chain(change.lineage.evidence.iter().flat_map(|e| [e.record, e.with]));
        let keys = self.keys_of(involved)?;
        let key = |rid: i64| keys.get(&rid).cloned().unwrap_or_else(|| format!("record {rid}"));
        let events = feed::resolution_events(
            &old,
            &new_of,
            &change.clusters,
            &change.ids,
            &change.retired,
            &change.lineage,
            &key,
        );
        feed::append_each(self.conn, events, now)
    }
}

/// Checkpoints the write-ahead log on its own thread and connection, so that commits of real-time changes do not
/// pay for copying pages back into the database file (and its fsync). Stops when dropped.
pub struct Checkpointer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` every `every`: a passive round that never blocks the writer, then a
    /// restarting one that holds it only for the frames committed meanwhile.
    pub(super) fn start(path: &std::path::Path, every: std::time::Duration) -> Result<Self> {
        let mut conn = Connection::open(path)?;
        conn.busy_handler(Some(super::wait_briefly))?;
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("wal-checkpoint".into())
            .spawn(move || {
                while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(every);
                    // Most pages are copied without holding up the writer; then the few frames committed meanwhile
                    // are copied while it waits, so the next commit starts the log from its beginning again
                    // (under steady writes a passive checkpoint alone never catches up and the log only grows).
                    // A failed or partial checkpoint is retried on the next round.
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    let _ = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()));
                }
            })
            .map_err(|e| Error::Invalid(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Checkpointer { stop, thread: Some(thread) })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
