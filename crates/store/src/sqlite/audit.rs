//! The audit trail in the `audit` table: appended in a transaction that reads the last hash, so the chain has
//! no gaps or forks even with several writers; triggers refuse updates and deletes through SQLite.

use crate::Result;
use crate::audit::{AuditEntry, NewAuditEntry};
use govern::audit::{AuditFields, FORM, GENESIS, chain_hash};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

const COLUMNS: &str = "seq, at, actor, action, target, origin, status, hash, form, target_digest";

/// The columns as read: the target opened.
const READ: &str =
    "seq, at, actor, action, unseal_text('audit.target', target), origin, status, hash, form, target_digest";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        target: r.get(4)?,
        origin: r.get(5)?,
        status: r.get(6)?,
        hash: r.get(7)?,
        form: r.get(8)?,
        target_digest: r.get(9)?,
    })
}

/// Appends an entry at `now`; returns its sequence number.
pub(super) fn append(conn: &mut Connection, entry: &NewAuditEntry, now: i64) -> Result<i64> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let last: Option<(i64, String)> = tx
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (seq, previous) = last.map_or((1, GENESIS.to_string()), |(s, h)| (s + 1, h));
    let fields = AuditFields {
        seq,
        at: now,
        actor: &entry.actor,
        action: &entry.action,
        target: &entry.target,
        origin: &entry.origin,
        status: entry.status,
        form: FORM,
        target_digest: None,
    };
    let hash = chain_hash(&previous, &fields);
    tx.prepare_cached(&format!(
        "INSERT INTO audit ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, seal('audit.target', ?5), ?6, ?7, ?8, ?9, NULL)"
    ))?
    .execute(params![
        seq,
        now,
        entry.actor,
        entry.action,
        entry.target,
        entry.origin,
        entry.status,
        hash,
        FORM
    ])?;
    tx.commit()?;
    Ok(seq)
}

/// The newest entry's sequence number and hash.
pub(super) fn head(conn: &Connection) -> Result<Option<(i64, String)>> {
    Ok(conn
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Entries after `after`, oldest first, at most `limit`.
pub(super) fn after(conn: &Connection, after: i64, limit: usize) -> Result<Vec<AuditEntry>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {READ} FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2"))?;
    Ok(stmt.query_map(params![after, limit as i64], row)?.collect::<rusqlite::Result<_>>()?)
}

/// Every entry in order, one at a time.
pub(super) fn for_each(conn: &Connection, f: &mut dyn FnMut(AuditEntry) -> Result<()>) -> Result<()> {
    let mut stmt = conn.prepare(&format!("SELECT {READ} FROM audit ORDER BY seq"))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        f(row(r)?)?;
    }
    Ok(())
}

/// Replaces an entry's target by [`govern::erasure::REDACTED`], keeping the digest of what it was (so the chain
/// still verifies); the trigger allows no other update.
pub(super) fn redact(conn: &Connection, entry: &AuditEntry) -> Result<()> {
    let digest = govern::erasure::sha256_hex(entry.target.as_bytes());
    conn.prepare_cached("UPDATE audit SET target = ?2, target_digest = ?3 WHERE seq = ?1 AND target_digest IS NULL")?
        .execute(params![entry.seq, govern::erasure::REDACTED, digest])?;
    Ok(())
}
