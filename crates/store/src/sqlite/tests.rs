//! Store behaviour on a real (in-memory and on-disk) SQLite database.

use super::*;
use model::{GoldenValue, PersonName};

fn incoming(source: &str, id: &str, family: &str) -> IncomingRecord {
    let clean = CleanRecord {
        name: PersonName { family: Some(family.into()), ..PersonName::default() },
        ..CleanRecord::default()
    };
    let raw: model::RawFields = [("name".to_string(), family.to_string())].into_iter().collect();
    IncomingRecord::encode(RecordKey::new(source, id), &raw, Some(&clean)).expect("encode")
}

/// A dropped phone value of record `crm:<id>`, as the cleaner quarantines one.
fn dropped_phone(id: &str, line: u64, value: &str, reason: &str, at: i64) -> QuarantineEntry {
    QuarantineEntry {
        source: "crm".into(),
        source_id: Some(id.into()),
        line,
        severity: "value".into(),
        field: Some("phone".into()),
        value: Some(value.into()),
        reason: reason.into(),
        at,
    }
}

fn golden(id: EntityId, family: &str) -> Golden {
    Golden {
        entity: id,
        values: vec![GoldenValue {
            attribute: "family_name".into(),
            value: family.into(),
            from: RecordKey::new("crm", "1"),
            rule: "trust".into(),
        }],
    }
}

/// Stable ids for clusters, as the batch pipeline chooses them.
fn stable_ids(store: &SqliteStore, clusters: &[Vec<i64>]) -> Vec<EntityId> {
    let previous = store.previous_entities().expect("memberships");
    let before: Vec<Vec<Option<u64>>> =
        clusters.iter().map(|m| m.iter().map(|rid| previous.get(rid).map(|e| *e as u64)).collect()).collect();
    let next = store.next_entity_id().expect("next id");
    master::identity::assign_ids(&before).ids(next).into_iter().map(EntityId).collect()
}

fn resolve(store: &mut SqliteStore, clusters: Vec<Vec<i64>>, now: i64) -> Vec<EntityId> {
    let ids = stable_ids(store, &clusters);
    let mut goldens = ids.iter().map(|id| Ok(GoldenRow::new(&golden(*id, "Vries").view())));
    // The caller's keys for the first record of each cluster; the store looks up the others.
    let mut record_keys: Vec<(i64, String)> = clusters.iter().map(|m| (m[0], format!("crm:{}", m[0]))).collect();
    record_keys.sort_unstable();
    let resolved = Resolved {
        model_json: "{}".into(),
        report_json: "{}".into(),
        clusters,
        ids: ids.clone(),
        pairs: vec![],
        record_keys,
    };
    store.save_resolution(&resolved, &mut goldens, now).expect("save");
    ids
}

#[test]
fn reingest_is_idempotent_and_versions_changes() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    let first = s.upsert_records(&[incoming("crm", "1", "Vries"), incoming("crm", "2", "Bos")], 10).expect("upsert");
    assert_eq!(first, UpsertCounts { inserted: 2, updated: 0, unchanged: 0 });
    let again = s.upsert_records(&[incoming("crm", "1", "Vries"), incoming("crm", "2", "Bosch")], 20).expect("upsert");
    assert_eq!(again, UpsertCounts { inserted: 0, updated: 1, unchanged: 1 });
    let records = s.active_records().expect("records");
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].version, 2);
    assert_eq!(records[1].clean.name.family.as_deref(), Some("Bosch"));
    let versions: i64 = s.conn.query_row("SELECT COUNT(*) FROM record_versions", [], |r| r.get(0)).expect("count");
    assert_eq!(versions, 3);
    // Written without checking each reference, every version still has its record; the checks are back on.
    let dangling: Option<String> =
        s.conn.query_row("PRAGMA foreign_key_check", [], |r| r.get(0)).optional().expect("check");
    assert_eq!(dangling, None);
    let on: bool = s.conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).expect("pragma");
    assert!(on);
}

#[test]
fn a_record_sink_commits_every_so_many_records_and_rolls_back_the_rest_when_dropped() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    let stored =
        |s: &SqliteStore| -> i64 { s.conn.query_row("SELECT COUNT(*) FROM records", [], |r| r.get(0)).expect("count") };
    {
        let mut sink = s.record_sink(2, 10).expect("sink");
        let entry = dropped_phone("9", 3, "12", "too short", 10);
        let counts = sink.write(&[incoming("crm", "1", "Vries")], &[entry]).expect("write");
        assert_eq!(counts, UpsertCounts { inserted: 1, updated: 0, unchanged: 0 });
        sink.write(&[incoming("crm", "2", "Bos")], &[]).expect("write");
        // Two records: committed. The third is in a transaction of its own, not committed when the sink is dropped.
        sink.write(&[incoming("crm", "3", "Smit")], &[]).expect("write");
    }
    assert_eq!(stored(&s), 2);
    assert_eq!(s.quarantined(Some("crm"), 10).expect("quarantine").len(), 1, "the entry went with its batch");
    let on: bool = s.conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).expect("pragma");
    assert!(on, "foreign keys on again");
    let mut sink = s.record_sink(100, 20).expect("sink");
    sink.write(&[incoming("crm", "3", "Smit"), incoming("crm", "1", "Vries")], &[]).expect("write");
    sink.finish().expect("finish");
    assert_eq!(stored(&s), 3, "finish commits what is left");
}

#[test]
fn clean_forms_stored_as_json_by_earlier_versions_are_read() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    s.upsert_records(&[incoming("crm", "1", "Vries"), incoming("crm", "2", "Bos")], 10).expect("upsert");
    let kind: String =
        s.conn.query_row("SELECT typeof(clean) FROM records WHERE rid = 1", [], |r| r.get(0)).expect("type");
    assert_eq!(kind, "blob", "new records store the binary form");
    s.conn.execute(r#"UPDATE records SET clean = '{"name":{"family":"Jansen"}}' WHERE rid = 2"#, []).expect("legacy");
    let records = s.active_records().expect("records");
    assert_eq!(records[0].clean.name.family.as_deref(), Some("Vries"));
    assert_eq!(records[1].clean.name.family.as_deref(), Some("Jansen"));
    let one = s.record(&RecordKey::new("crm", "2")).expect("read").expect("found");
    assert_eq!(one.clean.name.family.as_deref(), Some("Jansen"));
    // Ingested again unchanged, the legacy form is rewritten in the binary form.
    s.upsert_records(&[incoming("crm", "2", "Bos")], 20).expect("upsert");
    let kind: String =
        s.conn.query_row("SELECT typeof(clean) FROM records WHERE rid = 2", [], |r| r.get(0)).expect("type");
    assert_eq!(kind, "blob");
}

#[test]
fn quarantined_records_are_kept_but_not_matched() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    let mut bad = incoming("crm", "3", "x");
    bad.clean = None;
    s.upsert_records(&[incoming("crm", "1", "Vries"), bad], 1).expect("upsert");
    s.quarantine(&[QuarantineEntry {
        source: "crm".into(),
        source_id: Some("3".into()),
        line: 4,
        severity: "record".into(),
        field: None,
        value: None,
        reason: "no usable identifying data".into(),
        at: 1,
    }])
    .expect("quarantine");
    assert_eq!(s.active_records().expect("records").len(), 1);
    let q = s.quarantined(Some("crm"), 10).expect("list");
    assert_eq!((q.len(), q[0].line), (1, 4));
    let stats = s.stats().expect("stats");
    assert_eq!(stats.sources, vec![("crm".to_string(), 1, 1)]);
    s.clear_quarantine("crm").expect("clear");
    assert!(s.quarantined(None, 10).expect("list").is_empty());
}

#[test]
fn entity_ids_are_stable_and_retired_ids_redirect() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    let recs: Vec<_> = (1..=4).map(|i| incoming("crm", &i.to_string(), "Vries")).collect();
    s.upsert_records(&recs, 1).expect("upsert");
    // Run 1: {1,2} {3} {4}.
    let run1 = resolve(&mut s, vec![vec![1, 2], vec![3], vec![4]], 100);
    assert_eq!(run1, vec![EntityId(1), EntityId(2), EntityId(3)]);
    // Run 2: 3 joins {1,2}; 4 stays. The oldest id survives; E2 is retired and redirects to E1.
    let run2 = resolve(&mut s, vec![vec![4], vec![1, 2, 3]], 200);
    assert_eq!(run2, vec![EntityId(3), EntityId(1)]);
    let view = s.entity(EntityId(2)).expect("entity").expect("redirected");
    assert_eq!((view.id, view.redirected_from), (EntityId(1), Some(EntityId(2))));
    assert_eq!(view.members.len(), 3);
    // Run 3: 1 splits off; {2,3} keep E1 (the oldest among them), 1 gets a fresh id, never a reused one.
    let run3 = resolve(&mut s, vec![vec![2, 3], vec![1], vec![4]], 300);
    assert_eq!(run3, vec![EntityId(1), EntityId(4), EntityId(3)]);
    assert_eq!(s.entity_of(&RecordKey::new("crm", "1")).expect("of"), Some(EntityId(4)));
    let since: i64 = s.conn.query_row("SELECT since FROM memberships WHERE rid = 2", [], |r| r.get(0)).expect("since");
    assert_eq!(since, 100, "an unchanged membership keeps its start");
    // Resolutions are written without per-row foreign-key checks; the result must still have no dangling reference.
    let dangling: i64 =
        s.conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).expect("check");
    assert_eq!(dangling, 0);
    let enforced: i64 = s.conn.pragma_query_value(None, "foreign_keys", |r| r.get(0)).expect("pragma");
    assert_eq!(enforced, 1, "checks are back on after a resolution");
}

#[test]
fn search_finds_typos_and_files_survive_reopen() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hub.db");
    {
        let mut s = SqliteStore::open(&path).expect("open");
        s.upsert_records(&[incoming("crm", "1", "Vries")], 1).expect("upsert");
        resolve(&mut s, vec![vec![1]], 10);
    }
    let s = SqliteStore::open(&path).expect("reopen");
    assert_eq!(s.schema_version().expect("version"), schema::MIGRATIONS.len() as i64);
    let hits = s.search("vreis", 5).expect("search");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].name, "Vries");
    assert!(s.search("zzzzzz", 5).expect("search").is_empty());
}

#[test]
fn golden_records_are_stored_in_binary_and_json_ones_of_earlier_versions_still_read() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    s.upsert_records(&[incoming("crm", "1", "Vries"), incoming("crm", "2", "Bos")], 1).expect("upsert");
    let ids = resolve(&mut s, vec![vec![1], vec![2]], 10);
    let stored: (String, String) = s
        .conn
        .query_row(
            "SELECT typeof(json), hex(substr(json, 1, 1)) FROM golden WHERE entity_id = ?1",
            [ids[0].0 as i64],
            |r| r.try_into(),
        )
        .expect("stored form");
    assert_eq!(stored, ("blob".into(), "C3".into()), "the binary form, with its tag");
    // A golden record as an earlier version stored it: JSON text.
    let json = r#"{"entity":1,"from":[["crm","1"]],"values":[[3,"Vries",0,0]]}"#;
    s.conn.execute("UPDATE golden SET json = ?1 WHERE entity_id = ?2", params![json, ids[0].0 as i64]).expect("update");
    let view = s.entity(ids[0]).expect("entity").expect("found");
    assert_eq!(view.golden, golden(ids[0], "Vries"));
    let mut read = Vec::new();
    s.for_each_golden(&mut |g| {
        read.push(g.clone());
        Ok(())
    })
    .expect("each");
    assert_eq!(read, vec![golden(ids[0], "Vries"), golden(ids[1], "Vries")], "JSON and binary forms side by side");
    s.conn.execute("UPDATE golden SET json = x'00' WHERE entity_id = ?1", [ids[1].0 as i64]).expect("damage");
    let err = s.entity(ids[1]).expect_err("damaged");
    assert!(err.to_string().contains("unknown golden record form"), "{err}");
}

#[test]
fn a_resolution_with_too_few_or_too_many_golden_records_writes_nothing() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    let recs: Vec<_> = (1..=3).map(|i| incoming("crm", &i.to_string(), "Vries")).collect();
    s.upsert_records(&recs, 1).expect("upsert");
    let clusters = vec![vec![1, 2], vec![3]];
    let ids = stable_ids(&s, &clusters);
    let resolved = Resolved {
        model_json: "{}".into(),
        report_json: "{}".into(),
        clusters,
        ids: ids.clone(),
        pairs: vec![],
        record_keys: vec![],
    };
    for count in [1, 3] {
        let mut goldens = (0..count).map(|_| Ok(GoldenRow::new(&golden(ids[0], "Vries").view())));
        let err = s.save_resolution(&resolved, &mut goldens, 100).expect_err("misaligned");
        assert!(err.to_string().contains("line up"), "{err}");
        assert_eq!(s.stats().expect("stats").entities, 0, "the transaction was rolled back");
    }
    // A failing golden record stops the write with its error.
    let mut goldens =
        [Ok(GoldenRow::new(&golden(ids[0], "Vries").view())), Err(Error::Invalid("bad".into()))].into_iter();
    let err = s.save_resolution(&resolved, &mut goldens, 100).expect_err("failing row");
    assert!(err.to_string().contains("bad"), "{err}");
    assert_eq!(s.stats().expect("stats").entities, 0);
}

#[test]
fn resolutions_append_to_the_change_feed_in_order() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    let recs: Vec<_> = (1..=4).map(|i| incoming("crm", &i.to_string(), "Vries")).collect();
    s.upsert_records(&recs, 1).expect("upsert");
    resolve(&mut s, vec![vec![1, 2], vec![3], vec![4]], 100);
    let first = s.feed(0, 100).expect("feed");
    assert_eq!(first.iter().map(|e| e.kind.as_str()).collect::<Vec<_>>(), ["entity.created"; 3]);
    assert_eq!(first[0].payload, serde_json::json!({"records": ["crm:1", "crm:2"], "by": "batch resolve"}));
    // The same result again: nothing new on the feed.
    resolve(&mut s, vec![vec![1, 2], vec![3], vec![4]], 150);
    assert_eq!(s.feed(0, 100).expect("feed").len(), 3);
    // 3 joins E1 and E2 is retired into it; then 1 splits off.
    resolve(&mut s, vec![vec![4], vec![1, 2, 3]], 200);
    resolve(&mut s, vec![vec![2, 3], vec![1], vec![4]], 300);
    let all = s.feed(0, 100).expect("feed");
    let seqs: Vec<i64> = all.iter().map(|e| e.seq).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "sequence only grows: {seqs:?}");
    let resumed = s.feed(seqs[2], 100).expect("feed after");
    assert_eq!(resumed, all[3..].to_vec(), "a consumer resumes after the last event it saw");
    assert_eq!(s.feed(0, 2).expect("limited").len(), 2);
    let history: Vec<(String, i64)> =
        s.entity_history(EntityId(1)).expect("history").into_iter().map(|e| (e.kind, e.at)).collect();
    assert_eq!(
        history,
        [("entity.created".to_string(), 100), ("entity.updated".to_string(), 200), ("entity.split".to_string(), 300)]
    );
    let merged = s.entity_history(EntityId(2)).expect("history");
    assert_eq!(
        merged.last().map(|e| (e.kind.as_str(), e.payload["into"].clone())),
        Some(("entity.merged", "E1".into()))
    );
    let new = s.entity_history(EntityId(4)).expect("history");
    assert_eq!(new[0].payload, serde_json::json!({"records": ["crm:1"], "from": ["E1"], "by": "batch resolve"}));
}

#[test]
fn background_checkpoints_move_the_log_into_the_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hub.db");
    let mut s = SqliteStore::open(&path).expect("open");
    let checkpoints = s.prepare_for_serving().expect("start").expect("a file has a log");
    let before = std::fs::metadata(&path).expect("file").len();
    let recs: Vec<_> = (0..2000).map(|i| incoming("crm", &i.to_string(), "Vries")).collect();
    s.upsert_records(&recs, 1).expect("upsert");
    // Two thousand small records stay under SQLite's own checkpoint threshold: only the background thread moves
    // them into the file.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::fs::metadata(&path).expect("file").len() == before {
        assert!(std::time::Instant::now() < deadline, "no checkpoint within 20 s");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    drop(checkpoints);
    assert_eq!(s.active_records().expect("records").len(), 2000);
    assert!(SqliteStore::open_in_memory().expect("open").prepare_for_serving().expect("ok").is_none());
}

#[test]
fn a_local_change_replaces_the_pairs_among_its_records() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    let recs: Vec<_> = (1..=3).map(|i| incoming("crm", &i.to_string(), "Vries")).collect();
    s.upsert_records(&recs, 1).expect("upsert");
    let pair = |a, b| PairRow { a, b, probability: 0.9, decision: "match", rule: None };
    let clusters = vec![vec![1, 2, 3]];
    let ids = stable_ids(&s, &clusters);
    let resolved = Resolved {
        model_json: "{}".into(),
        report_json: "{}".into(),
        clusters,
        ids,
        pairs: vec![pair(1, 2), pair(2, 3)],
        record_keys: vec![],
    };
    let mut goldens = std::iter::once(Ok(GoldenRow::new(&golden(EntityId(1), "Vries").view())));
    s.save_resolution(&resolved, &mut goldens, 10).expect("save");
    // Records 1 and 2 are re-clustered apart: their pair goes, the pair of 2 and 3 (3 not involved) stays.
    let change = LocalChange {
        records: vec![1, 2],
        clusters: vec![vec![1], vec![2]],
        ids: vec![EntityId(1), EntityId(2)],
        goldens: vec![
            GoldenRow::new(&golden(EntityId(1), "Vries").view()),
            GoldenRow::new(&golden(EntityId(2), "Vries").view()),
        ],
        ..LocalChange::default()
    };
    s.write(&mut |tx| tx.apply(&change, 20).map(|_| ())).expect("apply");
    let left: Vec<(i64, i64)> = s
        .conn
        .prepare("SELECT a, b FROM pairs ORDER BY a")
        .expect("query")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .collect::<rusqlite::Result<_>>()
        .expect("pairs");
    assert_eq!(left, [(2, 3)]);
}

#[test]
fn a_resolution_stores_every_pair_as_given() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    let recs: Vec<_> = (1..=4).map(|i| incoming("crm", &i.to_string(), "Vries")).collect();
    s.upsert_records(&recs, 1).expect("upsert");
    let pair = |a, b, probability, decision, rule: Option<&str>| PairRow {
        a,
        b,
        probability,
        decision,
        rule: rule.map(str::to_string),
    };
    // Scored matches are written apart from the others (their constant columns in the statement): every kind
    // comes back as it went in.
    let pairs = vec![
        pair(3, 4, 0.4, "review", None),
        pair(1, 2, 0.99, "match", None),
        pair(2, 3, 1.0, "match", Some("same tax id")),
        pair(1, 3, 0.97, "vetoed", None),
    ];
    let clusters = vec![vec![1, 2, 3], vec![4]];
    let ids = stable_ids(&s, &clusters);
    let resolved =
        Resolved { model_json: "{}".into(), report_json: "{}".into(), clusters, ids, pairs, record_keys: vec![] };
    let mut goldens = [EntityId(1), EntityId(2)].into_iter().map(|e| Ok(GoldenRow::new(&golden(e, "Vries").view())));
    s.save_resolution(&resolved, &mut goldens, 10).expect("save");
    let stored = stored_pairs(&s.conn);
    let expected = [
        (1, 2, 0.99, "match", None),
        (1, 3, 0.97, "vetoed", None),
        (2, 3, 1.0, "match", Some("same tax id")),
        (3, 4, 0.4, "review", None),
    ];
    let expected: Vec<_> = expected.map(|(a, b, p, d, r)| (a, b, p, d.to_string(), r.map(str::to_string))).into();
    assert_eq!(stored, expected);
}

#[test]
fn api_keys_are_stored_listed_and_revoked() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    let new = |name: &str, expires_at| NewApiKey {
        name: name.into(),
        role: "steward".into(),
        hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        created_by: "cli".into(),
        expires_at,
    };
    let a = s.add_api_key(&new("alice", None), 100).expect("add");
    let b = s.add_api_key(&new("crm-sync", Some(200)), 100).expect("add");
    assert_eq!((a.id, b.id, a.created_at, b.expires_at), (1, 2, 100, Some(200)));
    assert!(a.usable_at(10_000) && b.usable_at(199) && !b.usable_at(200), "expiry is exclusive");
    assert!(s.revoke_api_key(1, 150).expect("revoke"));
    assert!(!s.revoke_api_key(1, 160).expect("again"), "revoking twice changes nothing");
    assert!(!s.revoke_api_key(9, 160).expect("none"));
    let stored = s.api_key(1).expect("read").expect("there");
    assert_eq!(stored.revoked_at, Some(150));
    assert!(!stored.usable_at(151));
    assert_eq!(s.api_keys().expect("all").iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["alice", "crm-sync"]);
    assert!(s.api_key(3).expect("read").is_none());
    assert!(!serde_json::to_string(&stored).expect("json").contains("argon2"), "the hash is never serialised");
}

#[test]
fn the_audit_trail_is_chained_append_only_and_edits_are_found() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    let entry = |target: &str| NewAuditEntry {
        actor: "key:1:ann".into(),
        action: "read".into(),
        target: target.into(),
        origin: "127.0.0.1".into(),
        status: 200,
    };
    for (i, t) in ["GET /entities/E1", "GET /entities/E2", "PUT /sources/crm/records/7"].iter().enumerate() {
        assert_eq!(s.append_audit(&entry(t), 100 + i as i64).expect("append"), i as i64 + 1);
    }
    let verify = |s: &SqliteStore| s.verify_audit().expect("read");
    assert_eq!(verify(&s), Ok(3));
    assert_eq!(s.audit(1, 10).expect("after").iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
    let refused = s.conn.execute("UPDATE audit SET actor = 'key:9:eve' WHERE seq = 2", []);
    assert!(refused.is_err_and(|e| e.to_string().contains("append-only")));
    assert!(s.conn.execute("DELETE FROM audit WHERE seq = 3", []).is_err());
    // Someone with the file drops the guard and edits a row: verification names it.
    s.conn
        .execute_batch("DROP TRIGGER audit_no_update; UPDATE audit SET target = 'GET /health' WHERE seq = 2")
        .expect("edit");
    assert_eq!(verify(&s).map_err(|b| b.seq), Err(2));
}

#[test]
fn an_erasure_removes_the_person_everywhere_and_leaves_a_receipt() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    let mut henk = incoming("crm", "K1", "Vries");
    henk.raw = r#"{"email":"henk@example.nl","name":"Henk de Vries"}"#.into();
    s.upsert_records(&[henk, incoming("shop", "W1", "Vries"), incoming("crm", "K2", "Bos")], 10).expect("upsert");
    s.quarantine(&[dropped_phone("K1", 2, "0612", "`0612` is too short", 10)]).expect("quarantine");
    // Two entities first, then one: E1 (K1) is merged into E... whichever survives.
    let first = resolve(&mut s, vec![vec![1], vec![2], vec![3]], 20);
    let merged = resolve(&mut s, vec![vec![1, 2], vec![3]], 30);
    assert_eq!(merged[0], first[0]);
    let audit = |target: &str| NewAuditEntry {
        actor: "key:1:ann".into(),
        action: "read".into(),
        target: target.into(),
        origin: "127.0.0.1".into(),
        status: 200,
    };
    for t in ["GET /entities/E2", "GET /lookup?source=crm&id=K1", "GET /entities/E3", "GET /search?q=henk%40example.nl"]
    {
        s.append_audit(&audit(t), 40).expect("audit");
    }
    let data = s.subject(&Subject::Entity(EntityId(2))).expect("gather").expect("redirects to the survivor");
    assert_eq!(data.entity, Some(first[0]));
    let by_key = s.subject(&Subject::Record(RecordKey::new("shop", "W1"))).expect("gather").expect("by a member");
    assert_eq!(serde_json::to_value(&by_key).ok(), serde_json::to_value(&data).ok(), "a member's key finds the entity");
    assert_eq!(data.entities, [EntityId(1), EntityId(2)]);
    assert_eq!(data.records.iter().map(|r| r.key.to_string()).collect::<Vec<_>>(), ["crm:K1", "shop:W1"]);
    assert_eq!(data.quarantine.len(), 1);
    assert_eq!(data.records[0].versions[0].raw["email"], "henk@example.nl");
    // The entry about E3 is someone else's; the e-mail search is not found (the clean form has no e-mail here).
    assert_eq!(data.audit.iter().map(|a| a.seq).collect::<Vec<_>>(), [1, 2]);

    let request = ErasureRequest {
        actor: "cli:dpo".into(),
        requested_by: "ticket 4711".into(),
        reason: Some("art. 17".into()),
        suppress: true,
    };
    let done = s.erase_subject(&Subject::Entity(EntityId(2)), &request, 50, None).expect("erase").expect("found");
    assert_eq!((done.receipt.records, done.receipt.suppressed, done.receipt.entity), (2, 2, Some(first[0])));
    assert_eq!(done.receipt.digest.len(), 64);
    assert_eq!(s.erasures().expect("receipts"), std::slice::from_ref(&done.receipt));
    assert!(s.subject(&Subject::Entity(first[0])).expect("gather").is_none(), "nothing left to export");
    assert!(s.entity(first[0]).expect("read").is_none());
    let count = |sql: &str| -> i64 { s.conn.query_row(sql, [], |r| r.get(0)).expect("count") };
    assert_eq!(count("SELECT COUNT(*) FROM records"), 1);
    assert_eq!(count("SELECT COUNT(*) FROM record_versions WHERE raw LIKE '%henk%'"), 0);
    assert_eq!(count("SELECT COUNT(*) FROM quarantine"), 0);
    assert_eq!(count("SELECT COUNT(*) FROM feed WHERE payload LIKE '%K1%' OR payload LIKE '%W1%'"), 0);
    assert_eq!(count("SELECT COUNT(*) FROM audit WHERE target = '[erased]'"), 2);
    assert_eq!(s.verify_audit().expect("read"), Ok(4), "the chain still verifies after the redaction");
    let last = s.feed(0, 100).expect("feed").pop().expect("an event");
    assert_eq!(last.kind, "subject.erased");
    assert_eq!(last.payload["receipt"], done.receipt.id);
    // The suppression list blocks the erased records, and only them.
    let list = s.suppression().expect("list");
    assert!(list.contains(&RecordKey::new("crm", "K1")) && list.contains(&RecordKey::new("shop", "W1")));
    assert!(!list.contains(&RecordKey::new("crm", "K2")));
    // Only a redaction may change an audit entry.
    let refused = s.conn.execute("UPDATE audit SET target = 'GET /health' WHERE seq = 3", []);
    assert!(refused.is_err_and(|e| e.to_string().contains("append-only")));
    assert!(s.erase_subject(&Subject::Entity(first[0]), &request, 60, None).expect("erase").is_none(), "erased once");
}

#[test]
fn a_record_in_no_entity_is_exported_and_erased_by_its_key() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    s.upsert_records(&[incoming("crm", "K2", "Bos")], 10).expect("upsert");
    resolve(&mut s, vec![vec![1]], 20);
    // An unreadable row: nothing stored but its quarantine entry, which holds the row as read.
    let row = |line: u64, id: &str, value: &str| QuarantineEntry {
        source: "crm".into(),
        source_id: Some(id.into()),
        line,
        severity: "record".into(),
        field: None,
        value: Some(value.into()),
        reason: "row has 4 fields but the header has 9".into(),
        at: 30,
    };
    s.quarantine(&[row(7, "K7", "K7;Fatima Perters;01-01-1959;Kerkstraat 237"), row(8, "K8", "K8;Jan Smit")])
        .expect("quarantine");
    // A record ingested after the last resolution: stored, in no entity yet.
    let mut late = incoming("shop", "W9", "Jansen");
    late.raw = r#"{"name":"Piet Jansen"}"#.into();
    s.upsert_records(&[late], 35).expect("upsert");
    let audit = NewAuditEntry {
        actor: "cli:ann".into(),
        action: "read".into(),
        target: "gdpr export crm:K7".into(),
        origin: "cli".into(),
        status: 0,
    };
    s.append_audit(&audit, 40).expect("audit");

    let who = Subject::Record(RecordKey::new("crm", "K7"));
    let data = s.subject(&who).expect("gather").expect("the quarantine entry is held");
    assert_eq!((data.entity, data.golden.is_none(), data.records.len()), (None, true, 0));
    assert_eq!(data.quarantine.iter().map(|q| q.line).collect::<Vec<_>>(), [7], "only this key's entry");
    assert_eq!(data.audit.len(), 1, "the trail entry naming the key");
    let pending = s.subject(&Subject::Record(RecordKey::new("shop", "W9"))).expect("gather").expect("stored");
    assert_eq!(pending.records.iter().map(|r| r.key.to_string()).collect::<Vec<_>>(), ["shop:W9"]);
    assert!(s.subject(&Subject::Record(RecordKey::new("crm", "K99"))).expect("gather").is_none(), "nothing held");

    let request =
        ErasureRequest { actor: "cli:dpo".into(), requested_by: "ticket 4712".into(), reason: None, suppress: true };
    let done = s.erase_subject(&who, &request, 50, None).expect("erase").expect("found");
    assert_eq!((done.receipt.entity, done.receipt.records, done.receipt.suppressed), (None, 0, 1));
    assert_eq!(s.erasures().expect("receipts"), std::slice::from_ref(&done.receipt), "a receipt without an entity");
    let count = |s: &SqliteStore, sql: &str| -> i64 { s.conn.query_row(sql, [], |r| r.get(0)).expect("count") };
    assert_eq!(count(&s, "SELECT COUNT(*) FROM quarantine WHERE value LIKE '%Perters%'"), 0);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM quarantine"), 1, "the other row's entry stays");
    assert_eq!(count(&s, "SELECT COUNT(*) FROM audit WHERE target = '[erased]'"), 1);
    assert!(s.suppression().expect("list").contains(&RecordKey::new("crm", "K7")));
    assert!(s.subject(&who).expect("gather").is_none(), "nothing left");
    let erased = s.erase_subject(&Subject::Record(RecordKey::new("shop", "W9")), &request, 60, None);
    let erased = erased.expect("erase").expect("found");
    assert_eq!((erased.receipt.records, erased.rids.len()), (1, 1));
    assert_eq!(count(&s, "SELECT COUNT(*) FROM record_versions WHERE raw LIKE '%Piet%'"), 0);
    assert_eq!(count(&s, "SELECT COUNT(*) FROM records"), 1, "crm:K2 stays");
}

#[test]
fn a_resolution_tells_the_entities_whose_records_changed_though_none_joined_or_left() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    s.upsert_records(&[incoming("crm", "1", "Vries"), incoming("crm", "2", "Bos")], 10).expect("upsert");
    let ids = resolve(&mut s, vec![vec![1], vec![2]], 20);
    let head = s.feed_head().expect("head");
    s.upsert_records(&[incoming("crm", "1", "Vries-Bos"), incoming("crm", "2", "Bos")], 30).expect("upsert");
    resolve(&mut s, vec![vec![1], vec![2]], 40);
    let events = s.feed(head, 10).expect("feed");
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0].kind.as_str(), events[0].entity), ("entity.updated", Some(ids[0])));
    assert_eq!(events[0].payload["changed"], serde_json::json!(["crm:1"]));
}

#[test]
fn bulk_writes_use_the_rollback_journal_only_when_alone_and_end_in_wal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hub.db");
    let mut s = SqliteStore::open(&path).expect("open");
    // Stores one record in bulk and tells the journal mode it was written in.
    let upsert_in_bulk = |s: &mut SqliteStore, id: &str, family: &str, at: i64| {
        s.in_bulk(|s| -> Result<String> {
            s.upsert_records(&[incoming("crm", id, family)], at)?;
            s.journal_mode()
        })
    };
    assert_eq!(upsert_in_bulk(&mut s, "1", "Vries", 1).expect("bulk"), "delete");
    assert_eq!(s.journal_mode().expect("mode"), "wal");
    // Another connection (a server, a second command) has the file open: the bulk work runs in WAL mode.
    let other = SqliteStore::open(&path).expect("second connection");
    assert_eq!(other.active_records().expect("read").len(), 1);
    assert_eq!(upsert_in_bulk(&mut s, "2", "Bos", 2).expect("bulk beside a reader"), "wal");
    assert_eq!(other.active_records().expect("read").len(), 2);
    drop(other);
    // A failed bulk run leaves nothing half-written and the file in WAL mode.
    let failed = s.in_bulk(|s| -> Result<()> {
        s.upsert_records(&[incoming("crm", "3", "Smit")], 3)?;
        Err(Error::Invalid("stopped".into()))
    });
    assert!(failed.is_err());
    assert_eq!(s.journal_mode().expect("mode"), "wal");
    drop(s);
    let reopened = SqliteStore::open(&path).expect("reopen");
    assert_eq!(reopened.active_records().expect("read").len(), 3, "the upsert before the error was committed");
}

#[test]
fn a_bulk_load_reads_two_halves_at_once_as_one_read_would() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut s = SqliteStore::open(&dir.path().join("hub.db")).expect("open");
    let records: Vec<IncomingRecord> = (1..=40)
        .map(|i| {
            let mut r = incoming(if i % 3 == 0 { "shop" } else { "crm" }, &i.to_string(), &format!("F{i}"));
            if i % 7 == 0 {
                r.clean = None;
                r.quarantine_reasons = vec!["no name".into()];
            }
            r
        })
        .collect();
    s.upsert_records(&records, 1).expect("upsert");
    // In WAL mode one connection reads; in bulk, with the rollback journal, two.
    let whole = s.active_set().expect("one read");
    let (halves, mode) = s.in_bulk(|s| -> Result<_> { Ok((s.active_set()?, s.journal_mode()?)) }).expect("bulk read");
    assert_eq!(mode, "delete", "the two-connection path ran");
    assert_eq!(s.journal_mode().expect("mode"), "wal", "the second connection was closed again");
    assert_eq!((halves.len(), halves.rids()), (whole.len(), whole.rids()));
    assert_eq!(whole.len(), 35, "quarantined records are not active");
    for i in 0..whole.len() {
        assert_eq!(
            (halves.key(i), halves.trust(i), halves.recency(i)),
            (whole.key(i), whole.trust(i), whole.recency(i))
        );
        assert_eq!(halves.clean(i).expect("decode"), whole.clean(i).expect("decode"));
    }
}

#[test]
fn an_in_memory_store_stays_as_it_is_in_bulk() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    let mode = s.in_bulk(|s| s.journal_mode()).expect("bulk");
    assert_eq!(mode, "memory");
}

#[test]
fn a_batch_is_written_as_its_records_one_by_one_would_be() {
    let quarantined = |id: &str| {
        let mut r = incoming("crm", id, "Q");
        r.clean = None;
        r.quarantine_reasons = vec!["no name".into()];
        r
    };
    let first: Vec<IncomingRecord> = (0..150).map(|i| incoming("crm", &i.to_string(), "Vries")).collect();
    // Known records (same and changed content), new ones, a record three times, quarantined ones, another source.
    let mut second: Vec<IncomingRecord> =
        (100..250).map(|i| incoming("crm", &i.to_string(), if i % 3 == 0 { "Bos" } else { "Vries" })).collect();
    second.insert(10, incoming("crm", "300", "Smit"));
    second.insert(70, incoming("crm", "300", "Smid"));
    second.push(incoming("crm", "300", "Smit"));
    second.extend([quarantined("400"), quarantined("5"), incoming("shop", "5", "Vries")]);
    let contents = |s: &SqliteStore| -> Vec<String> {
        let mut rows: Vec<String> = s
            .conn
            .prepare(
                "SELECT r.source, r.source_id, r.version, r.status, r.content_hash, hex(r.clean), v.version, v.raw
                 FROM records r JOIN record_versions v USING (rid) ORDER BY r.source, r.source_id, v.version",
            )
            .and_then(|mut st| {
                st.query_map([], |r| {
                    Ok((0..8)
                        .map(|i| format!("{:?}", r.get_ref(i).map(|v| format!("{v:?}"))))
                        .collect::<Vec<_>>()
                        .join("|"))
                })?
                .collect()
            })
            .expect("rows");
        let feed: Vec<String> = s
            .conn
            .prepare("SELECT kind, payload FROM feed ORDER BY seq")
            .and_then(|mut st| {
                st.query_map([], |r| Ok(format!("{}:{}", r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?.collect()
            })
            .expect("feed");
        rows.extend(feed);
        rows
    };
    let mut batched = SqliteStore::open_in_memory().expect("open");
    let mut counts = Vec::new();
    for batch in [&first, &second] {
        counts.push(batched.upsert_records(batch, 7).expect("upsert"));
    }
    let mut single = SqliteStore::open_in_memory().expect("open");
    let mut outcomes = Vec::new();
    for batch in [&first, &second] {
        let tx = single.conn.transaction().expect("tx");
        {
            let mut writer = realtime::RecordWriter::new(&tx).expect("writer");
            outcomes.extend(batch.iter().map(|r| writer.write(r, 7).expect("write")));
        }
        tx.commit().expect("commit");
    }
    let mut batched_outcomes = Vec::new();
    let mut again = SqliteStore::open_in_memory().expect("open");
    for batch in [&first, &second] {
        let tx = again.conn.transaction().expect("tx");
        batched_outcomes.extend(realtime::RecordWriter::new(&tx).expect("writer").write_all(batch, 7).expect("write"));
        tx.commit().expect("commit");
    }
    assert_eq!(batched_outcomes, outcomes);
    assert_eq!(contents(&batched), contents(&single));
    assert_eq!(counts[1], UpsertCounts { inserted: 103, updated: 19, unchanged: 34 });
}

#[test]
fn returned_rows_are_placed_by_insertion_order_or_else_by_key() {
    let chunk: Vec<IncomingRecord> = ["1", "2", "1", "3", "4"].iter().map(|id| incoming("crm", id, "Vries")).collect();
    let row = |rid: i64, id: &str| (rid, "crm".to_string(), id.to_string());
    // "2" was stored before; the second "1" repeats the first: rows 10, 11, 12 for "1", "3", "4", in any order.
    let placed = realtime::positions_of(&chunk, vec![row(12, "4"), row(10, "1"), row(11, "3")]);
    assert_eq!(placed, [(0, 10), (3, 11), (4, 12)].into());
    // Ids not in insertion order (never so in SQLite, but not promised): matched by key, a repeat to its first.
    let placed = realtime::positions_of(&chunk, vec![row(10, "3"), row(11, "1"), row(12, "4")]);
    assert_eq!(placed, [(0, 11), (3, 10), (4, 12)].into());
    assert!(realtime::positions_of(&chunk, vec![]).is_empty());
}

#[test]
fn search_text_holds_each_folded_token_once_with_postcode_and_phone_as_typed() {
    let from = RecordKey::new("crm", "1");
    let values = [
        ("given_name", "Anna-Maria"),
        ("initials", "A.M."),
        ("name_prefix", "de"),
        ("family_name", "Vries"),
        ("email", "anna.devries@x.nl"),
        ("phone", "+31612345678"),
        ("postcode", "6824 AB"),
        ("city", "Arnhem"),
        ("street", "Velperbroek"),
    ];
    let g = Golden {
        entity: EntityId(1),
        values: values
            .iter()
            .map(|(a, v)| GoldenValue {
                attribute: a.to_string(),
                value: v.to_string(),
                from: from.clone(),
                rule: "trust".into(),
            })
            .collect(),
    };
    assert_eq!(search_text(&g.view()), "anna maria a m de vries devries x nl 31612345678 6824 ab arnhem 6824ab");
    let bare = Golden { entity: EntityId(2), values: vec![] };
    assert_eq!(search_text(&bare.view()), "");
    // However many tokens there are, each is kept once.
    let words: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
    let long = Golden {
        entity: EntityId(3),
        values: vec![GoldenValue {
            attribute: "organisation".into(),
            value: format!("{} W0 w39", words.join(" ")),
            from: from.clone(),
            rule: "trust".into(),
        }],
    };
    assert_eq!(search_text(&long.view()), words.join(" "));
}

/// The search text as first written (each attribute looked up, the postcode folded again): the one-pass
/// [`search_text`] must give the same.
fn search_text_looked_up(g: &GoldenView<'_>) -> String {
    let attrs =
        ["given_name", "initials", "name_prefix", "family_name", "email", "phone", "postcode", "city", "organisation"];
    let mut folded = String::new();
    for value in attrs.iter().filter_map(|a| g.get(a)) {
        clean::text::fold_into(value, &mut folded);
        folded.push(' ');
    }
    if let Some(p) = g.get("postcode") {
        folded.push_str(&clean::text::fold(p).replace(' ', ""));
        folded.push(' ');
    }
    if let Some(p) = g.get("phone") {
        folded.push_str(p.trim_start_matches('+'));
    }
    let mut tokens: Vec<&str> = Vec::new();
    for token in folded.split(' ').filter(|t| !t.is_empty()) {
        if !tokens.contains(&token) {
            tokens.push(token);
        }
    }
    tokens.join(" ")
}

proptest::proptest! {
    #[test]
    fn search_text_is_that_of_each_attribute_looked_up(
        values in proptest::collection::vec(
            (
                proptest::sample::select(vec!["given_name", "initials", "family_name", "email", "phone", "postcode",
                    "city", "organisation", "street"]),
                "[A-Za-z0-9 +.@'-]{0,12}|\\PC{0,8}",
            ),
            0..12,
        ),
    ) {
        let g = Golden {
            entity: EntityId(1),
            values: values
                .iter()
                .map(|(a, v)| GoldenValue {
                    attribute: a.to_string(),
                    value: v.clone(),
                    from: RecordKey::new("crm", "1"),
                    rule: "trust".into(),
                })
                .collect(),
        };
        proptest::prop_assert_eq!(search_text(&g.view()), search_text_looked_up(&g.view()));
    }
}

#[test]
fn the_log_is_emptied_while_another_connection_checkpoints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hub.db");
    let conn = Connection::open(&path).expect("open");
    conn.pragma_update(None, "journal_mode", "WAL").expect("wal");
    conn.execute_batch("CREATE TABLE t (v BLOB)").expect("table");
    // A second connection checkpoints without pause, as a server's background thread does under steady writes.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let other = {
        let (path, stop) = (path.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            let conn = Connection::open(&path).expect("open");
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
            }
        })
    };
    let wal = path.with_file_name("hub.db-wal");
    for round in 0..50 {
        conn.execute("INSERT INTO t VALUES (zeroblob(200000))", []).expect("insert");
        assert!(super::empty_log(&conn), "round {round}: the log was not emptied");
        assert_eq!(std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0), 0, "round {round}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    other.join().expect("checkpointing thread");
}

/// The first column of every row `sql` selects, as text.
fn texts(conn: &Connection, sql: &str) -> Vec<String> {
    conn.prepare(sql)
        .expect("sql")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<rusqlite::Result<_>>()
        .expect("read")
}

/// Every stored pair as (a, b, probability, decision, rule), in key order.
fn stored_pairs(conn: &Connection) -> Vec<(i64, i64, f64, String, Option<String>)> {
    conn.prepare("SELECT a, b, probability, decision, rule FROM pairs ORDER BY a, b")
        .expect("sql")
        .query_map([], |r| r.try_into())
        .expect("rows")
        .collect::<rusqlite::Result<_>>()
        .expect("read")
}

/// Raw fields of every record, by key, as `for_each_raw` gives them.
fn raw_by_key(s: &SqliteStore) -> Vec<(String, Vec<(String, String)>)> {
    let mut all = Vec::new();
    s.for_each_raw(&mut |key, fields| {
        all.push((key.to_string(), fields.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()));
        Ok(())
    })
    .expect("raw");
    all
}

#[test]
fn raw_versions_are_stored_compact_with_their_column_names_once() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    let row = |id: &str, name: &str| -> IncomingRecord {
        let raw = fields_of_row(id, name);
        IncomingRecord::encode_compact(RecordKey::new("crm", id), &raw, Some(&CleanRecord::default())).expect("encode")
    };
    s.upsert_records(&[row("1", "Henk \"de\" Vries"), row("2", "Bos")], 10).expect("upsert");
    // Pushed one by one, as real time stores them: the layout is found, not stored again.
    s.write(&mut |tx| tx.write_record(&row("3", "Jansen"), 11).map(|_| ())).expect("write");
    let stored = texts(&s.conn, "SELECT raw FROM record_versions");
    assert!(stored.iter().all(|r| r.starts_with('[') && !r.contains("name")), "{stored:?}");
    let layouts: i64 = s.conn.query_row("SELECT count(*) FROM raw_layouts", [], |r| r.get(0)).expect("count");
    assert_eq!(layouts, 1);
    let fields = |id: &str, name: &str| {
        (
            format!("crm:{id}"),
            vec![("email".into(), String::new()), ("id".into(), id.into()), ("name".into(), name.into())],
        )
    };
    assert_eq!(raw_by_key(&s), [fields("1", "Henk \"de\" Vries"), fields("2", "Bos"), fields("3", "Jansen")]);
    let data = s.subject(&Subject::Record(RecordKey::new("crm", "1"))).expect("gather").expect("held");
    assert_eq!(
        data.records[0].versions[0].raw,
        serde_json::json!({"email": "", "id": "1", "name": "Henk \"de\" Vries"})
    );

    // The same content again is no change (the hash is of the values, not of their stored form); a record deleted
    // at its source has no raw fields.
    let counts = s.upsert_records(&[row("1", "Henk \"de\" Vries")], 12).expect("again");
    assert_eq!((counts.inserted, counts.updated, counts.unchanged), (0, 0, 1));
    // The same record as a document (pushed over the API) is the same content, and keeps its JSON object.
    let mut document = incoming("shop", "W1", "Vries");
    assert!(document.layout.is_none() && document.raw.starts_with('{'), "{document:?}");
    let counts = s.upsert_records(&[document.clone()], 12).expect("document");
    assert_eq!(counts.inserted, 1);
    let pushed = row("1", "Henk \"de\" Vries");
    document = IncomingRecord::encode(
        pushed.key.clone(),
        &fields_of_row("1", "Henk \"de\" Vries"),
        Some(&CleanRecord::default()),
    )
    .expect("encode");
    assert_eq!(document.content_hash, pushed.content_hash, "one hash for both forms");
    let counts = s.upsert_records(&[document], 12).expect("as a document");
    assert_eq!(counts.unchanged, 1);
    s.write(&mut |tx| tx.delete_record(&RecordKey::new("crm", "2"), 13).map(|_| ())).expect("delete");
    let shop = ("shop:W1".to_string(), vec![("name".to_string(), "Vries".to_string())]);
    assert_eq!(raw_by_key(&s), [fields("1", "Henk \"de\" Vries"), fields("3", "Jansen"), shop]);
}

fn fields_of_row(id: &str, name: &str) -> model::RawFields {
    [("id", id), ("name", name), ("email", "")].iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

#[test]
fn a_layout_id_taken_by_other_names_leaves_the_version_a_json_object() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    let compact = |id: &str, family: &str| {
        let raw: model::RawFields = [("name".to_string(), family.to_string())].into_iter().collect();
        IncomingRecord::encode_compact(RecordKey::new("crm", id), &raw, None).expect("encode")
    };
    let henk = compact("1", "Vries");
    let id = henk.layout.as_ref().expect("a layout").id;
    s.conn.execute("INSERT INTO raw_layouts (id, names) VALUES (?1, '[\"other\"]')", [id]).expect("taken");
    s.upsert_records(&[henk, compact("2", "Bos")], 10).expect("upsert");
    let stored = texts(&s.conn, "SELECT raw FROM record_versions");
    assert_eq!(stored, [r#"{"name":"Vries"}"#, r#"{"name":"Bos"}"#]);
    let name = |id: &str, v: &str| (format!("crm:{id}"), vec![("name".to_string(), v.to_string())]);
    assert_eq!(raw_by_key(&s), [name("1", "Vries"), name("2", "Bos")]);
    // A version that names a layout the table does not hold is an error, not an empty record.
    s.conn.execute("DELETE FROM raw_layouts", []).expect("delete");
    s.conn.execute("UPDATE record_versions SET raw = '[5,[\"x\"]]' WHERE rid = 1", []).expect("edit");
    assert!(s.for_each_raw(&mut |_, _| Ok(())).is_err());
}

/// The opcodes of `sql` as SQLite compiles it.
fn opcodes(conn: &Connection, sql: &str) -> Vec<String> {
    let mut stmt = conn.prepare(&format!("EXPLAIN {sql}")).expect("explain");
    stmt.query_map([], |r| r.get::<_, String>(1)).expect("opcodes").collect::<rusqlite::Result<_>>().expect("rows")
}

#[test]
fn no_insert_builds_a_temporary_table_per_row() {
    // A CHECK written `x IN ('a', 'b', 'c')` is compiled into a temporary B-tree filled for every row inserted.
    let s = SqliteStore::open_in_memory().expect("open");
    let tables = texts(&s.conn, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
    assert!(tables.len() > 10 && tables.iter().any(|t| t == "records"), "{tables:?}");
    for table in &tables {
        let program = opcodes(&s.conn, &format!("INSERT INTO {table} DEFAULT VALUES"));
        assert!(!program.iter().any(|op| op == "OpenEphemeral"), "inserting into {table} builds a temporary table");
    }
    // The check that used to: written with IN, it does.
    s.conn.execute_batch("CREATE TEMP TABLE t (x TEXT CHECK (x IN ('a', 'b', 'c')))").expect("create");
    assert!(opcodes(&s.conn, "INSERT INTO t DEFAULT VALUES").iter().any(|op| op == "OpenEphemeral"));
}

#[test]
fn status_and_decision_checks_still_hold() {
    let mut s = SqliteStore::open_in_memory().expect("open");
    s.upsert_records(&[incoming("crm", "1", "Vries"), incoming("crm", "2", "Bos")], 1).expect("upsert");
    for status in ["active", "quarantined", "deleted"] {
        s.conn.execute("UPDATE records SET status = ?1 WHERE rid = 1", [status]).expect("a known status");
    }
    let bad = s.conn.execute("UPDATE records SET status = 'gone' WHERE rid = 1", []);
    assert!(bad.expect_err("an unknown status").to_string().contains("CHECK"));
    for decision in ["match", "review", "vetoed"] {
        s.conn
            .execute("INSERT OR REPLACE INTO pairs (a, b, probability, decision) VALUES (1, 2, 0.5, ?1)", [decision])
            .expect("a known decision");
    }
    let bad =
        s.conn.execute("INSERT OR REPLACE INTO pairs (a, b, probability, decision) VALUES (1, 2, 0.5, 'maybe')", []);
    assert!(bad.expect_err("an unknown decision").to_string().contains("CHECK"));
}

/// Every column of a `records` row, in table order.
type RecordRow = (i64, String, String, i64, i64, i64, Option<i64>, String, Option<Vec<u8>>, i64);

#[test]
fn a_hub_written_before_the_checks_were_rewritten_migrates_with_its_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("hub.db");
    {
        // A file at the schema before the rebuild, with records, versions, a pair, an entity and a pin.
        let conn = Connection::open(&path).expect("open");
        let before = schema::MIGRATIONS.len() - 1;
        for script in &schema::MIGRATIONS[..before] {
            conn.execute_batch(script).expect("migration");
        }
        conn.pragma_update(None, "user_version", before as i64).expect("version");
        conn.execute_batch(
            "INSERT INTO records (rid, source, source_id, version, content_hash, ingested_at, updated_at, status, clean,
                 seen_at)
             VALUES (1, 'crm', 'c1', 2, 11, 100, 90, 'active', X'0102', 150),
                    (5, 'shop', 's9', 1, 12, 110, NULL, 'quarantined', NULL, 110),
                    (7, 'crm', 'c2', 1, 13, 120, NULL, 'deleted', X'03', 120);
             INSERT INTO record_versions (rid, version, ingested_at, raw) VALUES (1, 1, 100, '{}'), (1, 2, 130, '{}');
             INSERT INTO pairs (a, b, probability, decision, rule) VALUES (1, 5, 0.95, 'match', NULL),
                                                                          (1, 7, 0.5, 'review', 'email');
             INSERT INTO entities (entity_id, created_at) VALUES (3, 100);
             INSERT INTO memberships (rid, entity_id, since) VALUES (1, 3, 100), (5, 3, 100);
             INSERT INTO pins (a, b, kind, actor, at) VALUES (1, 7, 'apart', 'steward', 140);",
        )
        .expect("rows");
    }
    let s = SqliteStore::open(&path).expect("migrate");
    assert_eq!(s.schema_version().expect("version"), schema::MIGRATIONS.len() as i64);
    let records: Vec<RecordRow> = s
        .conn
        .prepare("SELECT * FROM records ORDER BY rid")
        .expect("records")
        .query_map([], |r| RecordRow::try_from(r))
        .expect("query")
        .collect::<rusqlite::Result<_>>()
        .expect("rows");
    assert_eq!(
        records,
        [
            (1, "crm".into(), "c1".into(), 2, 11, 100, Some(90), "active".into(), Some(vec![1, 2]), 150),
            (5, "shop".into(), "s9".into(), 1, 12, 110, None, "quarantined".into(), None, 110),
            (7, "crm".into(), "c2".into(), 1, 13, 120, None, "deleted".into(), Some(vec![3]), 120),
        ]
    );
    let pairs = stored_pairs(&s.conn);
    assert_eq!(pairs, [(1, 5, 0.95, "match".into(), None), (1, 7, 0.5, "review".into(), Some("email".into()))]);
    let indexes = texts(
        &s.conn,
        "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name IN ('records', 'pairs') ORDER BY 1",
    );
    assert_eq!(indexes, ["pairs_b", "pairs_review", "sqlite_autoindex_records_1"]);
    let dangling: i64 =
        s.conn.query_row("SELECT COUNT(*) FROM pragma_foreign_key_check", [], |r| r.get(0)).expect("check");
    assert_eq!(dangling, 0);
    // The key is still unique, and what refers to records still finds them.
    let twice = s.conn.execute(
        "INSERT INTO records (source, source_id, version, content_hash, ingested_at, status) VALUES ('crm', 'c1', 1, 1, 1, 'active')",
        [],
    );
    assert!(twice.expect_err("a key stored twice").to_string().contains("UNIQUE"));
    assert_eq!(s.pairs("review", 10).expect("review queue").len(), 1);
    assert_eq!(s.stats().expect("stats").review_pairs, 1);
}
