//! Multi-row inserts: one statement carries many rows, which cuts SQLite's per-statement cost (binding, stepping,
//! resetting) in bulk writes such as a resolution's million memberships.

use super::sealing;
use crate::Result;
use rusqlite::Connection;
use rusqlite::types::{ToSqlOutput, Value, ValueRef};

/// Rows per statement; `ROWS × columns` stays far below SQLite's limit of 32,766 bound parameters.
const ROWS: usize = 128;

/// Buffers rows and inserts them `ROWS` at a time. Call [`BulkInsert::finish`] to write the last rows.
pub(super) struct BulkInsert<'c, 'v> {
    conn: &'c Connection,
    /// `INSERT INTO t (a, b)`.
    head: &'static str,
    /// What follows the values (`ON CONFLICT …`), or "".
    tail: &'static str,
    width: usize,
    /// One row's placeholders, when not plain `(?, ?, …)` (values passed through SQL functions).
    row: Option<String>,
    values: Vec<ToSqlOutput<'v>>,
}

impl<'c, 'v> BulkInsert<'c, 'v> {
    /// An insert of rows with `width` columns: `head` names the table and columns, `tail` ends each statement.
    pub(super) fn new(conn: &'c Connection, head: &'static str, tail: &'static str, width: usize) -> Self {
        BulkInsert { conn, head, tail, width, row: None, values: Vec::with_capacity(ROWS * width) }
    }

    /// Uses `row` (`width` placeholders, some inside function calls: `(?, seal('t.c', ?))`) for each row, as
    /// the connection runs it ([`sealing::written`]).
    pub(super) fn with_row(mut self, row: &'static str) -> Self {
        self.row = Some(sealing::written(self.conn, row).into_owned());
        self
    }

    /// Adds one row (exactly `width` values).
    pub(super) fn push<const N: usize>(&mut self, row: [ToSqlOutput<'v>; N]) -> Result<()> {
        debug_assert_eq!(N, self.width);
        self.values.extend(row);
        if self.values.len() >= ROWS * self.width { self.flush() } else { Ok(()) }
    }

    /// Writes the buffered rows.
    pub(super) fn finish(mut self) -> Result<()> {
        self.flush()
    }

    /// Writes the rows buffered so far (the insert goes on taking rows).
    pub(super) fn flush(&mut self) -> Result<()> {
        let rows = self.values.len() / self.width;
        if rows == 0 {
            return Ok(());
        }
        let row = self.row.clone().unwrap_or_else(|| format!("({})", vec!["?"; self.width].join(", ")));
        let mut statement = self.conn.prepare_cached(&values_sql(self.head, &row, rows, self.tail))?;
        statement.execute(rusqlite::params_from_iter(self.values.drain(..)))?;
        Ok(())
    }
}

/// `head VALUES row, row, … tail` with `rows` rows: the text of one multi-row insert.
pub(super) fn values_sql(head: &str, row: &str, rows: usize, tail: &str) -> String {
    format!("{head} VALUES {}{tail}", vec![row; rows].join(", "))
}

/// An integer value.
pub(super) fn int<'v>(value: i64) -> ToSqlOutput<'v> {
    ToSqlOutput::Owned(Value::Integer(value))
}

/// A real value.
pub(super) fn real<'v>(value: f64) -> ToSqlOutput<'v> {
    ToSqlOutput::Owned(Value::Real(value))
}

/// A borrowed text value.
pub(super) fn text(value: &str) -> ToSqlOutput<'_> {
    ToSqlOutput::Borrowed(ValueRef::Text(value.as_bytes()))
}

/// An owned text value (the statement keeps it until it is written).
pub(super) fn owned_text<'v>(value: String) -> ToSqlOutput<'v> {
    ToSqlOutput::Owned(Value::Text(value))
}

/// An owned blob value (the statement keeps it until it is written).
pub(super) fn owned_blob<'v>(value: Vec<u8>) -> ToSqlOutput<'v> {
    ToSqlOutput::Owned(Value::Blob(value))
}

/// An integer value or NULL.
pub(super) fn int_or_null<'v>(value: Option<i64>) -> ToSqlOutput<'v> {
    ToSqlOutput::Owned(value.map_or(Value::Null, Value::Integer))
}

/// A borrowed blob or NULL.
pub(super) fn blob_or_null(value: Option<&[u8]>) -> ToSqlOutput<'_> {
    value.map_or(ToSqlOutput::Owned(Value::Null), |b| ToSqlOutput::Borrowed(ValueRef::Blob(b)))
}

/// A borrowed text value or NULL.
pub(super) fn text_or_null(value: Option<&str>) -> ToSqlOutput<'_> {
    value.map_or(ToSqlOutput::Owned(Value::Null), text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_full_and_partial_statements() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch("CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT, c REAL)").expect("create");
        let labels: Vec<String> = (0..300).map(|i| format!("row {i}")).collect();
        let mut insert = BulkInsert::new(&conn, "INSERT INTO t (a, b, c)", "", 3);
        for (i, label) in labels.iter().enumerate() {
            let b = if i % 7 == 0 { text_or_null(None) } else { text(label) };
            insert.push([int(i as i64), b, real(i as f64 / 2.0)]).expect("push");
        }
        insert.finish().expect("finish");
        let (count, nulls, sum): (i64, i64, f64) = conn
            .query_row("SELECT COUNT(*), SUM(b IS NULL), SUM(c) FROM t", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .expect("count");
        assert_eq!((count, nulls, sum), (300, 43, (0..300).map(|i| i as f64 / 2.0).sum()));
        let b: String = conn.query_row("SELECT b FROM t WHERE a = 299", [], |r| r.get(0)).expect("row");
        assert_eq!(b, "row 299");
    }
}
