//! Loading `cdihub.toml` and opening the store it names.

use anyhow::{Context, Result};
use model::Config;
use std::path::Path;
use store::SqliteStore;

/// Reads and validates the configuration; relative paths in it are relative to the file.
pub fn load(path: &Path) -> Result<Config> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!("cannot read {}; run `cdihub init` to create one, or pass --config", path.display())
    })?;
    let base = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let config = Config::parse(&text, base).with_context(|| format!("in {}", path.display()))?;
    // Matching rules name match keys; an unknown one is reported now, not after a long ingest.
    master::resolve::blocking_rules(&config.master, &[]).with_context(|| format!("in {}", path.display()))?;
    for rule in &config.master.rules {
        master::keys::KeyRule::parse(&rule.keys)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("in {}: deterministic rule `{}`", path.display(), rule.name))?;
    }
    Ok(config)
}

/// Opens (creating if needed) the configured database.
pub fn open_store(config: &Config) -> Result<SqliteStore> {
    let path = config.store_path();
    SqliteStore::open(&path).with_context(|| format!("opening the database {}", path.display()))
}

/// Loads the configuration and opens its store.
pub fn load_with_store(path: &Path) -> Result<(Config, SqliteStore)> {
    let config = load(path)?;
    let store = open_store(&config)?;
    Ok((config, store))
}

pub use share::clock::now;
