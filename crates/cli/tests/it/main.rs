//! End-to-end tests: the real `cdihub` binary against real SQLite files in temporary directories.

mod access;
mod commands;
mod consent;
mod encryption;
mod febrl;
mod http;
mod malformed;
mod multi_source;
mod oidc;
mod privacy;
mod realtime;
mod retention;
mod serve;
mod tls;
mod webhooks;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `cdihub` with `args` in `dir`; returns the output whatever the exit status.
pub fn cdihub(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cdihub")).current_dir(dir).args(args).output().expect("cdihub runs")
}

/// Runs `cdihub` and insists that it succeeds; returns standard output.
pub fn ok(dir: &Path, args: &[&str]) -> String {
    let out = cdihub(dir, args);
    assert!(
        out.status.success(),
        "cdihub {args:?} failed:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `cdihub` and insists that it fails cleanly (an error message, no panic); returns standard error.
pub fn fails(dir: &Path, args: &[&str]) -> String {
    let out = cdihub(dir, args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "cdihub {args:?} should have failed");
    assert!(!stderr.contains("panicked"), "cdihub {args:?} panicked: {stderr}");
    assert!(stderr.starts_with("error: "), "cdihub {args:?}: {stderr}");
    stderr
}

/// Which of `needles` the database files in `dir` (the file, its write-ahead log, the log's index) hold as bytes,
/// each as `needle in file`.
pub fn scan_database(dir: &Path, needles: &[String]) -> Vec<String> {
    let mut hits = Vec::new();
    for name in ["cdihub.db", "cdihub.db-wal", "cdihub.db-shm"] {
        let Ok(bytes) = std::fs::read(dir.join(name)) else { continue };
        // Valid UTF-8 runs survive the lossy conversion, so any stored plaintext is still found (and std's
        // substring search is fast even in a debug build).
        let text = String::from_utf8_lossy(&bytes);
        hits.extend(needles.iter().filter(|n| text.contains(n.as_str())).map(|n| format!("{n} in {name}")));
    }
    hits
}

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The JSON printed by `eval --json`; `args` are the global options and then `eval`'s own.
pub fn eval_json(dir: &Path, config: &str, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["-c", config, "eval", "--json"];
    all.extend_from_slice(args);
    let text = ok(dir, &all);
    serde_json::from_str(text.trim()).expect("eval prints JSON")
}
