//! Retention end to end: records a source stopped sending are purged after its `retention_days` — by
//! `cdihub retention` and on the running server's schedule — with their entities' golden records recomputed; a
//! record sent again (even unchanged) is kept.

use crate::http::Server;
use crate::ok;
use crate::webhooks::eventually;
use serde_json::Value;
use std::path::Path;

const DAY: i64 = 86_400;

/// Adds `retention_days = 30` to the sources named, and a one-second schedule for the server.
fn with_retention(dir: &Path, sources: &[&str]) {
    let config = std::fs::read_to_string(dir.join("cdihub.toml")).expect("config");
    let mut out = String::new();
    for line in config.lines() {
        out.push_str(line);
        out.push('\n');
        if sources.iter().any(|s| line.trim() == format!("name = \"{s}\"")) {
            out.push_str("retention_days = 30\n");
        }
    }
    if !out.contains("[server]") {
        out.push_str("\n[server]\nretention_every_seconds = 1\n");
    }
    std::fs::write(dir.join("cdihub.toml"), out).expect("write");
}

/// Makes the records of `source` look last seen `days` ago.
fn age(dir: &Path, source: &str, days: i64) {
    let db = rusqlite::Connection::open(dir.join("cdihub.db")).expect("open");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64;
    db.execute("UPDATE records SET seen_at = ?2 WHERE source = ?1", rusqlite::params![source, now - days * DAY])
        .expect("age");
}

fn count(dir: &Path, sql: &str) -> i64 {
    let db = rusqlite::Connection::open(dir.join("cdihub.db")).expect("open");
    db.query_row(sql, [], |r| r.get(0)).expect("count")
}

#[test]
fn records_not_seen_past_retention_are_purged_and_golden_records_recomputed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["generate", "--out", ".", "--records", "300", "--seed", "8"]);
    with_retention(d, &["crm", "support"]);
    ok(d, &["-q", "ingest"]);
    ok(d, &["-q", "resolve"]);
    let support = count(d, "SELECT COUNT(*) FROM records WHERE source = 'support'");
    assert!(support > 10, "{support}");
    // A person with a support record among others.
    let member: String = rusqlite::Connection::open(d.join("cdihub.db"))
        .expect("open")
        .query_row(
            "SELECT r.source_id FROM records r JOIN memberships m ON m.rid = r.rid WHERE r.source = 'support'
             AND (SELECT COUNT(*) FROM memberships m2 WHERE m2.entity_id = m.entity_id) > 1 LIMIT 1",
            [],
            |r| r.get(0),
        )
        .expect("a support record in a larger entity");
    let before: Value = serde_json::from_str(&ok(d, &["show", &format!("support:{member}"), "--json"])).expect("json");
    let entity = before["id"].as_u64().expect("id");

    // Not sent for 40 days; crm was too, but is ingested again (unchanged), so it counts as seen.
    let crm = count(d, "SELECT COUNT(*) FROM records WHERE source = 'crm'");
    age(d, "support", 40);
    age(d, "crm", 40);
    ok(d, &["-q", "ingest", "crm"]);
    let dry = ok(d, &["retention", "--dry-run"]);
    assert!(dry.contains(&format!("support: {support} records")) && dry.contains("crm: 0 records"), "{dry}");
    let run = ok(d, &["retention"]);
    assert!(run.contains(&format!("support: purged {support} records")) && run.contains("crm: purged 0"), "{run}");
    assert_eq!(count(d, "SELECT COUNT(*) FROM records WHERE source = 'support'"), 0);
    assert_eq!(count(d, "SELECT COUNT(*) FROM records WHERE source = 'crm'"), crm, "crm was seen again");
    assert_eq!(
        count(d, "SELECT COUNT(*) FROM record_versions WHERE rid NOT IN (SELECT rid FROM records)"),
        0,
        "no version outlives its record"
    );
    assert_eq!(count(d, "SELECT COUNT(*) FROM quarantine WHERE source = 'support'"), 0);

    // The entity lost the record; its golden record names no support record any more.
    let after: Value = serde_json::from_str(&ok(d, &["show", &format!("E{entity}"), "--json"])).expect("json");
    let members = |v: &Value| v["members"].as_array().map(Vec::len).unwrap_or_default();
    assert_eq!(members(&after), members(&before) - 1, "{after}");
    let from_support =
        after["golden"]["values"].as_array().expect("values").iter().any(|v| v["from"]["source"] == "support");
    assert!(!from_support, "{after}");
    let history: Vec<Value> = {
        let server = Server::start(d);
        let (_, h) = server.get(&format!("/entities/E{entity}/history"));
        h["events"].as_array().cloned().unwrap_or_default()
    };
    assert!(history.iter().any(|e| e["payload"]["by"] == "retention"), "{history:?}");
    assert!(ok(d, &["audit", "list"]).contains("retention: "), "the purge is audited");

    // The server purges on its schedule: billing's records age past 30 days while it runs.
    with_retention(d, &["billing"]);
    let billing = count(d, "SELECT COUNT(*) FROM records WHERE source = 'billing'");
    assert!(billing > 0);
    let server = Server::start(d);
    age(d, "billing", 31);
    eventually("the scheduled purge", || count(d, "SELECT COUNT(*) FROM records WHERE source = 'billing'") == 0);
    drop(server);
    assert!(ok(d, &["audit", "list", "--limit", "100000"]).contains("system:retention"));
}
