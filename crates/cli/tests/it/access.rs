//! Access control end to end: every endpoint of the OpenAPI document, under every built-in role, a custom role,
//! and without a usable credential (none, malformed, unknown, expired, revoked), answers as declared; analysts
//! see personal data masked; keys are issued, listed and revoked over the API.

use crate::http::{Server, issue_key};
use crate::{fails, ok};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

/// What each role grants, as documented (README "Access"): the test's own copy, not the server's table.
fn grants(role: &str, permission: &str) -> bool {
    match role {
        "admin" => true,
        "steward" => ["entities.read", "pii.read", "entities.steward", "feed.read", "docs.read"].contains(&permission),
        "analyst" => ["entities.read", "feed.read", "docs.read"].contains(&permission),
        "ingest-service" => ["records.write", "docs.read"].contains(&permission),
        "auditor" => ["audit.read", "entities.read", "feed.read", "docs.read"].contains(&permission),
        "marketing" => ["entities.read"].contains(&permission),
        other => panic!("no grants known for {other}"),
    }
}

/// A concrete path and body for an operation of the OpenAPI document.
fn request_for(method: &str, path: &str, entity: &str) -> (String, Option<String>) {
    let concrete = path
        .replace("/entities/{id}", &format!("/entities/{entity}"))
        .replace("/subjects/{id}", &format!("/subjects/{entity}"))
        .replace("/sources/{source}/records/{id}", "/sources/crm/records/K999999")
        .replace("/sources/{source}", "/sources/crm")
        .replace("/webhooks/{id}", "/webhooks/999")
        .replace("/api-keys/{id}", "/api-keys/999");
    let concrete = match concrete.as_str() {
        "/lookup" => "/lookup?source=crm&id=K000001".to_string(),
        "/search" => "/search?q=smith".to_string(),
        "/explain" => "/explain?a=crm:K000001&b=crm:K000002".to_string(),
        _ => concrete,
    };
    let body = match (method, path) {
        ("PUT", _) => Some(json!({"first_name": "Ada", "last_name": "Lovelace"}).to_string()),
        ("POST", "/sources/{source}/records:batch") => Some("[]".into()),
        ("POST", _) => Some("{}".into()),
        _ => None,
    };
    (concrete, body)
}

/// Sends a request and reads only the status line and headers (a stream's body never ends).
fn status_and_head(
    server: &Server,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> (u16, String) {
    let mut stream = TcpStream::connect(&server.address).expect("connect");
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30))).expect("timeout");
    let body = body.unwrap_or_default();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\n{}\
         Content-Length: {}\r\n\r\n{body}",
        server.address,
        Server::authorization(token),
        body.len()
    )
    .expect("send");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).expect("read") == 1 {
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).expect("status");
    (status, head)
}

fn set_expired(dir: &Path, id: i64) {
    let db = rusqlite::Connection::open(dir.join("cdihub.db")).expect("open");
    db.execute("UPDATE api_keys SET expires_at = 1000 WHERE id = ?1", [id]).expect("expire");
}

fn key_id(token: &str) -> i64 {
    token.split('_').nth(1).and_then(|id| id.parse().ok()).expect("id")
}

#[test]
fn every_endpoint_answers_every_role_as_declared() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["generate", "--out", ".", "--records", "600", "--seed", "5"]);
    let mut config = std::fs::read_to_string(d.join("cdihub.toml")).expect("config");
    config.push_str("\n[roles.marketing]\npermissions = [\"entities.read\"]\n");
    std::fs::write(d.join("cdihub.toml"), config).expect("write");
    ok(d, &["-q", "ingest"]);
    ok(d, &["-q", "resolve"]);
    let roles = ["admin", "steward", "analyst", "ingest-service", "auditor", "marketing"];
    let keys: Vec<(&str, String)> = roles.iter().map(|r| (*r, issue_key(d, &format!("{r}-key"), r, &[]))).collect();
    let expired = issue_key(d, "old", "admin", &[]);
    set_expired(d, key_id(&expired));
    let revoked = issue_key(d, "gone", "admin", &[]);
    ok(d, &["api-keys", "revoke", &key_id(&revoked).to_string()]);
    let unknown = format!("cdh_999_{}", "0".repeat(64));
    let wrong_secret = format!("cdh_{}_{}", key_id(&keys[0].1), "0".repeat(64));
    let server = Server::start(d);
    let shown: Value = serde_json::from_str(&ok(d, &["show", "crm:K000001", "--json"])).expect("show");
    let entity = format!("E{}", shown["id"]);

    let (status, spec) = server.get("/openapi.json");
    assert_eq!(status, 200);
    let mut operations = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let description = operation["description"].as_str().unwrap_or_default();
            let declared = if description.contains("Needs no credential.") {
                None
            } else {
                let needs = description.split("Needs the permission `").nth(1).and_then(|r| r.split('`').next());
                Some(needs.unwrap_or_else(|| panic!("{method} {path} declares no permission")).to_string())
            };
            operations.push((method.to_uppercase(), path.clone(), declared));
        }
    }
    assert_eq!(operations.len(), 26, "{operations:?}");
    let public: Vec<&str> = operations.iter().filter(|o| o.2.is_none()).map(|o| o.1.as_str()).collect();
    assert_eq!(public, ["/health"], "only health needs no credential");

    let mut checked = 0;
    for (method, path, declared) in &operations {
        let (concrete, body) = request_for(method, path, &entity);
        for bad in [
            None,
            Some("not-a-key"),
            Some(unknown.as_str()),
            Some(wrong_secret.as_str()),
            Some(&expired),
            Some(&revoked),
        ] {
            let (status, head) = status_and_head(&server, bad, method, &concrete, body.as_deref());
            if declared.is_none() {
                assert_eq!(status, 200, "{method} {path} is public");
            } else {
                assert_eq!(status, 401, "{method} {path} with {bad:?}: {head}");
                assert!(head.to_ascii_lowercase().contains("www-authenticate: bearer"), "{head}");
            }
            checked += 1;
        }
        for (role, token) in &keys {
            let (status, head) = status_and_head(&server, Some(token), method, &concrete, body.as_deref());
            match declared {
                Some(permission) if !grants(role, permission) => {
                    assert_eq!(status, 403, "{role} lacks {permission}: {method} {path}: {head}")
                }
                _ => assert!(![401, 403].contains(&status), "{role} may {method} {path}, got {status}: {head}"),
            }
            checked += 1;
        }
    }
    assert!(checked >= 26 * 12, "{checked}");

    // The body of a refusal says why.
    let analyst = &keys[2].1;
    let (status, body) = server.request_as(Some(analyst), "POST", "/entities/merge", Some("{}"));
    let body: Value = serde_json::from_str(&body).expect("json");
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| m.contains("entities.steward")), "{body}");
    let (_, body) = server.request_as(Some(&revoked), "GET", "/feed", None);
    assert!(body.contains("revoked"), "{body}");
    let (_, body) = server.request_as(Some(&expired), "GET", "/feed", None);
    assert!(body.contains("expired"), "{body}");

    // HEAD asks what GET asks; a method a route does not have is a 405 that names the ones it has.
    let admin = keys[0].1.as_str();
    let path = format!("/entities/{entity}");
    let (status, head) = status_and_head(&server, Some(admin), "HEAD", &path, None);
    assert_eq!(status, 200, "{head}");
    assert_eq!(status_and_head(&server, None, "HEAD", &path, None).0, 401);
    let ingest_service = keys[3].1.as_str();
    assert_eq!(status_and_head(&server, Some(ingest_service), "HEAD", &path, None).0, 403, "it may not GET it either");
    for (method, path, allow) in [("PATCH", path.as_str(), "GET, HEAD"), ("DELETE", "/health", "GET, HEAD")] {
        let (status, head) = status_and_head(&server, Some(admin), method, path, None);
        assert_eq!(status, 405, "{method} {path}: {head}");
        assert!(head.to_ascii_lowercase().contains(&format!("allow: {}", allow.to_ascii_lowercase())), "{head}");
    }
    let (status, head) = status_and_head(&server, None, "PUT", "/webhooks", Some("{}"));
    assert!(status == 405 && head.to_ascii_lowercase().contains("allow: post, get, head"), "{head}");
}

#[test]
fn analysts_see_personal_data_masked_and_keys_are_managed_over_the_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["generate", "--out", ".", "--records", "400", "--seed", "3"]);
    ok(d, &["-q", "ingest"]);
    ok(d, &["-q", "resolve"]);
    let server = Server::start(d);

    // An admin issues keys over the API; the token is shown once and works at once.
    let (status, created) = server.send("POST", "/api-keys", &json!({"name": "ana", "role": "analyst"}));
    assert_eq!(status, 201, "{created}");
    let analyst = created["token"].as_str().expect("token").to_string();
    assert!(created["key"]["expires_at"].as_i64().is_some(), "keys expire by default: {created}");
    let (_, created) =
        server.send("POST", "/api-keys", &json!({"name": "stew", "role": "steward", "expires_in_days": 7}));
    let steward = created["token"].as_str().expect("token").to_string();
    let (status, bad) = server.send("POST", "/api-keys", &json!({"name": "x", "role": "root"}));
    assert_eq!((status, bad["field"].as_str()), (400, Some("role")), "{bad}");
    let (_, listed) = server.get("/api-keys");
    let text = listed.to_string();
    assert!(text.contains("\"ana\"") && !text.contains("argon2") && !text.contains(&analyst[10..]), "{listed}");

    // The same entity: a steward sees it whole, an analyst masked.
    let lookup = "/lookup?source=crm&id=K000001";
    let (status, whole) = server.request_as(Some(&steward), "GET", lookup, None);
    assert_eq!(status, 200, "{whole}");
    let (status, masked) = server.request_as(Some(&analyst), "GET", lookup, None);
    assert_eq!(status, 200, "{masked}");
    let (whole, masked): (Value, Value) =
        (serde_json::from_str(&whole).expect("json"), serde_json::from_str(&masked).expect("json"));
    let value = |body: &Value, attribute: &str| {
        body["golden"]
            .as_array()
            .expect("golden")
            .iter()
            .find(|v| v["attribute"] == attribute)
            .map(|v| v["value"].clone())
    };
    for attribute in ["family_name", "email", "phone", "birth_date"] {
        let (Some(plain), Some(hidden)) = (value(&whole, attribute), value(&masked, attribute)) else { continue };
        assert_ne!(plain, hidden, "{attribute}");
        assert!(hidden.as_str().is_some_and(|h| h.contains('*')), "{attribute}: {hidden}");
        assert!(!masked.to_string().contains(plain.as_str().expect("text")), "{attribute} {plain} leaks into {masked}");
    }
    assert_eq!(whole["id"], masked["id"]);
    let email = value(&masked, "email").expect("an email survives");
    assert!(email.as_str().is_some_and(|e| e.contains("***@")), "{email}");

    // Revoked over the API: it stops working at once.
    let id = created["key"]["id"].as_i64().expect("id");
    let (status, _) = server.request("DELETE", &format!("/api-keys/{id}"), None);
    assert_eq!(status, 204);
    let (status, body) = server.request_as(Some(&steward), "GET", lookup, None);
    assert_eq!(status, 401, "{body}");
    let (status, _) = server.request("DELETE", &format!("/api-keys/{id}"), None);
    assert_eq!(status, 404, "revoked already");
}

#[test]
fn changes_and_unmasked_reads_are_audited_and_tampering_is_found() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["generate", "--out", ".", "--records", "300", "--seed", "2"]);
    ok(d, &["-q", "ingest", "crm"]);
    ok(d, &["-q", "resolve"]);
    let steward = issue_key(d, "stew", "steward", &[]);
    let analyst = issue_key(d, "ana", "analyst", &[]);
    let auditor = issue_key(d, "aud", "auditor", &[]);
    let server = Server::start(d);
    let lookup = "/lookup?source=crm&id=K000001";
    assert_eq!(server.request_as(Some(&steward), "GET", lookup, None).0, 200);
    assert_eq!(server.request_as(Some(&analyst), "GET", lookup, None).0, 200);
    let (status, _) = server.send("PUT", "/sources/crm/records/K777777", &json!({"first_name": "Ada"}));
    assert!(status == 200 || status == 400, "{status}");

    // Refusals are recorded too: no key at all, and a key whose role lacks the permission.
    assert_eq!(server.request_as(None, "GET", "/feed", None).0, 401);
    assert_eq!(server.request_as(Some(&steward), "GET", "/api-keys", None).0, 403);
    let (status, page) = server.request_as(Some(&auditor), "GET", "/audit?limit=1000", None);
    assert_eq!(status, 200, "{page}");
    let page: Value = serde_json::from_str(&page).expect("json");
    let entries = page["entries"].as_array().expect("entries");
    let targets: Vec<String> =
        entries.iter().map(|e| format!("{} {} {} {}", e["actor"], e["action"], e["origin"], e["target"])).collect();
    let find = |needle: &str| targets.iter().any(|t| t.contains(needle));
    assert!(find("ingest crm") && find("resolve: ") && find("api-keys create"), "commands: {targets:#?}");
    assert!(targets.iter().any(|t| t.contains(":stew\" \"read\" \"127.0.0.1\" \"GET /lookup")), "{targets:#?}");
    assert!(!find(":ana\""), "a masked read is not a read of personal data: {targets:#?}");
    assert!(find("\"change\" \"127.0.0.1\" \"PUT /sources/crm/records/K777777"), "{targets:#?}");
    assert!(!find(":aud\""), "reading the trail is not itself an unmasked read");
    assert!(find("\"anonymous\" \"denied\" \"127.0.0.1\" \"GET /feed"), "{targets:#?}");
    assert!(find(":stew\" \"denied\" \"127.0.0.1\" \"GET /api-keys"), "{targets:#?}");
    let seqs: Vec<i64> = entries.iter().map(|e| e["seq"].as_i64().expect("seq")).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    drop(server);

    assert!(ok(d, &["audit", "verify"]).contains("intact"));
    // An anchor kept elsewhere catches the newest entries being cut off.
    let anchor = ok(d, &["audit", "head"]).trim().to_string();
    assert!(ok(d, &["audit", "verify", "--anchor", &anchor]).contains("intact"));
    let db = rusqlite::Connection::open(d.join("cdihub.db")).expect("open");
    let last: i64 = db.query_row("SELECT MAX(seq) FROM audit", [], |r| r.get(0)).expect("max");
    db.execute_batch(&format!("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = {last}")).expect("truncate");
    drop(db);
    assert!(ok(d, &["audit", "verify"]).contains("intact"), "a cut-off tail alone still chains");
    let error = fails(d, &["audit", "verify", "--anchor", &anchor]);
    assert!(error.contains("is gone"), "{error}");
    let db = rusqlite::Connection::open(d.join("cdihub.db")).expect("open");
    let refused = db.execute("UPDATE audit SET actor = 'cli:nobody' WHERE seq = 2", []);
    assert!(refused.is_err(), "the trail refuses edits through SQLite");
    db.execute_batch("DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'cli:nobody' WHERE seq = 2")
        .expect("edit");
    drop(db);
    let error = fails(d, &["audit", "verify"]);
    assert!(error.contains("audit entry 2") && error.contains("altered"), "{error}");
}
