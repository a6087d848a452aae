//! API keys in the `api_keys` table.

use crate::api_key::{ApiKey, NewApiKey};
use crate::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};

const COLUMNS: &str = "id, name, role, hash, created_by, created_at, expires_at, revoked_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: r.get(0)?,
        name: r.get(1)?,
        role: r.get(2)?,
        hash: r.get(3)?,
        created_by: r.get(4)?,
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
        revoked_at: r.get(7)?,
    })
}

/// Stores a key and returns it as stored.
pub(super) fn add(conn: &Connection, key: &NewApiKey, now: i64) -> Result<ApiKey> {
    conn.execute(
        "INSERT INTO api_keys (name, role, hash, created_by, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![key.name, key.role, key.hash, key.created_by, now, key.expires_at],
    )?;
    let id = conn.last_insert_rowid();
    one(conn, id)?.ok_or_else(|| Error::Invalid(format!("API key {id} vanished after it was stored")))
}

/// One key.
pub(super) fn one(conn: &Connection, id: i64) -> Result<Option<ApiKey>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?1"))?;
    Ok(stmt.query_row([id], row).optional()?)
}

/// Every key, by id.
pub(super) fn all(conn: &Connection) -> Result<Vec<ApiKey>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM api_keys ORDER BY id"))?;
    Ok(stmt.query_map([], row)?.collect::<rusqlite::Result<_>>()?)
}

/// Revokes a key at `now`; false when there is no such key or it was revoked already.
pub(super) fn revoke(conn: &Connection, id: i64, now: i64) -> Result<bool> {
    Ok(conn.execute("UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", params![id, now])? > 0)
}
