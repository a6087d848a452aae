//! The embedded default store: one SQLite file in WAL mode (batch commands that have it to themselves write with
//! the rollback journal: [`SqliteStore::in_bulk`]). Batches are written in one transaction with prepared
//! statements; reads use the same connection (the command line is one process).

mod api_keys;
mod audit;
mod bulk;
mod feed;
mod raw_layouts;
mod realtime;
mod schema;
mod sealing;
mod sink;
mod subject;
mod webhooks;

pub use realtime::Checkpointer;

use crate::realtime::*;
use crate::subject::*;
use crate::types::*;
use crate::webhook::{Delivery, NewWebhook, Webhook};
use crate::{ActiveSet, ApiKey, AuditEntry, Error, NewApiKey, NewAuditEntry, RecordSink, Result, Store, golden_codec};
use clean::text::fold;
use govern::cipher::Keyring;
use model::{CleanRecord, EntityId, Golden, GoldenView, RawFields, RecordKey};
use rayon::prelude::*;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// A store in one SQLite file.
pub struct SqliteStore {
    conn: Connection,
    keyring: Option<Arc<Keyring>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date; personal data is stored as
    /// it is.
    pub fn open(path: &Path) -> Result<Self> {
        Self::open_with(path, None)
    }

    /// Opens the database file; with a keyring, personal data is written encrypted (see `sqlite/sealing.rs`).
    pub fn open_with(path: &Path, keyring: Option<Arc<Keyring>>) -> Result<Self> {
        let conn = Connection::open(path)?;
        // 4 KiB pages for a new database (an existing one keeps its own, until a VACUUM with another page_size): a
        // real-time change dirties some twenty pages at random, each written whole to the log, so their size is
        // most of its cost (16 KiB pages: 997 batched upserts/s against a 1M hub, 4 KiB: 1,867/s), while batch
        // ingest and resolve of 1M records take the same time with either (19.1 s).
        conn.pragma_update(None, "page_size", 4096)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        Self::prepare(conn, keyring)
    }

    /// An in-memory store, for tests.
    pub fn open_in_memory() -> Result<Self> {
        Self::prepare(Connection::open_in_memory()?, None)
    }

    /// An in-memory store that encrypts personal data with `keyring`, for tests.
    pub fn open_in_memory_with(keyring: Arc<Keyring>) -> Result<Self> {
        Self::prepare(Connection::open_in_memory()?, Some(keyring))
    }

    fn prepare(mut conn: Connection, keyring: Option<Arc<Keyring>>) -> Result<Self> {
        sealing::register(&conn, keyring.clone())?;
        // Every transaction begins immediate, taking the write lock at its start (waiting for it, see the busy
        // handler): a deferred one that read before another connection (a running server) committed could not
        // write at all — SQLite answers "database is locked" at once, without waiting. The hub's transactions all
        // write.
        conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Bulk writes touch large indexes; a 64 MiB page cache keeps them in memory.
        conn.pragma_update(None, "cache_size", -65536)?;
        conn.pragma_update(None, "temp_store", "MEMORY")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted and overwritten content is zeroed in the file, so what an erasure removes (and earlier versions
        // of rows, replaced in real time) cannot be read from free space.
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.busy_handler(Some(wait_for_lock))?;
        // Plans do not depend on bound values: without this, SQLite re-prepares a statement on every new binding of
        // a parameter it could plan around (LIMIT ?, comparisons against partial-index conditions), which cost a
        // real-time change a parse of several of its statements each time.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        // A real-time change runs some forty distinct statements; all stay prepared.
        conn.set_prepared_statement_cache_capacity(128);
        let mut store = SqliteStore { conn, keyring };
        store.migrate()?;
        Ok(store)
    }

    fn migrate(&mut self) -> Result<()> {
        let version: i64 = self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let supported = schema::MIGRATIONS.len() as i64;
        if version > supported {
            return Err(Error::SchemaTooNew { found: version, supported });
        }
        if version == supported {
            return Ok(());
        }
        // A migration may rebuild a table that others reference; foreign keys are checked after it instead.
        self.conn.pragma_update(None, "foreign_keys", "OFF")?;
        let migrated = (|| -> Result<()> {
            for (i, script) in schema::MIGRATIONS.iter().enumerate().skip(version as usize) {
                let tx = self.conn.transaction()?;
                tx.execute_batch(script)?;
                let broken: Option<String> = tx.query_row("PRAGMA foreign_key_check", [], |r| r.get(0)).optional()?;
                if let Some(table) = broken {
                    return Err(Error::Invalid(format!("migration {} left a dangling reference in {table}", i + 1)));
                }
                tx.pragma_update(None, "user_version", i as i64 + 1)?;
                tx.commit()?;
            }
            Ok(())
        })();
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        migrated
    }

    /// Re-encrypts every sealed column under the keyring's current key, in one transaction: values sealed under an
    /// older key, and values written before encryption was switched on; the search tokens are made again from the
    /// golden records. Afterwards the older keys can be dropped. Returns the current key's id and, per column, the
    /// values re-sealed.
    pub fn reseal(&mut self) -> Result<(String, Vec<(String, u64)>)> {
        let Some(keyring) = &self.keyring else {
            return Err(Error::Invalid("no encryption keys are configured ([encryption] in cdihub.toml)".into()));
        };
        let current = keyring.current_id();
        let tx = self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let mut report = Vec::new();
        // Re-sealing rewrites ciphertexts, not content: the audit chain hashes the targets' plaintext digests.
        tx.execute_batch("DROP TRIGGER IF EXISTS audit_no_update")?;
        for (table, column, kind) in sealing::SEALED_COLUMNS {
            let tag = sealing::tag(table, column);
            let open = match kind {
                sealing::Kind::Text => "unseal_text",
                sealing::Kind::Blob => "unseal_blob",
            };
            // A redacted audit target is the plain marker the guard checks for.
            let keep = if *table == "audit" { " AND target_digest IS NULL" } else { "" };
            let n = tx.execute(
                &format!(
                    "UPDATE {table} SET {column} = seal('{tag}', {open}('{tag}', {column})) WHERE {column} IS NOT NULL{keep}"
                ),
                [],
            )?;
            report.push((tag, n as u64));
        }
        tx.execute_batch(schema::AUDIT_UPDATE_GUARD)?;
        let goldens: Vec<(i64, StoredGolden)> = tx
            .prepare("SELECT entity_id, unseal_blob('golden.json', json) FROM golden")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        {
            let mut update = tx.prepare("UPDATE golden SET search = blind(?2) WHERE entity_id = ?1")?;
            for (entity, stored) in &goldens {
                let golden = stored.decode()?;
                update.execute(params![entity, search_text(&golden.view())])?;
            }
        }
        report.push(("golden.search".into(), goldens.len() as u64));
        tx.commit()?;
        // The log still holds the pages as they were; move them into the file (old values overwritten) and empty it.
        empty_log(&self.conn);
        Ok((current, report))
    }

    /// Sets this connection up for a long-running server: reads through a memory map, and write-ahead-log
    /// checkpoints on a background thread (commits then only append to the log). Checkpoints stop when the
    /// returned value is dropped; an in-memory store has nothing to checkpoint.
    pub fn prepare_for_serving(&self) -> Result<Option<realtime::Checkpointer>> {
        let Some(path) = self.conn.path().filter(|p| !p.is_empty()).map(std::path::PathBuf::from) else {
            return Ok(None);
        };
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        // Reads through a memory map: the B-tree pages real-time changes touch at random are not copied from the
        // OS cache into SQLite's own first. (Only for a server: in a batch run the mapped pages of every record
        // read would count as the process's memory.)
        self.conn.pragma_update(None, "mmap_size", 2_i64 << 30)?;
        // The log file is cut back to 64 MiB whenever it restarts.
        self.conn.pragma_update(None, "journal_size_limit", 64_i64 << 20)?;
        Ok(Some(realtime::Checkpointer::start(&path, std::time::Duration::from_millis(250))?))
    }

    /// Runs `work` with the rollback journal instead of the write-ahead log when no other connection has the
    /// database open (SQLite refuses the switch otherwise, and `work` then runs in WAL mode as usual). In WAL mode
    /// every page a batch writes is written twice, to the log and then into the file; with the rollback journal,
    /// pages added to the file are written once and only pages changed in place are journalled first (a first
    /// ingest and resolve of 1M records write half as much). Commits sync fully (`synchronous = FULL`), as the
    /// rollback journal needs that to survive a power loss. Afterwards the file is in WAL mode again; should the
    /// process die meanwhile, the next open rolls back the unfinished transaction and sets WAL again.
    pub fn in_bulk<T, E: From<Error>>(
        &mut self,
        work: impl FnOnce(&mut Self) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let exclusive = self.rollback_journal().map_err(E::from)?;
        let outcome = work(self);
        if exclusive {
            let back = (|| -> Result<()> {
                self.conn.pragma_update(None, "synchronous", "NORMAL")?;
                self.conn.pragma_update(None, "journal_mode", "WAL")?;
                Ok(())
            })();
            if let (Ok(_), Err(e)) = (&outcome, back) {
                return Err(E::from(e));
            }
        }
        outcome
    }

    /// Switches an on-disk file this connection alone has open to the rollback journal; false when it stays in
    /// WAL mode (in memory, or another connection has it open).
    fn rollback_journal(&mut self) -> Result<bool> {
        if self.conn.path().is_none_or(str::is_empty) {
            return Ok(false);
        }
        // Asking must not wait for the other connections: they may stay open for hours.
        self.conn.busy_handler(None::<fn(i32) -> bool>)?;
        let switched: rusqlite::Result<String> = self.conn.query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0));
        self.conn.busy_handler(Some(wait_for_lock))?;
        match switched {
            Ok(mode) if mode.eq_ignore_ascii_case("delete") => {
                self.conn.pragma_update(None, "synchronous", "FULL")?;
                Ok(true)
            }
            Ok(_) => Ok(false),
            Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The journal mode the file is in now: `wal`, or `delete` inside [`SqliteStore::in_bulk`].
    pub fn journal_mode(&self) -> Result<String> {
        Ok(self.conn.pragma_query_value(None, "journal_mode", |r| r.get(0))?)
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

/// Copies every page of the write-ahead log into the database file and empties the log; false if readers still held
/// it after the busy handler's wait. Another connection's checkpoint (a server's background one) holds the checkpoint
/// lock, which SQLite does not wait for: the attempt is repeated for up to 5 s.
fn empty_log(conn: &Connection) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0)).unwrap_or(1);
        if busy == 0 {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

/// Busy handler: retries a locked database every 0.2 ms for up to 10 s. SQLite's own timeout sleeps in growing
/// steps (1, 2, 5, … 100 ms), so a writer that found a checkpoint holding the lock for 20 ms woke up only after 53
/// or 78 ms; under steady real-time writes those waits were most of the slow requests.
fn wait_for_lock(attempts: i32) -> bool {
    wait_up_to(attempts, 50_000)
}

/// Busy handler of the background checkpoints: gives up after 0.1 s (a checkpoint that waits for readers holds
/// the writers up meanwhile; it is simply tried again on its next round).
fn wait_briefly(attempts: i32) -> bool {
    wait_up_to(attempts, 500)
}

fn wait_up_to(attempts: i32, limit: i32) -> bool {
    if attempts >= limit {
        return false;
    }
    std::thread::sleep(std::time::Duration::from_micros(200));
    true
}

impl GoldenRow {
    /// Renders a golden record for storage.
    pub fn new(g: &GoldenView<'_>) -> Self {
        // Encoded into a reused buffer and copied out at its size (a buffer grown as it fills leaves room unused).
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        let stored = SCRATCH.with_borrow_mut(|scratch| {
            scratch.clear();
            golden_codec::encode_into(g, scratch);
            scratch.clone()
        });
        GoldenRow { name: display_name(g), search: search_text(g), stored }
    }
}

/// A stored golden record as its bytes: the binary form, or JSON text written by earlier versions.
pub(crate) struct StoredGolden(Vec<u8>);

impl StoredGolden {
    /// The golden record.
    pub(crate) fn decode(&self) -> Result<Golden> {
        Ok(golden_codec::decode(&self.0)?)
    }
}

/// The golden record of entity `entity`, if it has one.
pub(crate) fn golden_of(conn: &Connection, entity: i64) -> Result<Option<Golden>> {
    let stored: Option<StoredGolden> = conn
        .query_row("SELECT unseal_blob('golden.json', json) FROM golden WHERE entity_id = ?1", [entity], |r| r.get(0))
        .optional()?;
    stored.map(|s| s.decode()).transpose()
}

impl rusqlite::types::FromSql for StoredGolden {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        stored_bytes(value).map(StoredGolden)
    }
}

/// The bytes of a stored form as read: a blob, or text (what earlier versions wrote as JSON).
fn stored_bytes(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Vec<u8>> {
    match value {
        rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => Ok(b.to_vec()),
        _ => Err(rusqlite::types::FromSqlError::InvalidType),
    }
}

/// Adds the active records with ids in `(after, up_to]` to `set`, in id order, read on `conn` (stored clean
/// forms opened with `keyring`).
fn read_active(
    conn: &Connection,
    keyring: Option<&Keyring>,
    trust: &[(String, i32)],
    after: i64,
    up_to: i64,
    set: &mut ActiveSet,
) -> Result<()> {
    let trust_of = |source: &str| trust.iter().find(|(name, _)| name == source).map_or(0, |(_, t)| *t);
    let mut stmt = conn.prepare(
        "SELECT rid, source, source_id, COALESCE(updated_at, ingested_at), clean
         FROM records WHERE status = 'active' AND rid > ?1 AND rid <= ?2 ORDER BY rid",
    )?;
    let mut rows = stmt.query([after, up_to])?;
    while let Some(row) = rows.next()? {
        let text = |i: usize| row.get_ref(i)?.as_str().map_err(rusqlite::Error::from);
        let rid: i64 = row.get(0)?;
        let clean = row.get_ref(4)?.as_bytes_or_null().map_err(rusqlite::Error::from)?;
        let clean = clean.ok_or_else(|| Error::Invalid(format!("active record {rid} has no clean form")))?;
        let clean = sealing::open(keyring, || Ok("records.clean".into()), clean)?;
        let source = text(1)?;
        set.push(rid, source, text(2)?, trust_of(source), row.get(3)?, &clean);
    }
    Ok(())
}

/// Fewest records a batch loads on two connections at once (a few in tests, so they take this path).
#[cfg(not(test))]
const PARALLEL_LOAD: i64 = 100_000;
#[cfg(test)]
const PARALLEL_LOAD: i64 = 4;

/// Records decoded together while loading.
const LOAD_CHUNK: usize = 65_536;

/// "Henk de Vries" from a golden record.
fn display_name(g: &GoldenView<'_>) -> String {
    let given = g.get("given_name").or(g.get("initials"));
    [given, g.get("name_prefix"), g.get("family_name")].into_iter().flatten().collect::<Vec<_>>().join(" ")
}

/// Folded tokens a search can find the entity by: those of the names, email, phone, postcode, city and
/// organisation, then the postcode without spaces and the phone's digits, each token once.
fn search_text(g: &GoldenView<'_>) -> String {
    const POSTCODE: usize = 6;
    const PHONE: usize = 5;
    // The surviving value of each searched attribute (its first, as `GoldenView::get` gives it), in this order.
    let mut values: [Option<&str>; 9] = [None; 9];
    for v in &g.values {
        let slot = match &*v.attribute {
            "given_name" => 0,
            "initials" => 1,
            "name_prefix" => 2,
            "family_name" => 3,
            "email" => 4,
            "phone" => PHONE,
            "postcode" => POSTCODE,
            "city" => 7,
            "organisation" => 8,
            _ => continue,
        };
        values[slot].get_or_insert(&v.value);
    }
    // The folded values one after another in one buffer, each followed by a space.
    let mut folded = String::with_capacity(160);
    // Where the folded postcode lies in `folded`, when there is one.
    let mut postcode = None;
    for (slot, value) in values.iter().enumerate() {
        if let Some(value) = value {
            let start = folded.len();
            clean::text::fold_into(value, &mut folded);
            if slot == POSTCODE {
                postcode = Some(start..folded.len());
            }
            folded.push(' ');
        }
    }
    if let Some(postcode) = postcode {
        // Folded text is ASCII.
        for i in postcode {
            let b = folded.as_bytes()[i];
            if b != b' ' {
                folded.push(char::from(b));
            }
        }
        folded.push(' ');
    }
    if let Some(p) = values[PHONE] {
        folded.push_str(p.trim_start_matches('+'));
    }
    // Each token once: a postcode or phone without spaces is often the folded form already.
    let mut tokens: Vec<&str> = Vec::with_capacity(16);
    let mut text = String::with_capacity(folded.len());
    for token in folded.split(' ').filter(|t| !t.is_empty()) {
        if !tokens.contains(&token) {
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(token);
            tokens.push(token);
        }
    }
    text
}

/// A stored clean form as its bytes: binary, or JSON text written by earlier versions.
pub(crate) struct StoredClean(Vec<u8>);

impl StoredClean {
    /// The clean record.
    pub(crate) fn decode(&self) -> Result<CleanRecord> {
        Ok(crate::clean_codec::decode(&self.0)?)
    }
}

impl rusqlite::types::FromSql for StoredClean {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        stored_bytes(value).map(StoredClean)
    }
}

/// The columns of a quarantine entry as [`quarantine_entry`] reads them (value and reason opened).
const QUARANTINE_COLUMNS: &str = "source, source_id, line, severity, field, unseal_text('quarantine.value', value),
    unseal_text('quarantine.reason', reason), at";

/// A quarantine entry from a row of [`QUARANTINE_COLUMNS`].
fn quarantine_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<QuarantineEntry> {
    Ok(QuarantineEntry {
        source: r.get(0)?,
        source_id: r.get(1)?,
        line: r.get::<_, i64>(2)? as u64,
        severity: r.get(3)?,
        field: r.get(4)?,
        value: r.get(5)?,
        reason: r.get(6)?,
        at: r.get(7)?,
    })
}

fn key_of(row: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<RecordKey> {
    Ok(RecordKey::new(row.get::<_, String>(at)?, row.get::<_, String>(at + 1)?))
}

/// Scored pairs with both records' keys, as [`stored_pair`] reads them (a `WHERE` may follow).
const PAIRS_WITH_KEYS: &str =
    "SELECT ra.source, ra.source_id, rb.source, rb.source_id, p.probability, p.decision, p.rule
    FROM pairs p JOIN records ra ON ra.rid = p.a JOIN records rb ON rb.rid = p.b";

/// A scored pair from a row of [`PAIRS_WITH_KEYS`].
fn stored_pair(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredPair> {
    Ok(StoredPair { a: key_of(r, 0)?, b: key_of(r, 2)?, probability: r.get(4)?, decision: r.get(5)?, rule: r.get(6)? })
}

impl Store for SqliteStore {
    fn register_source(&mut self, name: &str, format: &str, path: &str, trust: i32) -> Result<()> {
        self.conn.execute(
            "INSERT INTO sources (name, format, path, trust) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (name) DO UPDATE SET format = ?2, path = ?3, trust = ?4",
            params![name, format, path, trust],
        )?;
        Ok(())
    }

    fn clear_quarantine(&mut self, source: &str) -> Result<()> {
        self.conn.execute("DELETE FROM quarantine WHERE source = ?1", [source])?;
        Ok(())
    }

    fn upsert_records(&mut self, records: &[IncomingRecord], now: i64) -> Result<UpsertCounts> {
        let mut sink = self.record_sink(usize::MAX, now)?;
        let counts = sink.write(records, &[])?;
        sink.finish()?;
        Ok(counts)
    }

    fn record_sink(&mut self, per_commit: usize, now: i64) -> Result<Box<dyn RecordSink + '_>> {
        Ok(Box::new(sink::SqliteSink::new(&self.conn, per_commit, now)?))
    }

    fn quarantine(&mut self, entries: &[QuarantineEntry]) -> Result<()> {
        let tx = self.conn.transaction()?;
        realtime::insert_quarantine(&tx, entries)?;
        tx.commit()?;
        Ok(())
    }

    fn quarantined(&self, source: Option<&str>, limit: usize) -> Result<Vec<QuarantineEntry>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {QUARANTINE_COLUMNS} FROM quarantine WHERE ?1 IS NULL OR source = ?1 ORDER BY id LIMIT ?2"
        ))?;
        let rows = stmt.query_map(params![source, limit as i64], quarantine_entry)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn active_set(&self) -> Result<ActiveSet> {
        // Sized first (a million records' buffers grown by doubling fault in fresh memory again at every step),
        // from estimates that cost no scan: the highest record id, and the clean form size of the first records.
        // Room reserved but not used is never touched, so it costs no memory.
        let (count, average): (i64, f64) = self.conn.query_row(
            "SELECT (SELECT COALESCE(MAX(rid), 0) FROM records),
                    (SELECT TOTAL(LENGTH(clean)) / MAX(COUNT(*), 1) FROM (SELECT clean FROM records LIMIT 1000))",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let bytes = |records: i64| (average * 1.25) as usize * records.max(0) as usize;
        // Trust by source name, looked up here rather than joined per row; sources not registered have 0.
        let trust: Vec<(String, i32)> = self
            .conn
            .prepare("SELECT name, trust FROM sources")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        let Some(second) = self.second_reader(count)? else {
            let mut set = ActiveSet::with_capacity(count.max(0) as usize, bytes(count));
            read_active(&self.conn, self.keyring.as_deref(), &trust, 0, i64::MAX, &mut set)?;
            return Ok(set);
        };
        // Two halves by record id, read at once on two connections. Both read one state of the file: this one
        // holds its read lock from before the other starts until both are done, and with the rollback journal (the
        // only mode this runs in) no other connection can commit while a read lock is held.
        let middle = count / 2;
        self.conn.execute_batch("BEGIN DEFERRED; SELECT 1 FROM records LIMIT 1;")?;
        let (keyring, trust) = (self.keyring.as_deref(), &trust);
        let read = std::thread::scope(|scope| -> Result<ActiveSet> {
            let upper = scope.spawn(move || -> Result<ActiveSet> {
                let mut set = ActiveSet::with_capacity((count - middle) as usize, bytes(count - middle));
                read_active(&second, keyring, trust, middle, i64::MAX, &mut set)?;
                Ok(set)
            });
            let mut set = ActiveSet::with_capacity(count as usize, bytes(count));
            let lower = read_active(&self.conn, keyring, trust, 0, middle, &mut set);
            let upper = upper.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            lower?;
            set.append(upper?);
            Ok(set)
        });
        self.conn.execute_batch("COMMIT")?;
        read
    }

    fn for_each_active_chunk(&self, f: &mut (dyn FnMut(Vec<ActiveRecord>) -> Result<()> + Send)) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT r.rid, r.source, r.source_id, COALESCE(s.trust, 0), COALESCE(r.updated_at, r.ingested_at), r.version,
                    unseal_blob('records.clean', r.clean)
             FROM records r LEFT JOIN sources s ON s.name = r.source
             WHERE r.status = 'active' ORDER BY r.rid",
        )?;
        let mut rows = stmt.query([])?;
        // Rows are read in chunks on this thread while another thread decodes the JSON of the chunk before, in
        // parallel: decoding costs more than reading.
        let (chunks, decoded) = std::sync::mpsc::sync_channel::<Vec<(ActiveRecord, StoredClean)>>(1);
        std::thread::scope(|scope| -> Result<()> {
            let decoder = scope.spawn(move || -> Result<()> {
                for chunk in decoded {
                    let records: Vec<ActiveRecord> = chunk
                        .into_par_iter()
                        .map(|(mut record, clean)| {
                            record.clean = clean.decode()?;
                            Ok(record)
                        })
                        .collect::<Result<_>>()?;
                    f(records)?;
                }
                Ok(())
            });
            let read = (|| -> Result<()> {
                loop {
                    let mut chunk: Vec<(ActiveRecord, StoredClean)> = Vec::with_capacity(LOAD_CHUNK);
                    while chunk.len() < LOAD_CHUNK {
                        let Some(row) = rows.next()? else { break };
                        let record = ActiveRecord {
                            rid: row.get(0)?,
                            key: key_of(row, 1)?,
                            trust: row.get(3)?,
                            recency: row.get(4)?,
                            version: row.get(5)?,
                            clean: CleanRecord::default(),
                        };
                        chunk.push((record, row.get(6)?));
                    }
                    let last = chunk.len() < LOAD_CHUNK;
                    // A send fails only when the decoder stopped on an error, which it returns below.
                    if chunks.send(chunk).is_err() || last {
                        return Ok(());
                    }
                }
            })();
            drop(chunks);
            decoder.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            read
        })
    }

    fn record(&self, key: &RecordKey) -> Result<Option<ActiveRecord>> {
        let row = self
            .conn
            .query_row(
                "SELECT r.rid, COALESCE(s.trust, 0), COALESCE(r.updated_at, r.ingested_at), r.version,
                        unseal_blob('records.clean', r.clean)
                 FROM records r LEFT JOIN sources s ON s.name = r.source WHERE r.source = ?1 AND r.source_id = ?2",
                params![key.source, key.source_id],
                |r| Ok((r.get::<_, i64>(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get::<_, Option<StoredClean>>(4)?)),
            )
            .optional()?;
        let Some((rid, trust, recency, version, Some(clean))) = row else {
            return Ok(None);
        };
        Ok(Some(ActiveRecord { rid, key: key.clone(), trust, recency, version, clean: clean.decode()? }))
    }

    fn previous_entities(&self) -> Result<RidMap<i64>> {
        let mut stmt = self.conn.prepare("SELECT rid, entity_id FROM memberships")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn next_entity_id(&self) -> Result<u64> {
        realtime::next_entity_id(&self.conn)
    }

    fn save_resolution(
        &mut self,
        resolved: &Resolved,
        goldens: &mut dyn Iterator<Item = Result<GoldenRow>>,
        now: i64,
    ) -> Result<()> {
        // The rows written here are built consistent with each other and with `records`; checking every one of
        // the millions of references again costs more than writing them.
        self.conn.pragma_update(None, "foreign_keys", "OFF")?;
        let written = self.write_resolution(resolved, goldens, now);
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        written
    }

    fn latest_model(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT unseal_text('models.json', json) FROM models ORDER BY id DESC LIMIT 1", [], |r| r.get(0))
            .optional()?)
    }

    fn save_model(&mut self, json: &str, now: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO models (created_at, json) VALUES (?1, seal('models.json', ?2))",
            params![now, json],
        )?;
        Ok(())
    }

    fn latest_model_id(&self) -> Result<Option<i64>> {
        realtime::latest_model_id(&self.conn)
    }

    fn index_claim(&self) -> Result<Option<String>> {
        realtime::index_claim(&self.conn)
    }

    fn entity(&self, id: EntityId) -> Result<Option<EntityView>> {
        let mut current = id.0 as i64;
        for _ in 0..64 {
            let row: Option<(Option<i64>, Option<i64>)> = self
                .conn
                .query_row("SELECT retired_at, merged_into FROM entities WHERE entity_id = ?1", [current], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            match row {
                None => return Ok(None),
                Some((Some(_), Some(next))) => current = next,
                Some((Some(_), None)) => return Ok(None),
                Some((None, _)) => break,
            }
        }
        let Some(golden) = golden_of(&self.conn, current)? else { return Ok(None) };
        let mut stmt = self.conn.prepare(
            "SELECT r.source, r.source_id, unseal_blob('records.clean', r.clean) FROM memberships m
             JOIN records r ON r.rid = m.rid
             WHERE m.entity_id = ?1 ORDER BY r.source, r.source_id",
        )?;
        let members = stmt
            .query_map([current], |r| Ok((key_of(r, 0)?, r.get::<_, StoredClean>(2)?)))?
            .map(|row| {
                let (key, clean) = row?;
                Ok((key, clean.decode()?))
            })
            .collect::<Result<Vec<_>>>()?;
        let resolved = EntityId(current as u64);
        Ok(Some(EntityView { id: resolved, redirected_from: (resolved != id).then_some(id), golden, members }))
    }

    fn entity_of(&self, key: &RecordKey) -> Result<Option<EntityId>> {
        let id: Option<i64> = self
            .conn
            .query_row(
                "SELECT m.entity_id FROM memberships m JOIN records r ON r.rid = m.rid
                 WHERE r.source = ?1 AND r.source_id = ?2",
                params![key.source, key.source_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(id.map(|i| EntityId(i as u64)))
    }

    fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let wanted: Vec<String> = fold(query).split(' ').filter(|t| !t.is_empty()).map(str::to_string).collect();
        if wanted.is_empty() {
            return Ok(Vec::new());
        }
        // Encrypted, the search text holds blind tokens: words match exactly (no typo tolerance), and only the
        // names of the hits are decrypted.
        let blinded = self.keyring.is_some();
        let wanted: Vec<String> = if blinded {
            let mut blind = self.conn.prepare_cached("SELECT blind(?1)")?;
            wanted.iter().map(|w| blind.query_row([w], |r| r.get(0))).collect::<rusqlite::Result<_>>()?
        } else {
            wanted
        };
        let similarity = |w: &str, t: &str| if blinded { f64::from(u8::from(w == t)) } else { token_similarity(w, t) };
        let mut stmt = self.conn.prepare("SELECT entity_id, search FROM golden")?;
        let mut rows = stmt.query([])?;
        let mut scored: Vec<(f64, i64)> = Vec::new();
        while let Some(row) = rows.next()? {
            let search = row.get_ref(1)?.as_str().map_err(rusqlite::Error::from)?;
            let best = |w: &String| search.split(' ').map(|t| similarity(w, t)).fold(0.0, f64::max);
            let score = wanted.iter().map(best).sum::<f64>() / wanted.len() as f64;
            if score >= 0.8 {
                scored.push((score, row.get(0)?));
            }
        }
        // Names (decrypted when sealed) only for the hits returned.
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored.truncate(limit);
        let mut name =
            self.conn.prepare_cached("SELECT unseal_text('golden.name', name) FROM golden WHERE entity_id = ?1")?;
        scored
            .into_iter()
            .map(|(score, entity)| {
                let name: String = name.query_row([entity], |r| r.get(0))?;
                Ok(SearchHit { entity: EntityId(entity as u64), name, score })
            })
            .collect()
    }

    fn for_each_golden(&self, f: &mut dyn FnMut(&Golden) -> Result<()>) -> Result<()> {
        let mut stmt = self.conn.prepare("SELECT unseal_blob('golden.json', json) FROM golden ORDER BY entity_id")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            f(&row.get::<_, StoredGolden>(0)?.decode()?)?;
        }
        Ok(())
    }

    fn for_each_membership(&self, f: &mut dyn FnMut(&RecordKey, EntityId) -> Result<()>) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT r.source, r.source_id, m.entity_id FROM memberships m JOIN records r ON r.rid = m.rid ORDER BY r.rid",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            f(&key_of(row, 0)?, EntityId(row.get::<_, i64>(2)? as u64))?;
        }
        Ok(())
    }

    fn for_each_raw(&self, f: &mut dyn FnMut(&RecordKey, &RawFields) -> Result<()>) -> Result<()> {
        let mut stmt = self.conn.prepare(
            "SELECT r.source, r.source_id, unseal_text('record_versions.raw', v.raw) FROM records r
             JOIN record_versions v ON v.rid = r.rid AND v.version = r.version ORDER BY r.rid",
        )?;
        let mut layouts = raw_layouts::RawLayouts::default();
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let raw: String = row.get(2)?;
            if let Some(fields) = layouts.read(&self.conn, &raw)? {
                f(&key_of(row, 0)?, &fields)?;
            }
        }
        Ok(())
    }

    fn pairs(&self, decision: &str, limit: usize) -> Result<Vec<StoredPair>> {
        let decisions: &[&str] = match decision {
            "review" => &["review", "vetoed"],
            "match" => &["match"],
            "all" => &["match", "review", "vetoed"],
            other => {
                return Err(Error::Invalid(format!("unknown pair decision `{other}` (match, review or all)")));
            }
        };
        let mut stmt = self.conn.prepare(&format!(
            "{PAIRS_WITH_KEYS} WHERE p.decision IN (?1, ?2, ?3) ORDER BY p.probability DESC LIMIT ?4"
        ))?;
        let at = |i: usize| decisions.get(i).copied().unwrap_or(decisions[0]);
        let rows = stmt.query_map(params![at(0), at(1), at(2), limit as i64], stored_pair)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn stats(&self) -> Result<StoreStats> {
        let mut stmt = self.conn.prepare(
            "SELECT source, SUM(status = 'active'), SUM(status = 'quarantined') FROM records GROUP BY source ORDER BY source",
        )?;
        let sources = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)? as u64)))?
            .collect::<rusqlite::Result<_>>()?;
        let count = |sql: &str| -> Result<u64> { Ok(self.conn.query_row(sql, [], |r| r.get::<_, i64>(0))? as u64) };
        Ok(StoreStats {
            sources,
            quarantine_entries: count("SELECT COUNT(*) FROM quarantine")?,
            entities: count("SELECT COUNT(*) FROM golden")?,
            review_pairs: count("SELECT COUNT(*) FROM pairs WHERE decision IN ('review', 'vetoed')")?,
        })
    }

    fn feed(&self, after: i64, limit: usize) -> Result<Vec<FeedEvent>> {
        feed::after(&self.conn, after, limit)
    }

    fn entity_history(&self, id: EntityId) -> Result<Vec<FeedEvent>> {
        feed::of_entity(&self.conn, id)
    }

    fn write(&mut self, work: &mut dyn FnMut(&mut dyn Tx) -> Result<()>) -> Result<()> {
        realtime::write(&mut self.conn, work)
    }

    fn claim_index(&mut self, claim: &str) -> Result<()> {
        realtime::claim_index(&self.conn, claim)
    }

    fn pins(&self) -> Result<Vec<Pin>> {
        realtime::all_pins(&self.conn)
    }

    fn feed_head(&self) -> Result<i64> {
        webhooks::feed_head(&self.conn)
    }

    fn subject(&self, who: &Subject) -> Result<Option<SubjectData>> {
        subject::gather(&self.conn, who)
    }

    fn erase_subject(
        &mut self,
        who: &Subject,
        request: &ErasureRequest,
        now: i64,
        keep_claim: Option<&str>,
    ) -> Result<Option<ErasureOutcome>> {
        subject::erase(&mut self.conn, who, request, now, keep_claim)
    }

    fn erasures(&self) -> Result<Vec<Erasure>> {
        subject::receipts(&self.conn)
    }

    fn expired_records(&self, source: &str, seen_before: i64) -> Result<Vec<RecordKey>> {
        let mut stmt = self.conn.prepare(
            "SELECT source, source_id FROM records WHERE source = ?1 AND COALESCE(seen_at, ingested_at) < ?2
             ORDER BY rid",
        )?;
        let rows = stmt.query_map(params![source, seen_before], |r| key_of(r, 0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn suppression(&self) -> Result<Suppression> {
        subject::suppression(&self.conn)
    }

    fn append_audit(&mut self, entry: &NewAuditEntry, now: i64) -> Result<i64> {
        audit::append(&mut self.conn, entry, now)
    }

    fn audit(&self, after: i64, limit: usize) -> Result<Vec<AuditEntry>> {
        audit::after(&self.conn, after, limit)
    }

    fn audit_head(&self) -> Result<Option<(i64, String)>> {
        audit::head(&self.conn)
    }

    fn for_each_audit(&self, f: &mut dyn FnMut(AuditEntry) -> Result<()>) -> Result<()> {
        audit::for_each(&self.conn, f)
    }

    fn add_api_key(&mut self, key: &NewApiKey, now: i64) -> Result<ApiKey> {
        api_keys::add(&self.conn, key, now)
    }

    fn api_key(&self, id: i64) -> Result<Option<ApiKey>> {
        api_keys::one(&self.conn, id)
    }

    fn api_keys(&self) -> Result<Vec<ApiKey>> {
        api_keys::all(&self.conn)
    }

    fn revoke_api_key(&mut self, id: i64, now: i64) -> Result<bool> {
        api_keys::revoke(&self.conn, id, now)
    }

    fn add_webhook(&mut self, hook: &NewWebhook, now: i64) -> Result<Webhook> {
        webhooks::add(&self.conn, hook, now)
    }

    fn webhooks(&self) -> Result<Vec<Webhook>> {
        webhooks::all(&self.conn)
    }

    fn webhook(&self, id: i64) -> Result<Option<Webhook>> {
        webhooks::one(&self.conn, id)
    }

    fn remove_webhook(&mut self, id: i64) -> Result<bool> {
        webhooks::remove(&self.conn, id)
    }

    fn record_delivery(&mut self, id: i64, outcome: &Delivery) -> Result<()> {
        webhooks::record(&self.conn, id, outcome)
    }
}

impl SqliteStore {
    fn write_resolution(
        &mut self,
        resolved: &Resolved,
        goldens: &mut dyn Iterator<Item = Result<GoldenRow>>,
        now: i64,
    ) -> Result<()> {
        let unaligned = || Error::Invalid("clusters, ids and golden records must line up".into());
        if resolved.ids.len() != resolved.clusters.len() {
            return Err(unaligned());
        }
        let old = self.memberships_by_rid()?;
        let tx = self.conn.transaction()?;
        // Records changed (a new version) since the previous resolution: their entities are told `changed` even
        // when their members stay the same.
        let previous: Option<i64> = tx.query_row("SELECT MAX(finished_at) FROM runs", [], |r| r.get(0))?;
        let changed: Vec<i64> = match previous {
            None => Vec::new(),
            Some(since) => tx
                .prepare("SELECT rid FROM records WHERE status = 'active' AND version > 1 AND ingested_at >= ?1")?
                .query_map([since], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?,
        };
        tx.execute(
            "INSERT INTO models (created_at, json) VALUES (?1, seal('models.json', ?2))",
            params![now, resolved.model_json],
        )?;
        let model_id = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO runs (finished_at, model_id, report) VALUES (?1, ?2, ?3)",
            params![now, model_id, resolved.report_json],
        )?;
        tx.execute_batch("DELETE FROM golden; DELETE FROM memberships; DELETE FROM pairs;")?;
        // Where records went (needed only for records that were in an entity before, which a first resolution has
        // none of), the entities no cluster kept, and the record keys the feed names all follow from the clusters:
        // the feed's events are worked out on another thread while this one writes the rows.
        let new_entity_of: RidMap<i64> = if old.is_empty() {
            RidMap::default()
        } else {
            let members = resolved.clusters.iter().zip(&resolved.ids);
            members.flat_map(|(m, id)| m.iter().map(move |rid| (*rid, id.0 as i64))).collect()
        };
        let retired = retired_entities(&old, &new_entity_of, &resolved.ids);
        let given = &resolved.record_keys;
        let known = |rid: &i64| given.binary_search_by_key(rid, |(r, _)| *r).is_ok();
        let mut missing: Vec<i64> =
            old.keys().chain(resolved.clusters.iter().flatten()).copied().filter(|rid| !known(rid)).collect();
        missing.sort_unstable();
        missing.dedup();
        let others = record_keys(&tx, &missing)?;
        let key = |rid: i64| match given.binary_search_by_key(&rid, |(r, _)| *r) {
            Ok(i) => given[i].1.clone(),
            Err(_) => others.get(&rid).cloned().unwrap_or_else(|| format!("record {rid}")),
        };
        let lineage = Lineage { by: "batch resolve".into(), evidence: Vec::new(), changed };
        std::thread::scope(|scope| -> Result<()> {
            let (old, new_entity_of, retired, lineage, key) = (&old, &new_entity_of, &retired, &lineage, &key);
            let events = scope.spawn(move || {
                feed::resolution_events(old, new_entity_of, &resolved.clusters, &resolved.ids, retired, lineage, key)
            });
            use bulk::{BulkInsert, int, owned_blob, owned_text, real, text, text_or_null};
            // Pairs, entities, memberships and the feed first, each in key order (appended to their B-trees rather
            // than inserted all over them): they need no golden record, so golden records are made meanwhile and
            // the golden rows, last, wait for their making as little as possible.
            let mut order: Vec<usize> = (0..resolved.pairs.len()).collect();
            if !resolved.pairs.is_sorted_by_key(|p| (p.a, p.b)) {
                order.sort_unstable_by_key(|i| (resolved.pairs[*i].a, resolved.pairs[*i].b));
            }
            const PAIRS: &str = "INSERT OR REPLACE INTO pairs (a, b, probability, decision, rule)";
            let mut pair = BulkInsert::new(&tx, PAIRS, "", 5);
            // Most pairs are matches scored by the model (no rule): their constant columns are written in the
            // statement, not bound row by row.
            let mut scored_match = BulkInsert::new(&tx, PAIRS, "", 3).with_row("(?, ?, ?, 'match', NULL)");
            for p in order.iter().map(|i| &resolved.pairs[*i]) {
                if p.decision == "match" && p.rule.is_none() {
                    scored_match.push([int(p.a), int(p.b), real(p.probability)])?;
                    continue;
                }
                pair.push([
                    int(p.a),
                    int(p.b),
                    real(p.probability),
                    text(p.decision),
                    text_or_null(p.rule.as_deref()),
                ])?;
            }
            scored_match.finish()?;
            pair.finish()?;
            let mut entity = BulkInsert::new(
                &tx,
                "INSERT INTO entities (entity_id, created_at)",
                " ON CONFLICT (entity_id) DO UPDATE SET retired_at = NULL, merged_into = NULL",
                2,
            );
            let mut eids: Vec<i64> = resolved.ids.iter().map(|id| id.0 as i64).collect();
            eids.sort_unstable();
            for eid in eids {
                entity.push([int(eid), int(now)])?;
            }
            entity.finish()?;
            let mut rows: Vec<(i64, i64, i64)> = Vec::with_capacity(resolved.record_keys.len());
            for (members, id) in resolved.clusters.iter().zip(&resolved.ids) {
                let eid = id.0 as i64;
                for rid in members {
                    let since = match old.get(rid) {
                        Some((e, since)) if *e == eid => *since,
                        _ => now,
                    };
                    rows.push((*rid, eid, since));
                }
            }
            rows.sort_unstable_by_key(|r| r.0);
            let mut member = BulkInsert::new(&tx, "INSERT INTO memberships (rid, entity_id, since)", "", 3);
            for (rid, eid, since) in rows {
                member.push([int(rid), int(eid), int(since)])?;
            }
            member.finish()?;
            let mut retire =
                tx.prepare_cached("UPDATE entities SET retired_at = ?2, merged_into = ?3 WHERE entity_id = ?1")?;
            for (old_eid, successor) in retired {
                retire.execute(params![old_eid, now, successor])?;
            }
            let events = events.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            feed::append(&tx, events, now)?;
            let mut golden = BulkInsert::new(&tx, "INSERT INTO golden (entity_id, name, search, json)", "", 4)
                .with_row("(?, seal('golden.name', ?), blind(?), seal('golden.json', ?))");
            for id in &resolved.ids {
                let row = goldens.next().ok_or_else(unaligned)??;
                let eid = id.0 as i64;
                golden.push([int(eid), owned_text(row.name), owned_text(row.search), owned_blob(row.stored)])?;
            }
            if goldens.next().is_some() {
                return Err(unaligned());
            }
            golden.finish()?;
            Ok(())
        })?;
        tx.commit()?;
        Ok(())
    }

    /// A second, read-only connection to load a batch's records with, when it pays and is safe: a file with at
    /// least [`PARALLEL_LOAD`] records, read in the rollback-journal mode of a bulk command (in WAL mode each
    /// connection could read another state of the file) and outside any transaction.
    fn second_reader(&self, records: i64) -> Result<Option<Connection>> {
        let Some(path) = self.conn.path().filter(|p| !p.is_empty()) else { return Ok(None) };
        if records < PARALLEL_LOAD || !self.conn.is_autocommit() || self.journal_mode()?.eq_ignore_ascii_case("wal") {
            return Ok(None);
        }
        // A second connection only speeds the load up: where it cannot be had, one connection reads.
        // Without NO_MUTEX (rusqlite's default flags have it) every column read would lock the connection's mutex.
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let Ok(mut conn) = Connection::open_with_flags(path, flags) else {
            return Ok(None);
        };
        conn.busy_handler(Some(wait_for_lock))?;
        Ok(Some(conn))
    }

    fn memberships_by_rid(&self) -> Result<RidMap<(i64, i64)>> {
        let mut stmt = self.conn.prepare("SELECT rid, entity_id, since FROM memberships")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Live entities that no cluster kept (`old` memberships whose entity is not among `ids`), each with where most
/// of its records went (ties to the lower id), sorted.
fn retired_entities(
    old: &RidMap<(i64, i64)>,
    new_entity_of: &RidMap<i64>,
    ids: &[EntityId],
) -> Vec<(i64, Option<i64>)> {
    let live: std::collections::HashSet<i64> = ids.iter().map(|i| i.0 as i64).collect();
    let mut successors: RidMap<RidMap<usize>> = RidMap::default();
    for (rid, (old_eid, _)) in old {
        if !live.contains(old_eid) {
            let votes = successors.entry(*old_eid).or_default();
            if let Some(new_eid) = new_entity_of.get(rid) {
                *votes.entry(*new_eid).or_default() += 1;
            }
        }
    }
    let mut retired: Vec<(i64, Option<i64>)> = successors
        .into_iter()
        .map(|(old_eid, votes)| {
            (old_eid, votes.into_iter().max_by_key(|(e, c)| (*c, std::cmp::Reverse(*e))).map(|(e, _)| e))
        })
        .collect();
    retired.sort_unstable();
    retired
}

/// The keys of records `rids` as `source:id`, by record id.
fn record_keys(conn: &Connection, rids: &[i64]) -> Result<HashMap<i64, String>> {
    let mut stmt = conn.prepare_cached("SELECT source || ':' || source_id FROM records WHERE rid = ?1")?;
    let mut keys = HashMap::with_capacity(rids.len());
    for rid in rids {
        if let Some(key) = stmt.query_row([rid], |r| r.get(0)).optional()? {
            keys.insert(*rid, key);
        }
    }
    Ok(keys)
}

/// Similarity of a query token to an indexed token: exact, prefix, or Jaro–Winkler.
fn token_similarity(query: &str, token: &str) -> f64 {
    if query == token {
        1.0
    } else if query.len() >= 3 && token.starts_with(query) {
        0.95
    } else {
        master::similarity::jaro_winkler(query, token)
    }
}

#[cfg(test)]
mod tests;
