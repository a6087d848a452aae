//! Encryption at rest end to end: a hub switched to encryption and re-encrypted holds no plaintext e-mail address
//! or phone number anywhere in its database files — neither what was ingested before, nor what real-time pushes,
//! searches and webhook registrations add after — while everything still reads; keys rotate, and a database read
//! with the wrong key or none fails with a clear error.

use crate::http::Server;
use crate::{fails, ok, scan_database};
use regex::Regex;
use serde_json::{Value, json};
use std::path::Path;

/// Every e-mail address and phone number in the source files (as written there) and in the golden records (as
/// cleaned: E.164).
fn identifiers(dir: &Path) -> Vec<String> {
    let email = Regex::new(r"[A-Za-z0-9._+-]+@[A-Za-z0-9.-]+\.[a-z]{2,}").expect("regex");
    let phone = Regex::new(r"\+?\d[\d \-()]{7,16}\d").expect("regex");
    let mut found = Vec::new();
    for file in ["crm.csv", "webshop.ndjson", "support.csv", "billing.json"] {
        let bytes = std::fs::read(dir.join(file)).expect("source file");
        let text = String::from_utf8_lossy(&bytes);
        found.extend(email.find_iter(&text).map(|m| m.as_str().to_string()));
        found.extend(
            phone
                .find_iter(&text)
                .map(|m| m.as_str().to_string())
                .filter(|p| p.chars().filter(char::is_ascii_digit).count() >= 9),
        );
    }
    for line in ok(dir, &["export", "--format", "ndjson"]).lines() {
        let golden: Value = serde_json::from_str(line).expect("json");
        for v in golden["values"].as_array().expect("values") {
            if v["attribute"] == "email" || v["attribute"] == "phone" {
                found.push(v["value"].as_str().expect("text").to_string());
            }
        }
    }
    found.sort();
    found.dedup();
    found
}

fn set_keys(dir: &Path, keys: &[&str]) {
    std::fs::write(dir.join("keys.txt"), format!("# current key first\n{}\n", keys.join("\n"))).expect("keys");
}

#[test]
fn with_encryption_no_email_or_phone_is_stored_in_plain_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["generate", "--out", ".", "--records", "400", "--seed", "12"]);
    ok(d, &["-q", "ingest"]);
    ok(d, &["-q", "resolve"]);
    let mut needles = identifiers(d);
    assert!(needles.len() > 300, "{}", needles.len());
    assert!(!scan_database(d, &needles).is_empty(), "without encryption they are there");

    // Switched on: what is stored already is encrypted by a rotation.
    let first = ok(d, &["keys", "generate"]).trim().to_string();
    assert_eq!(first.len(), 64);
    set_keys(d, &[&first]);
    let mut config = std::fs::read_to_string(d.join("cdihub.toml")).expect("config");
    config.push_str("\n[encryption]\nkey_file = \"keys.txt\"\n");
    std::fs::write(d.join("cdihub.toml"), config).expect("config");
    let rotated = ok(d, &["keys", "rotate"]);
    assert!(rotated.contains("record_versions.raw") && rotated.contains("golden.search"), "{rotated}");
    let found = scan_database(d, &needles);
    assert!(found.is_empty(), "after encrypting what was stored: {found:?}");

    // Real time on top: a pushed record, a search and a lookup (audited), a webhook with its secret.
    let server = Server::start(d);
    let (status, pushed) = server.send(
        "PUT",
        "/sources/crm/records/K900001",
        &json!({"klantnr": "K900001", "naam": "Wilhelmina Zonneveld", "email": "w.zonneveld@example.org",
                "telefoon": "06 9988 7766", "postcode": "1234 AB", "adres": "Dorpsstraat 12", "woonplaats": "Ede"}),
    );
    assert_eq!(status, 200, "{pushed}");
    let (status, hits) = server.get("/search?q=zonneveld");
    assert_eq!(status, 200);
    assert_eq!(hits["hits"][0]["name"].as_str().map(|n| n.contains("Zonneveld")), Some(true), "{hits}");
    let (status, found) = server.get("/lookup?source=crm&id=K900001");
    assert_eq!(status, 200, "{found}");
    assert!(found.to_string().contains("w.zonneveld@example.org"), "reads decrypt: {found}");
    let (status, hook) = server.send("POST", "/webhooks", &json!({"url": "http://127.0.0.1:9/hook"}));
    assert_eq!(status, 201, "{hook}");
    let secret = hook["secret"].as_str().expect("secret").to_string();
    drop(server);
    needles.extend(["w.zonneveld@example.org".into(), "+31699887766".into(), "06 9988 7766".into(), secret]);
    needles.push("zonneveld".into());
    let found = scan_database(d, &needles);
    assert!(found.is_empty(), "after real-time writes: {found:?}");

    // Everything still reads: the entity, the search (by exact words), exports, the audit trail's chain.
    let shown = ok(d, &["show", "crm:K000001"]);
    assert!(shown.contains("entity E"), "{shown}");
    assert!(ok(d, &["search", "zonneveld"]).contains("Zonneveld"));
    assert!(ok(d, &["audit", "verify"]).contains("intact"));
    let quarantine = ok(d, &["quarantine"]);
    assert!(!quarantine.trim().is_empty());
    // An erasure works on encrypted data too (its feed and audit scrubbing read through the seals).
    let erased = ok(d, &["gdpr", "erase", "crm:K000002", "--requested-by", "DSR-7"]);
    assert!(erased.contains("receipt 1"), "{erased}");
    assert!(ok(d, &["gdpr", "erasures"]).contains("DSR-7"));
    assert!(ok(d, &["audit", "verify"]).contains("intact"));

    // Rotation: a new key first, the old one after; once re-encrypted, the new key alone suffices.
    let second = ok(d, &["keys", "generate"]).trim().to_string();
    set_keys(d, &[&second, &first]);
    ok(d, &["keys", "rotate"]);
    set_keys(d, &[&second]);
    assert!(ok(d, &["show", "crm:K900001"]).contains("Zonneveld"));
    // A batch resolve opens the sealed clean forms with the key and writes everything sealed again.
    assert!(ok(d, &["resolve"]).contains("resolved"));
    assert!(ok(d, &["show", "crm:K900001"]).contains("Zonneveld"));
    assert!(scan_database(d, &needles).is_empty());
    set_keys(d, &[&first]);
    let error = fails(d, &["show", "crm:K900001"]);
    assert!(error.contains("not configured"), "the old key alone no longer opens it: {error}");
    let config = std::fs::read_to_string(d.join("cdihub.toml")).expect("config");
    std::fs::write(d.join("cdihub.toml"), config.replace("[encryption]\nkey_file = \"keys.txt\"\n", "")).expect("w");
    let error = fails(d, &["show", "crm:K900001"]);
    assert!(error.contains("no encryption keys are configured"), "{error}");
    // The batch load reads the sealed clean forms itself (not through unseal_blob): the same refusal.
    let error = fails(d, &["resolve"]);
    assert!(error.contains("no encryption keys are configured"), "{error}");
}
