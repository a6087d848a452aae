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

#[test]
fn the_gen_people_example_resolves_a_flat_file_with_its_own_truth_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let config = std::fs::read_to_string(super::repo().join("examples/gen_people/cdihub.toml")).expect("example");
    std::fs::write(d.join("cdihub.toml"), config).expect("config");
    let mut csv =
        String::from("id,given_name,family_name,birth_date,street,house_number,postcode,city,email,phone,cluster\n");
    let people = [
        (
            "james",
            "smith",
            "1970-03-04",
            "oak street",
            "12",
            "12345",
            "springfield",
            "james.smith@gmail.com",
            "2025550101",
        ),
        ("mary", "jones", "1982-11-30", "elm avenue", "7", "54321", "fairview", "mary.jones@yahoo.com", "3125550199"),
        ("john", "miller", "1955-06-15", "pine road", "301", "67890", "riverton", "", "4155550123"),
    ];
    let mut n = 0;
    for (c, p) in people.iter().enumerate() {
        for variant in 0..3 {
            n += 1;
            let given = if variant == 1 { format!("{}x", p.0) } else { p.0.to_string() };
            let phone =
                if variant == 2 { format!("({}) {}-{}", &p.8[..3], &p.8[3..6], &p.8[6..]) } else { p.8.to_string() };
            csv.push_str(&format!(
                "r{n},{given},{},{},{},{},{},{},{},{phone},c{c}\n",
                p.1, p.2, p.3, p.4, p.5, p.6, p.7
            ));
        }
    }
    std::fs::write(d.join("people.csv"), csv).expect("data");
    ok(d, &["-q", "ingest"]);
    ok(d, &["-q", "resolve"]);
    let e = super::eval_json(d, "cdihub.toml", &["--truth-field", "cluster"]);
    assert_eq!(e["records"].as_u64(), Some(9), "{e}");
    assert_eq!(e["cluster"]["f1"].as_f64(), Some(1.0), "{e}");
    let err = fails(d, &["eval", "--truth-field", "no_such_column"]);
    assert!(err.contains("no stored record has a `no_such_column` column"), "{err}");
}

/// A file larger than one cleaning batch (10k rows) and one store transaction (50k records): every row is
/// counted once, a record repeated later in the file is a change to it (or nothing, when equal), a broken row is
/// quarantined with its line, and the database is back in WAL mode after the bulk writes.
#[test]
fn a_file_of_many_batches_is_ingested_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(
        d.join("cdihub.toml"),
        "[[source]]\nname = \"crm\"\nformat = \"csv\"\npath = \"crm.csv\"\nid = \"id\"\ncountry = \"NL\"\n\
         [source.fields]\nfull_name = \"name\"\nemail = \"email\"\n",
    )
    .expect("config");
    let mut csv = String::from("id,name,email\n");
    for i in 0..120_000 {
        csv.push_str(&format!("{i},Henk Vries{},p{i}@example.nl\n", i % 997));
    }
    csv.push_str("5,Henk Vries5,henk.vries@example.nl\n");
    csv.push_str("70000,Henk Vries210,p70000@example.nl\n");
    csv.push_str("120001,Truncated\n");
    std::fs::write(d.join("crm.csv"), csv).expect("csv");
    let out = ok(d, &["ingest"]);
    assert!(out.contains("crm: read 120003, new 120000, changed 1, unchanged 1, quarantined records 1"), "{out}");
    let quarantine = ok(d, &["quarantine", "--json"]);
    assert!(quarantine.contains("\"line\":120004") || quarantine.contains("\"line\": 120004"), "{quarantine}");
    // Again: record 5 changes twice more (its two rows differ), everything else is as stored.
    let again = ok(d, &["ingest"]);
    assert!(again.contains("read 120003, new 0, changed 2, unchanged 120000"), "{again}");
    let db = journal_mode(&d.join("cdihub.db"));
    assert_eq!(db, "wal");
}

/// The journal mode recorded in a database file's header: `wal` or `delete`.
fn journal_mode(path: &std::path::Path) -> &'static str {
    let bytes = std::fs::read(path).expect("database file");
    // Bytes 18 and 19 of the header are 2 in WAL mode, 1 in rollback-journal mode.
    if bytes.get(18) == Some(&2) && bytes.get(19) == Some(&2) { "wal" } else { "delete" }
}
