//! A person's rights end to end, against the real server and the real SQLite file: everything held about them as
//! one document, erasure (over the API and from the command line) after which a byte scan of the database files
//! and the change feed finds none of their identifiers, the erasure event reaching a webhook, and the suppression
//! list keeping the erased records out when they are pushed or ingested again.

use crate::http::Server;
use crate::webhooks::{Receiver, eventually};
use crate::{fails, ok, scan_database};
use serde_json::{Value, json};
use std::path::Path;

/// The identifying values of a subject export: source ids, emails and phone numbers as stored (clean and raw).
fn identifiers(export: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for record in export["data"]["records"].as_array().expect("records") {
        found.push(record["key"]["source_id"].as_str().expect("id").to_string());
        let clean = &record["clean"];
        for list in ["emails", "phones"] {
            for v in clean[list].as_array().into_iter().flatten() {
                found.push(v.as_str().expect("text").to_string());
            }
        }
        for version in record["versions"].as_array().expect("versions") {
            for (column, value) in version["raw"].as_object().expect("raw") {
                let column = column.to_lowercase();
                let identifying = ["mail", "phone", "telefoon", "tel"].iter().any(|c| column.contains(c));
                if identifying && value.as_str().is_some_and(|v| v.len() >= 6) {
                    found.push(value.as_str().expect("text").to_string());
                }
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

/// Of `identifiers`, those no other person's records contain (a household may share a phone).
fn own_only(dir: &Path, identifiers: Vec<String>, keys: &[String]) -> Vec<String> {
    let db = rusqlite::Connection::open(dir.join("cdihub.db")).expect("open");
    identifiers
        .into_iter()
        .filter(|id| {
            let mut stmt = db
                .prepare(
                    "SELECT r.source || ':' || r.source_id FROM record_versions v JOIN records r ON r.rid = v.rid
                     WHERE instr(v.raw, ?1) > 0",
                )
                .expect("prepare");
            let holders: Vec<String> =
                stmt.query_map([id], |r| r.get(0)).expect("query").map(|r| r.expect("row")).collect();
            holders.iter().all(|h| keys.contains(h))
        })
        .collect()
}

fn record_keys(export: &Value) -> Vec<String> {
    export["data"]["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|r| {
            format!("{}:{}", r["key"]["source"].as_str().expect("source"), r["key"]["source_id"].as_str().expect("id"))
        })
        .collect()
}

/// The whole change feed as text, read over the API.
fn feed_text(server: &Server) -> String {
    let mut all = String::new();
    let mut after = 0;
    loop {
        let (status, page) = server.get(&format!("/feed?after={after}&limit=10000"));
        assert_eq!(status, 200, "{page}");
        let events = page["events"].as_array().expect("events").clone();
        let Some(last) = events.last() else { return all };
        after = last["seq"].as_i64().expect("seq");
        all.push_str(&Value::Array(events).to_string());
    }
}

#[test]
fn a_person_is_exported_then_erased_everywhere_and_stays_erased() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["generate", "--out", ".", "--records", "500", "--seed", "11"]);
    ok(d, &["-q", "ingest"]);
    ok(d, &["-q", "resolve"]);
    let server = Server::start(d);
    let shown: Value = serde_json::from_str(&ok(d, &["show", "crm:K000002", "--json"])).expect("show");
    let entity = format!("E{}", shown["id"]);

    // Real-time activity first: a changed record (a new version, a new golden record), an audited lookup and a
    // search by e-mail.
    let (status, export) = server.get(&format!("/subjects/{entity}/export"));
    assert_eq!(status, 200, "{export}");
    let crm = export["data"]["records"]
        .as_array()
        .expect("records")
        .iter()
        .find(|r| r["key"]["source_id"] == "K000002")
        .expect("the crm record")
        .clone();
    let mut changed = crm["versions"][0]["raw"].clone();
    changed["email"] = json!("erase.me.please@example.org");
    changed.as_object_mut().expect("raw").remove("klantnr");
    let (status, put) = server.send("PUT", "/sources/crm/records/K000002", &changed);
    assert_eq!(status, 200, "{put}");
    assert_eq!(server.get("/lookup?source=crm&id=K000002").0, 200);
    assert_eq!(server.get("/search?q=erase.me.please%40example.org").0, 200);
    let receiver = Receiver::start(0);
    let (status, hook) = server.send("POST", "/webhooks", &json!({"url": receiver.url, "events": ["subject.erased"]}));
    assert_eq!(status, 201, "{hook}");

    // Right of access: one document with everything.
    let (status, export) = server.get(&format!("/subjects/{entity}/export"));
    assert_eq!(status, 200, "{export}");
    assert_eq!(export["format"], "cdihub.subject-export/1");
    assert_eq!(export["subject"], entity);
    let data = &export["data"];
    let crm = data["records"].as_array().expect("records").iter().find(|r| r["key"]["source_id"] == "K000002");
    assert_eq!(crm.expect("crm record")["versions"].as_array().map(Vec::len), Some(2), "both versions");
    assert!(data["golden"]["values"].as_array().is_some_and(|v| !v.is_empty()));
    assert!(data["history"].as_array().is_some_and(|h| h.iter().any(|e| e["kind"] == "entity.created")));
    let audited: Vec<&str> =
        data["audit"].as_array().expect("audit").iter().filter_map(|a| a["target"].as_str()).collect();
    assert!(audited.iter().any(|t| t.starts_with("GET /lookup?source=crm&id=K000002")), "{audited:?}");
    assert!(audited.iter().any(|t| t.starts_with("GET /search?q=erase.me.please")), "{audited:?}");
    assert!(audited.iter().any(|t| t.starts_with("PUT /sources/crm/records/K000002")), "{audited:?}");

    let keys = record_keys(&export);
    let mut needles = identifiers(&export);
    assert!(needles.contains(&"erase.me.please@example.org".to_string()), "{needles:?}");
    needles = own_only(d, needles, &keys);
    assert!(needles.len() >= 3, "enough identifiers to look for: {needles:?}");
    assert!(!scan_database(d, &needles).is_empty(), "the scan finds them before the erasure");

    // Erasure over the API.
    let (status, bad) = server.send("POST", &format!("/subjects/{entity}/erase"), &json!({}));
    assert_eq!((status, bad["code"].as_str()), (400, Some("invalid")), "{bad}");
    let (status, receipt) = server.send(
        "POST",
        &format!("/subjects/{entity}/erase"),
        &json!({"requested_by": "DSR-2026-0042", "reason": "art. 17 request"}),
    );
    assert_eq!(status, 200, "{receipt}");
    assert_eq!(receipt["records"].as_i64(), Some(keys.len() as i64), "{receipt}");
    assert_eq!(receipt["suppressed"], receipt["records"]);
    assert_eq!(receipt["digest"].as_str().map(str::len), Some(64));
    assert_eq!(receipt["log_cleared"], true, "{receipt}");

    let found = scan_database(d, &needles);
    assert!(found.is_empty(), "after the erasure the database files still hold: {found:?}");
    let feed = feed_text(&server);
    for needle in needles.iter().chain(&keys) {
        assert!(!feed.contains(needle.as_str()), "the feed still names {needle}");
    }
    assert!(feed.contains("subject.erased"));
    assert_eq!(server.get(&format!("/entities/{entity}")).0, 404);
    assert_eq!(server.get(&format!("/subjects/{entity}/export")).0, 404);
    assert_eq!(server.get("/lookup?source=crm&id=K000002").0, 404);
    let (_, hits) = server.get("/search?q=erase.me.please%40example.org");
    assert_eq!(hits["hits"].as_array().map(Vec::len), Some(0), "{hits}");
    eventually("the erasure event at the webhook", || {
        receiver
            .accepted_events()
            .iter()
            .any(|e| e["kind"] == "subject.erased" && e["payload"]["receipt"] == receipt["receipt"])
    });
    let (status, receipts) = server.get("/erasures");
    assert_eq!(status, 200);
    assert_eq!(receipts[0]["requested_by"], "DSR-2026-0042", "{receipts}");

    // Suppressed: ingested again from the files, skipped; pushed again, nothing is stored (the audit trail
    // records the attempt, naming the record by its key, as it records every change request).
    let ingest = ok(d, &["-q", "ingest"]);
    assert!(ingest.contains("skipped") && ingest.contains("erased records"), "{ingest}");
    let found = scan_database(d, &needles);
    assert!(found.is_empty(), "after re-ingesting: {found:?}");
    let (status, again) = server.send("PUT", "/sources/crm/records/K000002", &changed);
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["write"], "suppressed", "{again}");
    assert_eq!(server.get("/lookup?source=crm&id=K000002").0, 404);
    let values: Vec<String> =
        needles.iter().filter(|n| !keys.iter().any(|k| k.ends_with(n.as_str()))).cloned().collect();
    let found = scan_database(d, &values);
    assert!(found.is_empty(), "after pushing it again: {found:?}");
    drop(server);
    assert!(ok(d, &["audit", "verify"]).contains("intact"), "redacted entries keep the chain whole");
    let trail = ok(d, &["audit", "list", "--limit", "100000"]);
    let after_erasure = trail.split("gdpr").next().unwrap_or_default();
    assert!(trail.contains("[erased]") && !after_erasure.contains("GET /lookup?source=crm&id=K000002"), "{trail}");

    // From the command line: export to a file, then erase by a source key.
    let shown: Value = serde_json::from_str(&ok(d, &["show", "crm:K000003", "--json"])).expect("show");
    let second = format!("E{}", shown["id"]);
    ok(d, &["gdpr", "export", "crm:K000003", "-o", "subject.json"]);
    let export: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("subject.json")).expect("file")).expect("json");
    assert_eq!(export["subject"], second);
    let keys = record_keys(&export);
    let needles = own_only(d, identifiers(&export), &keys);
    assert!(!needles.is_empty());
    std::fs::remove_file(d.join("subject.json")).expect("remove");
    let error = fails(d, &["gdpr", "erase", &second, "--requested-by", " "]);
    assert!(error.contains("requested-by"), "{error}");
    assert!(ok(d, &["audit", "list", "--limit", "100000"]).contains("show crm:K000003 --json"), "a read is audited");
    let erased = ok(d, &["gdpr", "erase", "crm:K000003", "--requested-by", "DSR-2026-0043"]);
    let trail = ok(d, &["audit", "list", "--limit", "100000"]);
    assert!(!trail.contains("crm:K000003"), "the read's entry names the person no more: {trail}");
    assert!(erased.contains("receipt 2"), "{erased}");
    let found = scan_database(d, &needles);
    assert!(found.is_empty(), "after the command-line erasure: {found:?}");
    assert!(fails(d, &["gdpr", "export", &second]).contains("no live entity"));
    let receipts = ok(d, &["gdpr", "erasures"]);
    assert!(receipts.contains("DSR-2026-0042") && receipts.contains("DSR-2026-0043"), "{receipts}");
}

/// Values of at least 8 characters that occur once in the database files (not shared with a household).
fn own_values(dir: &Path, values: impl Iterator<Item = String>) -> Vec<String> {
    let mut text = String::new();
    for name in ["cdihub.db", "cdihub.db-wal"] {
        text.push_str(&String::from_utf8_lossy(&std::fs::read(dir.join(name)).unwrap_or_default()));
    }
    values.filter(|v| v.len() >= 8 && text.matches(v.as_str()).count() == 1).collect()
}

#[test]
fn records_in_no_entity_are_exported_and_erased_by_their_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["generate", "--out", ".", "--records", "2000", "--seed", "11"]);
    ok(d, &["-q", "ingest"]);
    ok(d, &["-q", "resolve"]);
    let listed = ok(d, &["quarantine"]);
    let key_of = |what: &str| {
        let line = listed.lines().find(|l| l.contains("[record]") && l.contains(what)).expect(what);
        line.split_whitespace().next().expect("key").to_string()
    };
    // A row too short to read: nothing stored but its quarantine entry, which holds the row as read.
    let row = key_of("fields but the header");
    // A readable record without enough to match on: stored with its versions, never in an entity.
    let bare = key_of("no usable identifying data");
    for (n, key) in [row, bare].iter().enumerate() {
        assert!(fails(d, &["show", key]).contains("not in any entity"));
        ok(d, &["gdpr", "export", key, "-o", "subject.json"]);
        let export: Value =
            serde_json::from_str(&std::fs::read_to_string(d.join("subject.json")).expect("file")).expect("json");
        std::fs::remove_file(d.join("subject.json")).expect("remove");
        assert_eq!((export["subject"].as_str(), &export["data"]["entity"]), (Some(key.as_str()), &Value::Null));
        let data = &export["data"];
        assert!(data["quarantine"].as_array().is_some_and(|q| !q.is_empty()), "{export}");
        let entries = data["quarantine"].as_array().into_iter().flatten();
        let as_read = entries.filter_map(|e| e["value"].as_str()).flat_map(|row| row.split(';').skip(1));
        let versions = data["records"].as_array().into_iter().flatten().flat_map(|r| r["versions"].as_array());
        let raw = versions.flatten().flat_map(|v| v["raw"].as_object()).flatten().filter_map(|(_, v)| v.as_str());
        let own = own_values(d, as_read.chain(raw).map(str::to_string));
        assert!(!own.is_empty(), "values to look for: {export}");
        assert!(!scan_database(d, &own).is_empty(), "held before the erasure");

        let erased = ok(d, &["gdpr", "erase", key, "--requested-by", "DSR-2026-0044"]);
        assert!(erased.contains("in no entity") && erased.contains(&format!("receipt {}", n + 1)), "{erased}");
        let found = scan_database(d, &own);
        assert!(found.is_empty(), "after erasing {key} the database files still hold: {found:?}");
        assert!(!ok(d, &["quarantine"]).contains(key.as_str()));
        assert!(!ok(d, &["audit", "list", "--limit", "100000"]).contains(key.as_str()), "the trail names it no more");
        assert!(fails(d, &["gdpr", "export", key]).contains("nothing is held"));

        // Suppressed: read again from the file, the record leaves nothing behind.
        ok(d, &["-q", "ingest"]);
        assert!(!ok(d, &["quarantine"]).contains(key.as_str()));
        let found = scan_database(d, &own);
        assert!(found.is_empty(), "after re-ingesting: {found:?}");
    }
    let receipts = ok(d, &["gdpr", "erasures"]);
    assert_eq!(receipts.matches("DSR-2026-0044").count(), 2, "{receipts}");

    // Over the API: another unreadable row, by its key.
    let line = listed.lines().filter(|l| l.contains("fields but the header")).nth(1).expect("a second short row");
    let key = line.split_whitespace().next().expect("key").to_string();
    assert!(fails(d, &["gdpr", "export", "no-such-thing"]).contains("neither an entity id (E12) nor a source record"));
    let server = Server::start(d);
    let (status, bad) = server.get("/subjects/no-such-thing/export");
    assert_eq!((status, bad["field"].as_str()), (400, Some("id")), "{bad}");
    let path = format!("/subjects/{key}");
    let (status, export) = server.get(&format!("{path}/export"));
    assert_eq!((status, export["subject"].as_str()), (200, Some(key.as_str())), "{export}");
    let (status, receipt) = server.send("POST", &format!("{path}/erase"), &json!({"requested_by": "DSR-2026-0045"}));
    assert_eq!(status, 200, "{receipt}");
    assert!(receipt.get("entity").is_none() && receipt["suppressed"] == 1, "{receipt}");
    assert_eq!(server.get(&format!("{path}/export")).0, 404);
    drop(server);
    let trail = ok(d, &["audit", "list", "--limit", "100000"]);
    let (_, id) = key.split_once(':').expect("source:id");
    assert!(!trail.contains(id), "the trail names the erased record no more: {trail}");
    assert!(trail.contains(&format!("POST /subjects/[receipt {}]/erase", receipt["receipt"])), "{trail}");
    assert!(!ok(d, &["quarantine"]).contains(key.as_str()));
}
