//! `cdihub serve`: the real binary listening on a free port over a real SQLite file, spoken to over HTTP.

use crate::http::Server;
use crate::{cdihub, ok};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

#[test]
fn serve_answers_reads_with_documented_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["generate", "--out", ".", "--records", "800", "--seed", "4"]);
    ok(d, &["-q", "ingest"]);
    // Before any resolution: reads work, explain says there is no model yet.
    let server = Server::start(d);
    assert_eq!(server.get("/health"), (200, serde_json::json!({"status": "ok"})));
    let (status, body) = server.get("/explain?a=crm:K000001&b=crm:K000002");
    assert_eq!((status, body["code"].as_str()), (409, Some("not_ready")), "{body}");
    drop(server);

    ok(d, &["-q", "resolve"]);
    let shown: serde_json::Value =
        serde_json::from_str(&ok(d, &["show", "crm:K000002", "--json"])).expect("show --json");
    let entity = format!("E{}", shown["id"]);
    let server = Server::start(d);

    // Lookup by source key and by entity id give the same entity, with provenance and members.
    let (status, by_key) = server.get("/lookup?source=crm&id=K000002");
    assert_eq!(status, 200, "{by_key}");
    assert_eq!(by_key["id"], entity.as_str());
    let (status, by_id) = server.get(&format!("/entities/{entity}"));
    assert_eq!((status, &by_id), (200, &by_key));
    let family = by_id["golden"].as_array().expect("golden").iter().find(|v| v["attribute"] == "family_name");
    let family = family.expect("a family name survives");
    assert!(family["source"].is_string() && family["source_id"].is_string() && family["rule"].is_string());
    let members = by_id["members"].as_array().expect("members");
    assert!(members.iter().any(|m| m["source"] == "crm" && m["source_id"] == "K000002"), "{by_id}");
    assert!(members.iter().all(|m| m["record"].is_object()));

    // Search finds it by its family name.
    let name = family["value"].as_str().expect("name");
    let (status, found) = server.get(&format!("/search?q={}&limit=50", name.replace(' ', "%20")));
    assert_eq!(status, 200, "{found}");
    assert!(found["hits"].as_array().expect("hits").iter().any(|h| h["entity"] == entity.as_str()), "{found}");

    // Explain agrees with the command line.
    let (status, explained) = server.get("/explain?a=crm:K000001&b=crm:K000002");
    assert_eq!(status, 200, "{explained}");
    let cli: serde_json::Value =
        serde_json::from_str(&ok(d, &["explain", "crm:K000001", "crm:K000002", "--json"])).expect("json");
    assert_eq!(explained["probability"], cli["probability"]);
    assert!(["match", "review", "no_match"].contains(&explained["decision"].as_str().expect("decision")));

    // The change feed lists the records ingest quarantined, then every entity the resolution created, in pages a
    // consumer resumes from.
    let (status, page) = server.get("/feed?limit=5");
    assert_eq!(status, 200, "{page}");
    let events = page["events"].as_array().expect("events");
    assert_eq!(events.len(), 5);
    let quarantined = |e: &serde_json::Value| {
        e["kind"] == "record.quarantined"
            && e["payload"]["record"].is_string()
            && e["payload"]["reasons"][0].is_string()
    };
    assert!(events.iter().all(quarantined), "{page}");
    let last = page["last"].as_i64().expect("last");
    assert_eq!(Some(last), events[4]["seq"].as_i64());
    let (_, next) = server.get(&format!("/feed?after={last}&limit=1"));
    assert!(next["events"][0]["seq"].as_i64().is_some_and(|s| s > last), "{next}");
    let (_, everything) = server.get("/feed?limit=10000");
    let all = everything["events"].as_array().expect("events");
    let created = all.iter().filter(|e| e["kind"] == "entity.created").count();
    let bad = all.iter().take_while(|e| quarantined(e)).count();
    assert_eq!(bad + created, all.len(), "quarantined records first, then the entities: {everything}");
    assert!(bad >= 5);
    let members = ok(d, &["export", "--members"]);
    let entities: std::collections::BTreeSet<&str> =
        members.lines().skip(1).filter_map(|l| l.rsplit(',').next()).collect();
    assert_eq!(created, entities.len(), "one entity.created per entity of a first resolution");
    let (status, end) = server.get(&format!("/feed?after={}", everything["last"]));
    assert_eq!((status, end["events"].as_array().map(Vec::len), &end["last"]), (200, Some(0), &everything["last"]));
    // An entity's history: its creation, with its records.
    let (status, history) = server.get(&format!("/entities/{entity}/history"));
    assert_eq!(status, 200, "{history}");
    assert_eq!(history["events"][0]["kind"], "entity.created");
    let recorded = history["events"][0]["payload"]["records"].as_array().expect("records");
    assert!(recorded.iter().any(|r| r == "crm:K000002"), "{history}");

    // Errors: one body shape, the right status, the field at fault.
    for (path, status, code, field) in [
        ("/entities/E999999", 404, "not_found", None),
        ("/entities/crm:1", 400, "invalid", Some("id")),
        ("/lookup?source=crm", 400, "invalid", Some("id")),
        ("/lookup?source=crm&id=nope", 404, "not_found", None),
        ("/search?q=", 400, "invalid", Some("q")),
        ("/search?q=x&limit=0", 400, "invalid", Some("limit")),
        ("/explain?a=crm:K000001&b=nonsense", 400, "invalid", Some("b")),
        ("/explain?a=crm:K000001&b=crm:nope", 404, "not_found", None),
        ("/no/such/thing", 404, "not_found", None),
        ("/entities/E999999/history", 404, "not_found", None),
        ("/feed?after=-1", 400, "invalid", Some("after")),
        ("/feed?limit=0", 400, "invalid", Some("limit")),
    ] {
        let (got, body) = server.get(path);
        assert_eq!((got, body["code"].as_str(), body["field"].as_str()), (status, Some(code), field), "{path}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{path}: {body}");
    }

    // The OpenAPI document describes these endpoints, and the docs page renders it.
    let (status, spec) = server.get("/openapi.json");
    assert_eq!(status, 200);
    assert!(spec["openapi"].as_str().is_some_and(|v| v.starts_with("3.")));
    for path in ["/entities/{id}", "/entities/{id}/history", "/lookup", "/search", "/explain", "/feed", "/health"] {
        assert!(spec["paths"][path]["get"]["responses"]["200"].is_object(), "{path} documented");
    }
    let (status, page) = server.get_text("/docs");
    assert_eq!(status, 200);
    assert!(page.contains("GET /lookup") && page.contains("/openapi.json"));
}

#[test]
fn serve_refuses_an_address_it_cannot_use() {
    let dir = tempfile::tempdir().expect("tempdir");
    ok(dir.path(), &["init"]);
    let out = cdihub(dir.path(), &["serve", "--listen", "not-an-address"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("cannot listen on not-an-address"), "{stderr}");
}

#[test]
fn demo_serve_runs_the_pipeline_then_serves_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_cdihub"))
        .current_dir(dir.path())
        .args(["-q", "demo", "--records", "400", "--serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("cdihub demo starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut token = None;
    let address = loop {
        let line = lines.next().expect("the demo prints its key and address before serving").expect("a line");
        if let Some(key) = line.trim().strip_prefix("cdh_") {
            token = Some(format!("cdh_{key}"));
        }
        if let Some(address) = line.strip_prefix("cdihub serving http://") {
            break address.split_whitespace().next().expect("address").to_string();
        }
    };
    assert!(token.is_some(), "the demo prints an API key");
    let server = Server { child, address, token };
    let (status, entity) = server.get("/lookup?source=crm&id=K000001");
    assert_eq!(status, 200, "{entity}");
    assert!(entity["id"].as_str().is_some_and(|id| id.starts_with('E')), "{entity}");
}

/// Reads a Server-Sent Events response until `wanted` more events have arrived (each read waits at most 20 s);
/// returns (sequence number, event kind) of each.
fn read_events(stream: &mut TcpStream, wanted: usize) -> Vec<(i64, String)> {
    stream.set_read_timeout(Some(std::time::Duration::from_secs(20))).expect("timeout");
    let (mut text, mut buffer) = (String::new(), [0u8; 65536]);
    let mut events = Vec::new();
    while events.len() < wanted {
        let n = stream.read(&mut buffer).expect("the stream stays open and delivers");
        assert!(n > 0, "the server closed the stream");
        text.push_str(&String::from_utf8_lossy(&buffer[..n]));
        events = text
            .split("\n\n")
            .filter_map(|block| {
                let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name).map(str::trim));
                Some((field("id:")?.parse().ok()?, field("event:")?.to_string()))
            })
            .collect();
    }
    events
}

fn open_stream(server: &Server, path: &str, last_event_id: Option<i64>) -> TcpStream {
    let address = &server.address;
    let mut stream = TcpStream::connect(address).expect("connect");
    let resume = last_event_id.map(|id| format!("Last-Event-ID: {id}\r\n")).unwrap_or_default();
    let auth = Server::authorization(server.token.as_deref());
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: text/event-stream\r\n{auth}{resume}\r\n")
        .expect("send");
    stream
}

#[test]
fn the_feed_streams_live_and_resumes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["generate", "--out", ".", "--records", "600", "--seed", "5"]);
    ok(d, &["-q", "ingest", "crm"]);
    ok(d, &["-q", "resolve"]);
    let server = Server::start(d);
    let (_, page) = server.get("/feed?limit=10000");
    let first_run = page["events"].as_array().expect("events").len();
    assert!(first_run > 3);

    // The stream replays what is there, in order.
    let mut live = open_stream(&server, "/feed/stream?after=0", None);
    let replayed = read_events(&mut live, first_run);
    assert!(replayed.windows(2).all(|w| w[0].0 < w[1].0), "in sequence order");
    assert!(replayed.iter().all(|(_, kind)| kind == "entity.created"));
    let last = replayed.last().expect("events").0;

    // Another source arrives and is resolved by another process: its events reach the open stream.
    ok(d, &["-q", "ingest", "webshop"]);
    ok(d, &["-q", "resolve"]);
    let (_, after) = server.get(&format!("/feed?after={last}&limit=10000"));
    let new = after["events"].as_array().expect("events").len();
    assert!(new > 0, "the second resolution changed entities");
    let more = read_events(&mut live, new);
    assert!(more.iter().all(|(seq, _)| *seq > last));
    assert!(more.iter().any(|(_, kind)| kind == "entity.updated" || kind == "entity.created"));

    // A client that reconnects with Last-Event-ID gets only what it missed.
    let mut resumed = open_stream(&server, "/feed/stream", Some(last));
    let missed = read_events(&mut resumed, new);
    assert_eq!(missed, more);
    let (status, body) = server.get("/feed/stream?after=-5");
    assert_eq!((status, body["field"].as_str()), (400, Some("after")), "{body}");
}
