//! Consent end to end: answers mapped from two sources, cleaned, merged by the most restrictive answer into the
//! golden record with its source, unreadable answers quarantined as values, and exports and search filtered by it.

use crate::http::Server;
use crate::ok;
use serde_json::Value;
use std::path::Path;

const CONFIG: &str = r#"
[store]
path = "hub.db"

[[source]]
name = "crm"
format = "csv"
path = "crm.csv"
id = "id"
trust = 2
[source.fields]
full_name = "name"
email = "email"
[source.consent]
email_marketing = "newsletter"

[[source]]
name = "shop"
format = "csv"
path = "shop.csv"
id = "id"
[source.fields]
full_name = "name"
email = "email"
[source.consent]
email_marketing = "marketing ok"
profiling = "profiling"
"#;

const CRM: &str = "id,name,email,newsletter
C1,Anna Smit,anna.smit@example.org,yes
C2,Bert Bos,bert.bos@example.org,Opt-In
C3,Carla Kok,carla.kok@example.org,ja
C4,Dirk Mol,dirk.mol@example.org,
C5,Eva Wit,eva.wit@example.org,maybe
";

const SHOP: &str = "id,name,email,marketing ok,profiling
S1,Anna Smit,anna.smit@example.org,no,yes
S2,Bert Bos,bert.bos@example.org,true,
";

fn write(dir: &Path) {
    std::fs::write(dir.join("cdihub.toml"), CONFIG).expect("config");
    std::fs::write(dir.join("crm.csv"), CRM).expect("crm");
    std::fs::write(dir.join("shop.csv"), SHOP).expect("shop");
}

fn consent(shown: &Value, purpose: &str) -> Option<(String, String, String)> {
    shown["golden"]["values"]
        .as_array()
        .expect("values")
        .iter()
        .find(|v| v["attribute"] == format!("consent.{purpose}"))
        .map(|v| {
            let from = format!(
                "{}:{}",
                v["from"]["source"].as_str().unwrap_or_default(),
                v["from"]["source_id"].as_str().unwrap_or_default()
            );
            (
                v["value"].as_str().unwrap_or_default().to_string(),
                from,
                v["rule"].as_str().unwrap_or_default().to_string(),
            )
        })
}

#[test]
fn consent_survives_merges_most_restrictively_and_filters_exports_and_search() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    write(d);
    let ingest = ok(d, &["ingest"]);
    assert!(ingest.contains("dropped values 1"), "Eva's `maybe` is not an answer: {ingest}");
    ok(d, &["-q", "resolve"]);
    let quarantine = ok(d, &["quarantine"]);
    assert!(quarantine.contains("consent.email_marketing") && quarantine.contains("maybe"), "{quarantine}");

    let show = |key: &str| -> Value { serde_json::from_str(&ok(d, &["show", key, "--json"])).expect("json") };
    let anna = show("crm:C1");
    assert_eq!(anna["members"].as_array().map(Vec::len), Some(2), "Anna's records are one entity: {anna}");
    assert_eq!(
        consent(&anna, "email_marketing"),
        Some(("refused".into(), "shop:S1".into(), "restrictive".into())),
        "one refusal outweighs the grant of the more trusted source"
    );
    assert_eq!(consent(&anna, "profiling").map(|c| c.0), Some("granted".into()));
    let when = consent(&anna, "email_marketing.at").expect("the refusal's time");
    assert!(when.0.ends_with('Z') && when.1 == "shop:S1", "{when:?}");
    let bert = show("crm:C2");
    assert_eq!(consent(&bert, "email_marketing").map(|c| c.0), Some("granted".into()));
    assert_eq!(consent(&show("crm:C3"), "email_marketing").map(|c| c.0), Some("granted".into()));
    assert_eq!(consent(&show("crm:C4"), "email_marketing"), None, "no answer is no consent");
    assert_eq!(consent(&show("crm:C5"), "email_marketing"), None);

    let all = ok(d, &["export", "--format", "ndjson"]);
    assert_eq!(all.lines().count(), 5);
    let mailable = ok(d, &["export", "--format", "ndjson", "--consent", "email_marketing"]);
    let names: Vec<String> = mailable
        .lines()
        .map(|l| {
            let g: Value = serde_json::from_str(l).expect("json");
            g["values"]
                .as_array()
                .expect("values")
                .iter()
                .find(|v| v["attribute"] == "family_name")
                .map(|v| v["value"].as_str().unwrap_or_default().to_string())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(names, ["Bos", "Kok"], "{mailable}");
    let csv = ok(d, &["export", "--consent", "profiling"]);
    assert_eq!(csv.lines().count(), 2, "a header and Anna: {csv}");

    // The API shows consent like any golden value and filters search by it.
    let server = Server::start(d);
    let (status, found) = server.get("/search?q=example.org&limit=10");
    assert_eq!(status, 200, "{found}");
    let (status, mailable) = server.get("/search?q=example.org&limit=10&consent=email_marketing");
    assert_eq!(status, 200, "{mailable}");
    let hits = |v: &Value| v["hits"].as_array().map(Vec::len).unwrap_or_default();
    assert_eq!((hits(&found), hits(&mailable)), (5, 2), "{found} {mailable}");
    let (_, entity) = server.get("/lookup?source=crm&id=C1");
    let refused = entity["golden"]
        .as_array()
        .expect("golden")
        .iter()
        .any(|v| v["attribute"] == "consent.email_marketing" && v["value"] == "refused");
    assert!(refused, "{entity}");
}
