//! Every command of the binary on a small data set: init, show, search, explain, review, model, export.

use super::{fails, ok};

#[test]
fn init_writes_a_config_that_loads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let out = ok(d, &["init"]);
    assert!(out.contains("wrote cdihub.toml") && out.contains("database ready"), "{out}");
    assert!(d.join("cdihub.db").exists());
    let again = ok(d, &["init"]);
    assert!(again.contains("already exists"), "{again}");
}

#[test]
fn commands_on_generated_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    ok(d, &["generate", "--out", ".", "--records", "1500", "--seed", "3"]);
    ok(d, &["-q", "ingest"]);
    ok(d, &["-q", "resolve"]);

    let shown = ok(d, &["show", "crm:K000002"]);
    assert!(shown.starts_with("entity E"), "{shown}");
    assert!(shown.contains("family_name") && shown.contains("from crm:") || shown.contains("from "), "{shown}");
    let entity = shown.split_whitespace().nth(1).expect("id").to_string();
    let by_id = ok(d, &["show", &entity]);
    assert_eq!(by_id, shown);
    fails(d, &["show", "E999999"]);
    fails(d, &["show", "nonsense"]);

    let json: serde_json::Value = serde_json::from_str(&ok(d, &["show", &entity, "--json"])).expect("json");
    let family = json["golden"]["values"]
        .as_array()
        .expect("values")
        .iter()
        .find(|v| v["attribute"] == "family_name")
        .expect("family name survives")
        .clone();
    assert!(family["from"]["source"].is_string() && family["rule"].is_string(), "{family}");

    let name = family["value"].as_str().expect("name").to_string();
    let hits = ok(d, &["search", &name]);
    assert!(hits.contains(&entity), "search {name}: {hits}");

    let explained = ok(d, &["explain", "crm:K000001", "crm:K000002"]);
    assert!(explained.contains("family_name") && explained.contains("match probability"), "{explained}");
    let ej: serde_json::Value =
        serde_json::from_str(&ok(d, &["explain", "crm:K000001", "crm:K000002", "--json"])).expect("json");
    let p = ej["probability"].as_f64().expect("probability");
    assert!((0.0..=1.0).contains(&p));
    fails(d, &["explain", "crm:K000001", "crm:nope"]);

    let model = ok(d, &["model"]);
    assert!(model.contains("Fellegi-Sunter") && model.contains("m estimated by EM"), "{model}");
    ok(d, &["review"]);
    ok(d, &["quarantine"]);

    ok(d, &["export", "-o", "golden.csv"]);
    let csv = std::fs::read_to_string(d.join("golden.csv")).expect("csv");
    assert!(csv.starts_with("entity_id,given_name"), "{}", &csv[..80.min(csv.len())]);
    let ndjson = ok(d, &["export", "--format", "ndjson"]);
    let first: serde_json::Value = serde_json::from_str(ndjson.lines().next().expect("a line")).expect("json");
    assert!(first["values"][0]["from"]["source_id"].is_string(), "{first}");
    let members = ok(d, &["export", "--members"]);
    assert!(members.starts_with("source,source_id,entity_id\n"));
    assert!(members.lines().count() > 1000, "one row per matched record");
    assert_eq!(csv.lines().count() - 1, ndjson.lines().count());
}
