//! The FEBRL benchmark sets through the real binary, with the shipped example configurations: accuracy floors.

use super::{eval_json, ok, repo};

/// Copies an example configuration into a temporary directory, pointing it at the shared data.
fn example(name: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let shared = repo().join("../shared").canonicalize().expect("../shared exists beside the repository");
    let text = std::fs::read_to_string(repo().join("examples/febrl").join(name)).expect("example config");
    let text = text.replace("../../../shared", &shared.display().to_string());
    std::fs::write(dir.path().join(name), text).expect("write config");
    (dir, name.to_string())
}

fn cluster_f1(name: &str) -> f64 {
    let (dir, config) = example(name);
    let d = dir.path();
    ok(d, &["-q", "-c", &config, "ingest"]);
    ok(d, &["-q", "-c", &config, "resolve"]);
    let e = eval_json(d, &config, &["--truth-regex", r"^(rec-\d+)"]);
    e["cluster"]["f1"].as_f64().expect("cluster f1")
}

#[test]
fn febrl3_dedup_cluster_f1_at_least_0_99() {
    let f1 = cluster_f1("febrl3.toml");
    assert!(f1 >= 0.99, "FEBRL-3 cluster F1 {f1}");
}

#[test]
fn febrl4_link_cluster_f1_at_least_0_99() {
    let f1 = cluster_f1("febrl4.toml");
    assert!(f1 >= 0.99, "FEBRL-4 cluster F1 {f1}");
}
