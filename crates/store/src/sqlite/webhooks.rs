//! Webhook registrations and their delivery state in the `webhooks` table.

use crate::webhook::{Delivery, NewWebhook, Webhook};
use crate::{Error, Result};
use rusqlite::{Connection, OptionalExtension, params};

const COLUMNS: &str =
    "id, url, unseal_text('webhooks.secret', secret), events, created_at, cursor, attempts, retry_at, failing_since,
     last_error, delivered_at, retry_through";

/// The newest feed sequence, 0 for an empty feed.
pub(super) fn feed_head(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT coalesce(max(seq), 0) FROM feed", [], |r| r.get(0))?)
}

/// Inserts a registration and returns it as stored.
pub(super) fn add(conn: &Connection, hook: &NewWebhook, now: i64) -> Result<Webhook> {
    let events = serde_json::to_string(&hook.events)?;
    conn.execute(
        "INSERT INTO webhooks (url, secret, events, created_at, cursor)
         VALUES (?1, seal('webhooks.secret', ?2), ?3, ?4, ?5)",
        params![hook.url, hook.secret, events, now, hook.after],
    )?;
    let id = conn.last_insert_rowid();
    one(conn, id)?.ok_or_else(|| Error::Invalid(format!("webhook {id} vanished after it was registered")))
}

/// Every registration, by id.
pub(super) fn all(conn: &Connection) -> Result<Vec<Webhook>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM webhooks ORDER BY id"))?;
    let rows = stmt.query_map([], row)?;
    rows.map(|r| r.map_err(Error::from).and_then(decode)).collect()
}

/// One registration.
pub(super) fn one(conn: &Connection, id: i64) -> Result<Option<Webhook>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM webhooks WHERE id = ?1"))?;
    stmt.query_row([id], row).optional()?.map(decode).transpose()
}

/// Deletes a registration; false if there was none.
pub(super) fn remove(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn.execute("DELETE FROM webhooks WHERE id = ?1", [id])? > 0)
}

/// Moves the cursor forward (never back) and resets the retries, or counts a failure.
pub(super) fn record(conn: &Connection, id: i64, outcome: &Delivery) -> Result<()> {
    match outcome {
        Delivery::Delivered { through, at } => conn.execute(
            "UPDATE webhooks SET cursor = max(cursor, ?2), attempts = 0, retry_at = NULL, failing_since = NULL,
                 last_error = NULL, delivered_at = coalesce(?3, delivered_at), retry_through = NULL
             WHERE id = ?1",
            params![id, through, at],
        )?,
        Delivery::Failed { error, retry_at, at, through } => conn.execute(
            "UPDATE webhooks SET attempts = attempts + 1, retry_at = ?2, failing_since = coalesce(failing_since, ?3),
                 last_error = ?4, retry_through = ?5
             WHERE id = ?1",
            params![id, retry_at, at, error, through],
        )?,
    };
    Ok(())
}

type Row =
    (i64, String, String, String, i64, i64, i64, Option<i64>, Option<i64>, Option<String>, Option<i64>, Option<i64>);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Row::try_from(r)
}

fn decode(r: Row) -> Result<Webhook> {
    let (
        id,
        url,
        secret,
        events,
        created_at,
        cursor,
        attempts,
        retry_at,
        failing_since,
        last_error,
        delivered_at,
        retry_through,
    ) = r;
    Ok(Webhook {
        id,
        url,
        secret,
        events: serde_json::from_str(&events)?,
        created_at,
        cursor,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        retry_at,
        failing_since,
        last_error,
        delivered_at,
        retry_through,
    })
}

#[cfg(test)]
mod tests {
    use crate::{Delivery, NewWebhook, SqliteStore, Store};

    #[test]
    fn register_deliver_fail_remove() {
        let mut store = SqliteStore::open_in_memory().expect("store");
        assert_eq!(store.feed_head().expect("head"), 0);
        let new = NewWebhook {
            url: "http://127.0.0.1:9/hook".into(),
            secret: "s3cret-s3cret-s3cret".into(),
            events: vec!["entity.merged".into()],
            after: 7,
        };
        let hook = store.add_webhook(&new, 100).expect("add");
        assert_eq!((hook.cursor, hook.attempts, hook.events.clone()), (7, 0, vec!["entity.merged".to_string()]));
        assert_eq!(hook.secret, new.secret);
        // Two failures: attempts count, the first failure's time is kept.
        for at in [101, 102] {
            let failed = Delivery::Failed { error: "HTTP 500".into(), retry_at: at * 1000 + 500, at, through: 9 };
            store.record_delivery(hook.id, &failed).expect("fail");
        }
        let failing = store.webhook(hook.id).expect("read").expect("there");
        assert_eq!(
            (failing.attempts, failing.failing_since, failing.retry_at, failing.last_error.as_deref()),
            (2, Some(101), Some(102_500), Some("HTTP 500"))
        );
        assert_eq!(failing.retry_through, Some(9), "the failed batch is remembered for its retry");
        // Success resets the retries; the cursor never moves back.
        store.record_delivery(hook.id, &Delivery::Delivered { through: 12, at: Some(103) }).expect("ok");
        store.record_delivery(hook.id, &Delivery::Delivered { through: 9, at: None }).expect("ok");
        let ok = store.webhook(hook.id).expect("read").expect("there");
        assert_eq!(
            (ok.cursor, ok.attempts, ok.retry_at, ok.failing_since, ok.delivered_at, ok.retry_through),
            (12, 0, None, None, Some(103), None)
        );
        assert_eq!(store.webhooks().expect("all").len(), 1);
        assert!(store.remove_webhook(hook.id).expect("remove"));
        assert!(!store.remove_webhook(hook.id).expect("again"));
        // An outcome for a removed webhook changes nothing and is no error.
        store.record_delivery(hook.id, &Delivery::Delivered { through: 20, at: None }).expect("ignored");
        assert!(store.webhooks().expect("all").is_empty());
        // Ids are not reused.
        assert!(store.add_webhook(&new, 104).expect("add").id > hook.id);
    }
}
