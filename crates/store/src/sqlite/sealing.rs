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
use std::borrow::Cow;
use std::sync::Arc;

/// Every sealed column: (table, column, how it reads back). The rotation re-seals exactly these.
pub(super) const SEALED_COLUMNS: &[(&str, &str, Kind)] = &[
    ("records", "clean", Kind::Blob),
    ("record_versions", "raw", Kind::Text),
    ("golden", "name", Kind::Text),
    ("golden", "json", Kind::Blob),
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
            let plain = open(ring.as_deref(), || column(ctx), bytes)?.into_owned();
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

/// A value of a sealed column as read: plain values (written without a keyring) as they are, sealed ones opened
/// with the keyring — an error without one. `unseal_text`/`unseal_blob` do this in SQL; bulk reads call it
/// directly on the stored bytes, sparing a function call and two copies per row. `tag` names the column
/// (`table.column`), asked only for a sealed value.
pub(super) fn open<'v>(
    keyring: Option<&Keyring>,
    tag: impl FnOnce() -> rusqlite::Result<String>,
    value: &'v [u8],
) -> rusqlite::Result<Cow<'v, [u8]>> {
    if !is_sealed(value) {
        return Ok(Cow::Borrowed(value));
    }
    let ring = keyring.ok_or_else(|| user_error(NoKeys))?;
    let column = tag()?;
    ring.open(&column, value).map(Cow::Owned).map_err(|source| user_error(Unsealing { column, source }))
}

/// The statement text `sql` as this connection should run it: without a keyring `seal('t.c', x)` and `blind(x)`
/// are identities, so they are taken out and SQLite copies the values straight into the row — in bulk writes the
/// function calls (each copying its value twice) were a tenth of the writing thread's time. With a keyring, or
/// if the connection cannot tell, the text is kept as it is (correct either way).
pub(super) fn written<'s>(conn: &Connection, sql: &'s str) -> Cow<'s, str> {
    let on = conn.prepare_cached("SELECT sealing()").and_then(|mut s| s.query_row([], |r| r.get::<_, bool>(0)));
    match on {
        Ok(false) => Cow::Owned(without_sealing(sql)),
        _ => Cow::Borrowed(sql),
    }
}

/// `sql` with every `seal('tag', x)` and `blind(x)` replaced by `x` (whose text holds no parenthesis).
fn without_sealing(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    loop {
        // `unseal_text('` and `unseal_blob('` do not contain `seal('`: reads keep their check for sealed values.
        let next = [rest.find("seal('").map(|i| (i, true)), rest.find("blind(").map(|i| (i, false))]
            .into_iter()
            .flatten()
            .min();
        let Some((at, is_seal)) = next else { break };
        let inner = if is_seal {
            // Past the tag: `seal('t.c', ` — tags hold no quote.
            rest[at + 6..].find("', ").map(|i| at + 6 + i + 3)
        } else {
            Some(at + 6)
        };
        let Some((start, end)) = inner.and_then(|start| rest[start..].find(')').map(|len| (start, start + len))) else {
            break;
        };
        out.push_str(&rest[..at]);
        out.push_str(rest[start..end].trim());
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_calls_are_taken_out_of_the_text_only_without_a_keyring() {
        let sql = "INSERT INTO golden (entity_id, name, search, json)
                 VALUES (?1, seal('golden.name', ?2), blind(?3), seal('golden.json', ?4))";
        let plain = "INSERT INTO golden (entity_id, name, search, json)
                 VALUES (?1, ?2, ?3, ?4)";
        assert_eq!(without_sealing(sql), plain);
        assert_eq!(without_sealing("(?, seal('feed.payload', ?))"), "(?, ?)");
        assert_eq!(
            without_sealing("VALUES (?1, ?2, ?3, seal('record_versions.raw', 'null'))"),
            "VALUES (?1, ?2, ?3, 'null')"
        );
        let reading = "UPDATE r SET c = seal('r.c', ?3) WHERE unseal_blob('r.c', c) IS NOT ?3";
        assert_eq!(without_sealing(reading), "UPDATE r SET c = ?3 WHERE unseal_blob('r.c', c) IS NOT ?3");
        let conn = Connection::open_in_memory().expect("open");
        register(&conn, None).expect("register");
        assert_eq!(written(&conn, sql), plain);
        let conn = Connection::open_in_memory().expect("open");
        register(&conn, Some(Arc::new(Keyring::from_hex([&*"11".repeat(32)]).expect("key")))).expect("register");
        assert_eq!(written(&conn, sql), sql);
        let bare = Connection::open_in_memory().expect("open");
        assert_eq!(written(&bare, sql), sql, "a connection without the functions keeps the text");
    }
}
