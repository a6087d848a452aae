//! Malformed inputs end in quarantine or a clear error, never a panic: truncated lines, wrong encodings,
//! 10 MB fields, empty and missing files, broken JSON, binary garbage.

use super::{cdihub, fails, ok};
use std::path::Path;

const CONFIG: &str = r#"
[[source]]
name = "crm"
format = "csv"
path = "crm.csv"
id = "id"
country = "NL"
[source.fields]
full_name = "name"
email = "email"
phone = "phone"
birth_date = "dob"

[[source]]
name = "shop"
format = "ndjson"
path = "shop.ndjson"
id = "id"
country = "NL"
[source.fields]
full_name = "name"
email = "contact.email"
"#;

fn setup(crm: &[u8], shop: &[u8]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("cdihub.toml"), CONFIG).expect("config");
    std::fs::write(dir.path().join("crm.csv"), crm).expect("crm");
    std::fs::write(dir.path().join("shop.ndjson"), shop).expect("shop");
    dir
}

fn quarantine(d: &Path) -> Vec<serde_json::Value> {
    ok(d, &["quarantine", "--json", "--limit", "1000"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

#[test]
fn truncated_lines_and_bad_values_are_quarantined_with_reasons() {
    let crm = b"id,name,email,phone,dob\n\
        1,Henk de Vries,henk@ziggo.nl,0612345678,03-04-1961\n\
        2,Anna Bos\n\
        3,Piet Jansen,not-an-email,12,31-02-1980\n\
        ,Nobody,nobody@x.nl,,\n\
        4,,,,\n";
    let shop = b"{\"id\": \"a\", \"name\": \"Henk de Vries\", \"contact\": {\"email\": \"henk@ziggo.nl\"}}\n\
        {\"id\": \"b\", \"name\": \"Truncated\n\
        [1, 2, 3]\n\
        {\"name\": \"no id\", \"contact\": {\"email\": \"x@y.nl\"}}\n\
        \n";
    let dir = setup(crm, shop);
    let d = dir.path();
    let out = ok(d, &["-q", "ingest"]);
    assert!(out.contains("crm: read 5, new 3"), "{out}");
    let q = quarantine(d);
    let reasons: Vec<String> = q.iter().map(|e| e["reason"].as_str().unwrap_or_default().to_string()).collect();
    let has = |needle: &str| reasons.iter().any(|r| r.contains(needle));
    assert!(has("row has 2 fields but the header has 5"), "{reasons:?}");
    assert!(has("not a valid email address"), "{reasons:?}");
    assert!(has("not a real date"), "{reasons:?}");
    assert!(has("the id column `id` is empty"), "{reasons:?}");
    assert!(has("no usable identifying data"), "{reasons:?}");
    assert!(has("not valid JSON"), "{reasons:?}");
    assert!(has("expected a JSON object"), "{reasons:?}");
    assert!(has("the id field `id` is missing"), "{reasons:?}");
    // Every entry names its source and line.
    assert!(q.iter().all(|e| e["source"].is_string() && e["line"].as_u64().is_some_and(|l| l > 0)), "{q:?}");
    // What is usable still resolves: Henk from both sources is one entity.
    ok(d, &["-q", "resolve"]);
    let a = ok(d, &["show", "crm:1", "--json"]);
    let b = ok(d, &["show", "shop:a", "--json"]);
    let id = |s: &str| serde_json::from_str::<serde_json::Value>(s).expect("json")["id"].clone();
    assert_eq!(id(&a), id(&b));
}

#[test]
fn wrong_encoding_huge_fields_and_garbage_do_not_crash() {
    let mut crm = b"id,name,email,phone,dob\n1,Andr\xe9 Lef\xe8vre,andre@x.fr,,1970-01-01\n".to_vec();
    crm.extend_from_slice(b"2,");
    crm.extend(std::iter::repeat_n(b'x', 10 * 1024 * 1024));
    crm.extend_from_slice(b",big@x.nl,,\n3,\"unterminated,quote@x.nl,,\n");
    let garbage: Vec<u8> = (0..20_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let dir = setup(&crm, &garbage);
    let d = dir.path();
    let out = ok(d, &["-q", "ingest"]);
    assert!(out.contains("crm: read"), "{out}");
    let q = quarantine(d);
    assert!(q.iter().any(|e| e["reason"].as_str().is_some_and(|r| r.contains("longer than"))), "{q:?}");
    // Latin-1 bytes in a file with encoding = auto are decoded, not rejected.
    ok(d, &["-q", "resolve"]);
    let shown = ok(d, &["show", "crm:1"]);
    assert!(shown.contains("André") && shown.contains("Lefèvre"), "{shown}");

    // Declared UTF-8 but Latin-1 inside: the row is quarantined with a hint.
    let strict = CONFIG.replacen("country = \"NL\"", "country = \"NL\"\nencoding = \"utf-8\"", 1);
    std::fs::write(d.join("cdihub.toml"), strict).expect("config");
    ok(d, &["-q", "ingest", "crm"]);
    let q = quarantine(d);
    assert!(q.iter().any(|e| e["reason"].as_str().is_some_and(|r| r.contains("latin1"))), "{q:?}");
}

#[test]
fn empty_and_missing_files_are_clear_errors() {
    let dir = setup(b"", b"");
    let d = dir.path();
    let err = fails(d, &["ingest", "crm"]);
    assert!(err.contains("empty") && err.contains("crm.csv"), "{err}");
    let out = ok(d, &["ingest", "shop"]);
    assert!(out.contains("shop: read 0"), "{out}");
    std::fs::remove_file(d.join("crm.csv")).expect("rm");
    let err = fails(d, &["ingest", "crm"]);
    assert!(err.contains("crm.csv"), "{err}");
    let err = fails(d, &["ingest", "nosuch"]);
    assert!(err.contains("no source named `nosuch`"), "{err}");
    let err = fails(d, &["resolve"]);
    assert!(err.contains("no records to resolve"), "{err}");
}

#[test]
fn configuration_mistakes_are_explained() {
    let dir = setup(b"id,name,email,phone,dob\n1,x,,,\n", b"");
    let d = dir.path();
    std::fs::write(
        d.join("cdihub.toml"),
        CONFIG.replace("full_name = \"name\"\nemail = \"email\"", "full_name = \"naam\"\nemail = \"email\""),
    )
    .expect("config");
    let err = fails(d, &["ingest", "crm"]);
    assert!(err.contains("maps column `naam`, which the header lacks"), "{err}");
    std::fs::write(d.join("cdihub.toml"), "[[source]]\nname = \"x\"\nformat = \"xml\"\npath = \"a\"\nid = \"i\"\n")
        .expect("config");
    let err = fails(d, &["ingest"]);
    assert!(err.contains("xml"), "{err}");
    std::fs::write(d.join("cdihub.toml"), "[master]\nblocking = [[\"email\"], [\"shoe_size\"]]\n").expect("config");
    let err = fails(d, &["ingest"]);
    assert!(err.contains("unknown match key `shoe_size`"), "{err}");
    std::fs::write(d.join("cdihub.toml"), "[[master.rules]]\nname = \"r\"\nkeys = [\"shoe\"]\n").expect("config");
    let err = fails(d, &["ingest"]);
    assert!(err.contains("deterministic rule `r`"), "{err}");
    let out = cdihub(d, &["-c", "missing.toml", "ingest"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("cdihub init"));
}

#[test]
fn a_stored_clean_form_that_does_not_read_stops_the_resolution_with_an_error() {
    let crm = b"id,name,email,phone,dob\n\
        1,Henk de Vries,henk@ziggo.nl,0612345678,03-04-1961\n\
        2,Anna Bos,anna@bos.nl,0687654321,12-05-1970\n\
        3,Piet Jansen,piet@jansen.nl,0611122233,01-02-1980\n";
    let dir = setup(crm, b"");
    let d = dir.path();
    ok(d, &["ingest"]);
    let db = rusqlite::Connection::open(d.join("cdihub.db")).expect("open");
    // Cut short after its header: the first look at every clean form (for identifiers) reads only the header.
    db.execute("UPDATE records SET clean = substr(clean, 1, length(clean) - 5) WHERE source_id = '2'", [])
        .expect("damage");
    drop(db);
    let err = fails(d, &["resolve"]);
    assert!(err.contains("clean form truncated"), "{err}");
    // Nothing was resolved: the hub holds no entity.
    assert!(!ok(d, &["export", "--format", "ndjson"]).contains("Henk"));
}
