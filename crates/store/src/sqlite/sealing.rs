//! Encryption at rest inside SQL: each connection gets the functions `seal(column, value)`, `unseal_text(column,
//! value)`, `unseal_blob(column, value)`, `blind(text)` and `sealing()`. With a keyring, `seal` encrypts
//! (AES-256-GCM, `govern::cipher`) and `blind` turns each word of a search text into its keyed token; without one,
//! both leave values as they are. `unseal_*` open sealed values and pass anything else through, so a database
//! written before encryption was switched on still reads. Statements name the columns they seal, so the code that
//! writes and reads each column says in one place that it is protected.

use govern::cipher::{Keyring, is_sealed};
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, Error};
use std::sync::Arc;

/// Every sealed column: (table, column, how it reads back). The rotation re-seals exactly these.
pub(super) const SEALED_COLUMNS: &[(&str, &str, Kind)] = &[
    ("records", "clean", Kind::Blob),
    ("record_versions", "raw", Kind::Text),
    ("golden", "name", Kind::Text),
    ("golden", "json", Kind::Text),
    ("quarantine", "value", Kind::Text),
    ("quarantine", "reason", Kind::Text),
    ("feed", "payload", Kind::Text),
    ("pins", "reason", Kind::Text),
    ("webhooks", "secret", Kind::Text),
    ("audit", "target", Kind::Text),
    ("models", "json", Kind::Text),
    ("erasures", "requested_by", Kind::Text),
    ("erasures", "reason", Kind::Text),
];

/// What a sealed column holds once opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Text,
    Blob,
}

fn user_error(e: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::UserFunctionError(Box::new(e))
}

#[derive(Debug, thiserror::Error)]
#[error("the database holds encrypted data but no encryption keys are configured ([encryption] in cdihub.toml)")]
struct NoKeys;

#[derive(Debug, thiserror::Error)]
#[error("{column}: {source}")]
struct Unsealing {
    column: String,
    source: govern::cipher::CipherError,
}

/// Registers the functions on a connection, with `keyring` or without encryption.
pub(super) fn register(conn: &Connection, keyring: Option<Arc<Keyring>>) -> rusqlite::Result<()> {
    let deterministic = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    let ring = keyring.clone();
    // Not deterministic: every seal draws a new nonce.
    conn.create_scalar_function("seal", 2, FunctionFlags::SQLITE_UTF8, move |ctx| {
        let value = ctx.get_raw(1);
        let Some(ring) = &ring else { return Ok(owned(value)) };
        let bytes = match value {
            ValueRef::Text(b) | ValueRef::Blob(b) => b,
            other => return Ok(owned(other)),
        };
        let column = column(ctx)?;
        ring.seal(&column, bytes).map(Value::Blob).map_err(user_error)
    })?;
    for (name, kind) in [("unseal_text", Kind::Text), ("unseal_blob", Kind::Blob)] {
        let ring = keyring.clone();
        conn.create_scalar_function(name, 2, deterministic, move |ctx| {
            let value = ctx.get_raw(1);
            let ValueRef::Blob(bytes) = value else { return Ok(owned(value)) };
            if !is_sealed(bytes) {
                return Ok(Value::Blob(bytes.to_vec()));
            }
            let ring = ring.as_ref().ok_or_else(|| user_error(NoKeys))?;
            let column = column(ctx)?;
            let plain = ring.open(&column, bytes).map_err(|source| user_error(Unsealing { column, source }))?;
            match kind {
                Kind::Blob => Ok(Value::Blob(plain)),
                Kind::Text => String::from_utf8(plain).map(Value::Text).map_err(user_error),
            }
        })?;
    }
    let ring = keyring.clone();
    conn.create_scalar_function("blind", 1, deterministic, move |ctx| {
        let value = ctx.get_raw(0);
        let (Some(ring), ValueRef::Text(text)) = (&ring, value) else { return Ok(owned(value)) };
        let text = std::str::from_utf8(text).map_err(user_error)?;
        let tokens: Vec<String> = text.split(' ').filter(|t| !t.is_empty()).map(|t| ring.blind(t)).collect();
        Ok(Value::Text(tokens.join(" ")))
    })?;
    let on = keyring.is_some();
    conn.create_scalar_function("sealing", 0, deterministic, move |_| Ok(on))?;
    Ok(())
}

/// A value as the function's result, unchanged.
fn owned(value: ValueRef<'_>) -> Value {
    match value {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(i) => Value::Integer(i),
        ValueRef::Real(r) => Value::Real(r),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
    }
}

fn column(ctx: &Context<'_>) -> rusqlite::Result<String> {
    ctx.get::<String>(0)
}

/// `table.column`, the tag a column's values are sealed under.
pub(super) fn tag(table: &str, column: &str) -> String {
    format!("{table}.{column}")
}
