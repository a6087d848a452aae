//! The real-time hub over HTTP: records pushed one at a time (or in batches) are matched and merged at once,
//! changes split records off, deletes retire entities, stewards merge and unmerge, and every change is on the
//! feed with who made it and why. The real binary, a real SQLite file.

use crate::http::Server;
use crate::ok;
use serde_json::{Value, json};

/// The entity id of a source record, via `GET /lookup`.
fn entity_of(server: &Server, source: &str, id: &str) -> Option<String> {
    let (status, body) = server.get(&format!("/lookup?source={source}&id={id}"));
    (status == 200).then(|| body["id"].as_str().expect("id").to_string())
}

fn kinds(events: &Value) -> Vec<String> {
    events.as_array().expect("events").iter().map(|e| e["kind"].as_str().unwrap_or_default().to_string()).collect()
}

/// A hub of 300 generated people from four sources, ingested and resolved, served.
fn resolved_hub(d: &std::path::Path) -> Server {
    ok(d, &["generate", "--out", ".", "--records", "300", "--seed", "5"]);
    ok(d, &["-q", "ingest"]);
    ok(d, &["-q", "resolve"]);
    Server::start(d)
}

#[test]
fn records_pushed_in_are_matched_merged_split_and_retired() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let server = resolved_hub(d);
    let jurgen = entity_of(&server, "crm", "K000002").expect("K000002 is resolved");

    // The web shop sends the same customer: he joins his entity at once.
    let shop = json!({"customer": {"first_name": "Jürgen", "last_name": "Sanders"}, "dob": "1995-08-23",
        "address": {"street": "Utrechtseweg", "number": "7", "zip": "6223UZ", "city": "Maastricht"},
        "phones": ["06 41205638"], "email": "j.sanders@example.nl"});
    let (status, put) = server.send("PUT", "/sources/webshop/records/W900001", &shop);
    assert_eq!(status, 200, "{put}");
    assert_eq!((put["write"].as_str(), put["status"].as_str()), (Some("inserted"), Some("active")), "{put}");
    assert_eq!(put["entity"].as_str(), Some(jurgen.as_str()), "{put}");
    assert_eq!(entity_of(&server, "webshop", "W900001").as_deref(), Some(jurgen.as_str()));
    let (_, view) = server.get(&format!("/entities/{jurgen}"));
    let members = view["members"].as_array().expect("members");
    assert!(members.iter().any(|m| m["source_id"] == "W900001"), "{view}");
    // Its history says who did it, and on what evidence.
    let (_, history) = server.get(&format!("/entities/{jurgen}/history"));
    let joined = history["events"].as_array().expect("events").last().cloned().expect("an event");
    assert_eq!(joined["kind"], "entity.updated", "{history}");
    assert_eq!(joined["payload"]["joined"], json!(["webshop:W900001"]));
    assert_eq!(joined["payload"]["by"], "key:1:tests", "the API key that pushed it");
    let evidence = &joined["payload"]["evidence"][0];
    assert_eq!(evidence["record"], "webshop:W900001");
    assert!(evidence["score"].as_f64().is_some_and(|s| s >= 0.7), "{evidence}");

    // The same content again changes nothing.
    let (status, again) = server.send("PUT", "/sources/webshop/records/W900001", &shop);
    assert_eq!((status, again["write"].as_str(), again["events"].clone()), (200, Some("unchanged"), json!([])));

    // Changed content that stays in the entity: the feed still says the entity changed, and which record.
    let mut moved_house = shop.clone();
    moved_house["address"]["number"] = json!("9");
    let (status, edited) = server.send("PUT", "/sources/webshop/records/W900001", &moved_house);
    assert_eq!(
        (status, edited["write"].as_str(), edited["entity"].as_str()),
        (200, Some("updated"), Some(jurgen.as_str()))
    );
    let (_, history) = server.get(&format!("/entities/{jurgen}/history"));
    let told = history["events"].as_array().expect("events").last().cloned().expect("an event");
    assert_eq!(
        (told["kind"].as_str(), told["payload"]["changed"].clone()),
        (Some("entity.updated"), json!(["webshop:W900001"]))
    );
    let (_, back) = server.send("PUT", "/sources/webshop/records/W900001", &shop);
    assert_eq!(back["write"], "updated");

    // The record changes into someone else: it leaves and becomes an entity of its own.
    let other = json!({"customer": {"first_name": "Wilhelmina", "last_name": "Oosterhuis"}, "dob": "1931-02-03",
        "address": {"street": "Zeedijk", "number": "1", "zip": "1012AA", "city": "Amsterdam"},
        "phones": ["020 555 0199"], "email": "w.oosterhuis@example.nl"});
    let (status, moved) = server.send("PUT", "/sources/webshop/records/W900001", &other);
    assert_eq!((status, moved["write"].as_str()), (200, Some("updated")), "{moved}");
    let own = moved["entity"].as_str().expect("an entity").to_string();
    assert_ne!(own, jurgen);
    let (_, history) = server.get(&format!("/entities/{jurgen}/history"));
    let left = history["events"].as_array().expect("events").last().cloned().expect("an event");
    assert_eq!(
        (left["kind"].as_str(), left["payload"]["left"].clone()),
        (Some("entity.split"), json!(["webshop:W900001"]))
    );

    // Deleted at its source: it leaves, and its entity, now empty, is retired.
    let (status, deleted) = server.send("DELETE", "/sources/webshop/records/W900001", &Value::Null);
    assert_eq!(
        (status, deleted["write"].as_str(), deleted["status"].as_str()),
        (200, Some("deleted"), Some("deleted"))
    );
    assert_eq!(entity_of(&server, "webshop", "W900001"), None);
    assert_eq!(server.get(&format!("/entities/{own}")).0, 404);
    let (_, history) = server.get(&format!("/entities/{own}/history"));
    assert_eq!(kinds(&history["events"]).last().map(String::as_str), Some("entity.retired"), "{history}");
    // A deleted record comes back when the source sends it again.
    let (_, back) = server.send("PUT", "/sources/webshop/records/W900001", &shop);
    assert_eq!((back["write"].as_str(), back["entity"].as_str()), (Some("updated"), Some(jurgen.as_str())), "{back}");

    // A batch: all in one transaction, one result each; a record without usable data is quarantined, and the
    // feed says so.
    let batch = json!([
        {"customer_ref": "S-900001", "contact": "Sanders, J.", "phone": "06 41205638", "city": "Maastricht"},
        {"customer_ref": "S-900002", "contact": "X"},
    ]);
    let (status, done) = server.send("POST", "/sources/support/records:batch", &batch);
    assert_eq!(status, 200, "{done}");
    let results = done["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["status"], "active");
    assert_eq!((results[1]["status"].as_str(), results[1]["entity"].is_null()), (Some("quarantined"), true));
    assert!(results[1]["issues"][0].as_str().is_some_and(|i| i.contains("no usable identifying data")), "{done}");
    let (_, feed) = server.get("/feed?limit=10000");
    let last = feed["events"].as_array().expect("events").last().cloned().expect("event");
    assert_eq!(
        (last["kind"].as_str(), last["payload"]["record"].as_str()),
        (Some("record.quarantined"), Some("support:S-900002"))
    );

    // Errors: unknown source, not an object, an id that contradicts the path, a batch item without id.
    let (status, e) = server.send("PUT", "/sources/nope/records/1", &json!({}));
    assert_eq!((status, e["code"].as_str()), (404, Some("not_found")), "{e}");
    let (status, e) = server.send("PUT", "/sources/webshop/records/W1", &json!([1]));
    assert_eq!((status, e["field"].as_str()), (400, Some("body")), "{e}");
    let (status, e) = server.send("PUT", "/sources/webshop/records/W1", &json!({"id": "W2"}));
    assert_eq!((status, e["field"].as_str()), (400, Some("id")), "{e}");
    let (status, e) = server.send("POST", "/sources/support/records:batch", &json!([{"contact": "A"}]));
    assert_eq!((status, e["field"].as_str()), (400, Some("[0].customer_ref")), "{e}");
    let (status, e) = server.send("DELETE", "/sources/webshop/records/never", &Value::Null);
    assert_eq!(status, 404, "{e}");
    let (status, e) = server.request("PUT", "/sources/webshop/records/W1", Some("{not json"));
    let e: Value = serde_json::from_str(&e).expect("the error body is JSON");
    assert_eq!((status, e["code"].as_str(), e["field"].as_str()), (400, Some("invalid"), Some("body")), "{e}");
}

#[test]
fn stewards_merge_and_unmerge_and_resolves_keep_their_pins() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let server = resolved_hub(d);
    let [one, three, five] = ["K000001", "K000003", "K000005"].map(|k| entity_of(&server, "crm", k).expect("resolved"));
    assert!(one != three && one != five && three != five);

    // Merge: the oldest id survives, the other redirects to it.
    let (status, merged) = server.send(
        "POST",
        "/entities/merge",
        &json!({"entities": [three, one], "by": "anna", "reason": "same customer"}),
    );
    assert_eq!(status, 200, "{merged}");
    let survivor = merged["entity"].as_str().expect("entity").to_string();
    let oldest = [&one, &three].into_iter().min_by_key(|e| e[1..].parse::<u64>().expect("number")).expect("one");
    assert_eq!(&survivor, oldest);
    let retired = if survivor == one { &three } else { &one };
    let (_, redirected) = server.get(&format!("/entities/{retired}"));
    assert_eq!(
        (redirected["id"].as_str(), redirected["redirected_from"].as_str()),
        (Some(survivor.as_str()), Some(retired.as_str()))
    );
    assert_eq!(entity_of(&server, "crm", "K000003"), entity_of(&server, "crm", "K000001"));
    let (_, history) = server.get(&format!("/entities/{survivor}/history"));
    let last = history["events"].as_array().expect("events").last().cloned().expect("event");
    assert_eq!(
        (last["payload"]["by"].as_str(), last["payload"]["evidence"][0]["rule"].as_str()),
        (Some("steward:anna (key:1:tests)"), Some("steward pin")),
        "{history}"
    );

    // Unmerge: K000003 leaves for a new entity.
    let (status, split) = server.send(
        "POST",
        &format!("/entities/{survivor}/unmerge"),
        &json!({"records": ["crm:K000003"], "by": "anna"}),
    );
    assert_eq!(status, 200, "{split}");
    let new = split["entity"].as_str().expect("entity").to_string();
    assert!(new != survivor && new != one && new != three, "{split}");
    assert_eq!(entity_of(&server, "crm", "K000003").as_deref(), Some(new.as_str()));
    assert_eq!(entity_of(&server, "crm", "K000001").as_deref(), Some(survivor.as_str()));

    // K000001 and K000005 are merged; a batch resolve in another process keeps both decisions.
    let (status, _) = server.send("POST", "/entities/merge", &json!({"entities": [survivor, five], "by": "bob"}));
    assert_eq!(status, 200);
    ok(d, &["-q", "resolve"]);
    let [a, b, c] = ["K000001", "K000003", "K000005"].map(|k| entity_of(&server, "crm", k).expect("resolved"));
    assert_eq!(a, c, "pinned together");
    assert_ne!(a, b, "pinned apart");

    // Errors: too few entities, a malformed id, a record that is not a member, an unknown entity.
    let (status, e) = server.send("POST", "/entities/merge", &json!({"entities": [a], "by": "anna"}));
    assert_eq!((status, e["field"].as_str()), (400, Some("entities")), "{e}");
    let (status, e) = server.send("POST", "/entities/merge", &json!({"entities": [a, "X1"]}));
    assert_eq!((status, e["field"].as_str()), (400, Some("entities")), "{e}");
    let (status, e) =
        server.send("POST", &format!("/entities/{a}/unmerge"), &json!({"records": ["crm:K000003"], "by": "anna"}));
    assert_eq!((status, e["code"].as_str()), (409, Some("conflict")), "{e}");
    let (status, _) =
        server.send("POST", "/entities/E999999/unmerge", &json!({"records": ["crm:K000003"], "by": "anna"}));
    assert_eq!(status, 404);
}

#[test]
fn an_acknowledged_upsert_survives_kill_9() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["generate", "--out", ".", "--records", "200", "--seed", "3"]);
    ok(d, &["-q", "ingest", "crm"]);
    ok(d, &["-q", "resolve"]);
    let record = json!({"customer": {"first_name": "Ada", "last_name": "Lovelace"}, "dob": "1915-12-10",
        "email": "ada@example.org", "address": {"city": "Londen"}});
    let entity = {
        let server = Server::start(d);
        let (status, put) = server.send("PUT", "/sources/webshop/records/W-ADA", &record);
        assert_eq!(status, 200, "{put}");
        put["entity"].as_str().expect("entity").to_string()
        // Dropping the server kills it with SIGKILL: no shutdown, no flush.
    };
    let server = Server::start(d);
    assert_eq!(entity_of(&server, "webshop", "W-ADA"), Some(entity));
}

/// The rows of a CSV source as the API takes them (column → text), leaving out rows the file reader rejects
/// (a field count that differs from the header's, no id in the first column).
fn csv_records(path: &std::path::Path, delimiter: u8, latin1: bool) -> Vec<Value> {
    let bytes = std::fs::read(path).expect("read");
    let text = if latin1 {
        encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned()
    } else {
        String::from_utf8(bytes).expect("UTF-8")
    };
    let mut reader = csv::ReaderBuilder::new().delimiter(delimiter).flexible(true).from_reader(text.as_bytes());
    let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_string).collect();
    reader
        .records()
        .filter_map(|row| row.ok())
        .filter(|row| row.len() == header.len() && !row[0].trim().is_empty())
        .map(|row| {
            Value::Object(header.iter().cloned().zip(row.iter().map(|v| Value::String(v.to_string()))).collect())
        })
        .collect()
}

/// Each record's entity, from `export --members` (`source,source_id,entity_id`).
fn memberships(dir: &std::path::Path) -> std::collections::BTreeMap<String, String> {
    ok(dir, &["export", "--members"])
        .lines()
        .skip(1)
        .filter_map(|l| {
            let mut parts = l.rsplitn(2, ',');
            let entity = parts.next()?.to_string();
            Some((parts.next()?.replacen(',', ":", 1), entity))
        })
        .collect()
}

#[test]
fn records_fed_one_by_one_cluster_as_the_batch_does() {
    // Batch: the four sources (two CSV files, one of them Latin-1 with semicolons, NDJSON, a JSON array)
    // ingested and resolved at once.
    let batch = tempfile::tempdir().expect("tempdir");
    let b = batch.path();
    ok(b, &["generate", "--out", ".", "--records", "2000", "--seed", "11"]);
    ok(b, &["-q", "ingest"]);
    ok(b, &["-q", "resolve"]);
    ok(b, &["model", "--export", "model.json"]);
    let batch_members = memberships(b);

    // Real time: a fresh hub with the same model; the same records pushed one at a time, in file order.
    let live = tempfile::tempdir().expect("tempdir");
    let l = live.path();
    for file in ["cdihub.toml", "crm.csv", "support.csv", "webshop.ndjson", "billing.json", "model.json"] {
        std::fs::copy(b.join(file), l.join(file)).expect("copy");
    }
    ok(l, &["model", "--import", "model.json"]);
    let server = Server::start(l);
    let shop = std::fs::read_to_string(l.join("webshop.ndjson")).expect("read");
    let bills: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(l.join("billing.json")).expect("read")).expect("json");
    let records = csv_records(&l.join("crm.csv"), b';', true)
        .into_iter()
        .map(|r| ("crm", "klantnr", r))
        .chain(csv_records(&l.join("support.csv"), b',', false).into_iter().map(|r| ("support", "customer_ref", r)))
        .chain(shop.lines().map(|line| ("webshop", "id", serde_json::from_str::<Value>(line).expect("json"))))
        .chain(bills.into_iter().map(|r| ("billing", "account", r)));
    let mut pushed = 0;
    for (source, id_field, record) in records {
        let id = record[id_field].as_str().expect("id").trim().to_string();
        let (status, body) = server.send("PUT", &format!("/sources/{source}/records/{id}"), &record);
        assert_eq!(status, 200, "{source}:{id}: {body}");
        pushed += 1;
    }
    let live_members = memberships(l);
    assert_eq!(live_members.len(), batch_members.len(), "the same records are matched ({pushed} pushed)");

    // The two clusterings agree: pairwise cluster F1 of one against the other.
    let scores = master::evaluate::cluster_scores(
        live_members.iter().map(|(key, entity)| (entity.clone(), batch_members.get(key).cloned().unwrap_or_default())),
    );
    eprintln!("batch vs real time ({pushed} records): {scores:?}");
    assert!(scores.f1 >= 0.99, "batch and real time disagree: {scores:?}");
}
