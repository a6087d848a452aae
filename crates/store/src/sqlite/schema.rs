//! The SQLite schema, as numbered migrations applied in order; `PRAGMA user_version` records how far a file is.

/// The audit trail's update guard (as migration 10 creates it): only an erasure's redaction of a target passes.
/// Re-encryption drops it for its own transaction and puts it back from here.
pub const AUDIT_UPDATE_GUARD: &str = "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
WHEN NOT (NEW.seq IS OLD.seq AND NEW.at IS OLD.at AND NEW.actor IS OLD.actor AND NEW.action IS OLD.action
    AND NEW.origin IS OLD.origin AND NEW.status IS OLD.status AND NEW.hash IS OLD.hash AND NEW.form IS OLD.form
    AND OLD.target_digest IS NULL AND NEW.target_digest IS NOT NULL AND NEW.target = '[erased]')
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: an erasure may only redact a target'); END;";

/// Migration scripts; index + 1 is the schema version each one brings the file to.
pub const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE sources (
    name TEXT PRIMARY KEY,
    format TEXT NOT NULL,
    path TEXT NOT NULL,
    trust INTEGER NOT NULL DEFAULT 0,
    registered_at INTEGER NOT NULL DEFAULT (unixepoch())
);
-- Current state of every source record; `status` is 'active' (matched) or 'quarantined' (kept, not matched).
CREATE TABLE records (
    rid INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash INTEGER NOT NULL,
    ingested_at INTEGER NOT NULL,
    updated_at INTEGER,
    status TEXT NOT NULL CHECK (status IN ('active', 'quarantined')),
    clean TEXT,
    UNIQUE (source, source_id)
);
-- Every version's raw content, as read from the source.
CREATE TABLE record_versions (
    rid INTEGER NOT NULL REFERENCES records (rid),
    version INTEGER NOT NULL,
    ingested_at INTEGER NOT NULL,
    raw TEXT NOT NULL,
    PRIMARY KEY (rid, version)
) WITHOUT ROWID;
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    source_id TEXT,
    line INTEGER NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('record', 'value')),
    field TEXT,
    value TEXT,
    reason TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX quarantine_source ON quarantine (source);
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    json TEXT NOT NULL
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    finished_at INTEGER NOT NULL,
    model_id INTEGER REFERENCES models (id),
    report TEXT NOT NULL
);
-- Entity ids are never reused; a retired id redirects to the entity that absorbed its records.
CREATE TABLE entities (
    entity_id INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    retired_at INTEGER,
    merged_into INTEGER
);
CREATE TABLE memberships (
    rid INTEGER PRIMARY KEY REFERENCES records (rid),
    entity_id INTEGER NOT NULL REFERENCES entities (entity_id),
    since INTEGER NOT NULL
);
CREATE INDEX memberships_entity ON memberships (entity_id);
-- The golden record per live entity: values with provenance as JSON, plus a display name and search text.
CREATE TABLE golden (
    entity_id INTEGER PRIMARY KEY REFERENCES entities (entity_id),
    name TEXT NOT NULL,
    search TEXT NOT NULL,
    json TEXT NOT NULL
);
CREATE TABLE pairs (
    a INTEGER NOT NULL REFERENCES records (rid),
    b INTEGER NOT NULL REFERENCES records (rid),
    probability REAL NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('match', 'review', 'vetoed')),
    rule TEXT,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE INDEX pairs_decision ON pairs (decision, probability);
"#,
    // Only the review queue is listed by decision and probability: a partial index keeps bulk writes of
    // matched pairs from updating it.
    r#"
DROP INDEX pairs_decision;
CREATE INDEX pairs_review ON pairs (probability) WHERE decision = 'review';
"#,
    // The change feed: an append-only log of what happened to entities, in order. AUTOINCREMENT: a sequence
    // number is never reused, so a consumer resumes after the last one it saw.
    r#"
CREATE TABLE feed (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    kind TEXT NOT NULL,
    entity_id INTEGER,
    payload TEXT NOT NULL
);
CREATE INDEX feed_entity ON feed (entity_id) WHERE entity_id IS NOT NULL;
"#,
    // Real time: a record can be deleted at its source (status 'deleted': kept with its versions, not matched),
    // so `records` is rebuilt with the wider CHECK (the migration runs with foreign keys off). The blocking index
    // holds one row per blocking-rule value of every active record (with the record's birth-year and city
    // sub-block values), valid while `meta.block_index` holds the fingerprint of the rules it was built for.
    // Pins are stewards' decisions about a pair of records (a < b).
    r#"
CREATE TABLE records_new (
    rid INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash INTEGER NOT NULL,
    ingested_at INTEGER NOT NULL,
    updated_at INTEGER,
    status TEXT NOT NULL CHECK (status IN ('active', 'quarantined', 'deleted')),
    clean TEXT,
    UNIQUE (source, source_id)
);
INSERT INTO records_new SELECT rid, source, source_id, version, content_hash, ingested_at, updated_at, status, clean
    FROM records;
DROP TABLE records;
ALTER TABLE records_new RENAME TO records;
CREATE TABLE meta (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE block_index (
    key INTEGER NOT NULL,
    rid INTEGER NOT NULL,
    year INTEGER NOT NULL,
    city INTEGER NOT NULL,
    PRIMARY KEY (key, rid)
) WITHOUT ROWID;
CREATE TABLE pins (
    a INTEGER NOT NULL REFERENCES records (rid),
    b INTEGER NOT NULL REFERENCES records (rid),
    kind TEXT NOT NULL CHECK (kind IN ('together', 'apart')),
    actor TEXT NOT NULL,
    at INTEGER NOT NULL,
    reason TEXT,
    PRIMARY KEY (a, b),
    CHECK (a < b)
) WITHOUT ROWID;
CREATE INDEX pins_b ON pins (b);
CREATE INDEX pairs_b ON pairs (b);
"#,
    // Real time replaces one record's quarantine entries: find them by record, not by scanning the source's.
    r#"
DROP INDEX quarantine_source;
CREATE INDEX quarantine_record ON quarantine (source, source_id);
"#,
    // Webhooks: endpoints that receive the change feed, each with its own cursor (the last sequence delivered or
    // passed over) and the state of its retries, so deliveries resume where they stopped after a restart.
    r#"
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    events TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    cursor INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    retry_at INTEGER,
    failing_since INTEGER,
    last_error TEXT,
    delivered_at INTEGER
);
"#,
    // The blocking index lives in the real-time hub's memory (built from the records when it opens): the table,
    // whose rows every change rewrote at random, goes; `meta.block_index` now names the hub whose index is current.
    r#"
DROP TABLE block_index;
"#,
    // API keys: the Argon2 hash of each key's secret (the secret is shown once and never stored), its role, and
    // when it expires or was revoked. AUTOINCREMENT: a revoked key's id is never given to another key.
    r#"
CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    hash TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);
"#,
    // The audit trail: who changed what or read personal data unmasked, when, from where. Each row's hash covers
    // the row and the hash of the row before (tampering with the file is found by `cdihub audit verify`); the
    // triggers refuse updates and deletes made through SQLite.
    r#"
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    origin TEXT NOT NULL,
    status INTEGER NOT NULL,
    hash TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
"#,
    // Erasure (the right to be forgotten): a receipt per erasure, the suppression list that keeps erased source
    // records from coming back, and audit entries whose target can be redacted. New audit entries (form 2) hash
    // their target's digest, which a redacted entry keeps, so the chain still verifies; the update trigger now
    // allows exactly that redaction and nothing else.
    r#"
ALTER TABLE audit ADD COLUMN form INTEGER NOT NULL DEFAULT 1;
ALTER TABLE audit ADD COLUMN target_digest TEXT;
DROP TRIGGER audit_no_update;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
WHEN NOT (NEW.seq IS OLD.seq AND NEW.at IS OLD.at AND NEW.actor IS OLD.actor AND NEW.action IS OLD.action
    AND NEW.origin IS OLD.origin AND NEW.status IS OLD.status AND NEW.hash IS OLD.hash AND NEW.form IS OLD.form
    AND OLD.target_digest IS NULL AND NEW.target_digest IS NOT NULL AND NEW.target = '[erased]')
BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only: an erasure may only redact a target'); END;
CREATE TABLE erasures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id INTEGER NOT NULL,
    entities TEXT NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    reason TEXT,
    records INTEGER NOT NULL,
    digest TEXT NOT NULL,
    suppressed INTEGER NOT NULL
);
CREATE TABLE suppressed (
    key TEXT PRIMARY KEY,
    erasure INTEGER NOT NULL REFERENCES erasures (id),
    at INTEGER NOT NULL
) WITHOUT ROWID;
"#,
    // Retention: when each record was last seen in its source (ingested or pushed, changed or not), so records a
    // source stopped sending can be purged after its `retention_days`.
    r#"
ALTER TABLE records ADD COLUMN seen_at INTEGER;
UPDATE records SET seen_at = ingested_at;
"#,
    // Webhooks: the last feed sequence of a failed batch, so its retry sends the same batch (the same delivery id)
    // rather than one grown with the events that came since.
    r#"
ALTER TABLE webhooks ADD COLUMN retry_through INTEGER;
"#,
    // Erasure receipts of a source record in no entity (quarantined, or not resolved yet) name no entity, so
    // `entity_id` may be NULL. The table is rebuilt (SQLite cannot drop a NOT NULL); ids and the AUTOINCREMENT
    // sequence carry over.
    r#"
CREATE TABLE erasures_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id INTEGER,
    entities TEXT NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    requested_by TEXT NOT NULL,
    reason TEXT,
    records INTEGER NOT NULL,
    digest TEXT NOT NULL,
    suppressed INTEGER NOT NULL
);
INSERT INTO erasures_new SELECT id, entity_id, entities, at, actor, requested_by, reason, records, digest, suppressed
    FROM erasures;
DROP TABLE erasures;
ALTER TABLE erasures_new RENAME TO erasures;
"#,
    // Raw versions are stored compact, as the id of their column names and their values: the names, once per
    // layout, are kept here (`raw_form`). Versions stored before keep their JSON object.
    r#"
CREATE TABLE raw_layouts (
    id INTEGER PRIMARY KEY,
    names TEXT NOT NULL
);
"#,
    // Every row written to `records` and `pairs` evaluated its CHECK `x IN ('a', 'b', 'c')` by building a temporary
    // B-tree of the three names (SQLite does so for an IN list of three or more constants, and a CHECK has no
    // once-per-statement guard): about a tenth of a bulk ingest's writing. The same checks written as comparisons
    // cost nothing; the tables are rebuilt with them (SQLite cannot alter a CHECK), rows and ids unchanged.
    r#"
CREATE TABLE records_new (
    rid INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    source_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    content_hash INTEGER NOT NULL,
    ingested_at INTEGER NOT NULL,
    updated_at INTEGER,
    status TEXT NOT NULL CHECK (status = 'active' OR status = 'quarantined' OR status = 'deleted'),
    clean TEXT,
    seen_at INTEGER,
    UNIQUE (source, source_id)
);
INSERT INTO records_new SELECT rid, source, source_id, version, content_hash, ingested_at, updated_at, status, clean,
    seen_at FROM records;
DROP TABLE records;
ALTER TABLE records_new RENAME TO records;
CREATE TABLE pairs_new (
    a INTEGER NOT NULL REFERENCES records (rid),
    b INTEGER NOT NULL REFERENCES records (rid),
    probability REAL NOT NULL,
    decision TEXT NOT NULL CHECK (decision = 'match' OR decision = 'review' OR decision = 'vetoed'),
    rule TEXT,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
INSERT INTO pairs_new SELECT a, b, probability, decision, rule FROM pairs;
DROP TABLE pairs;
ALTER TABLE pairs_new RENAME TO pairs;
CREATE INDEX pairs_review ON pairs (probability) WHERE decision = 'review';
CREATE INDEX pairs_b ON pairs (b);
"#,
];
