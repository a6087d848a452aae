//! Loading `cdihub.toml` and opening the store it names.

use anyhow::{Context, Result};
use govern::cipher::Keyring;
use model::Config;
use std::path::Path;
use std::sync::Arc;
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

/// Opens (creating if needed) the configured database, encrypting personal data when `[encryption]` is set.
pub fn open_store(config: &Config) -> Result<SqliteStore> {
    let path = config.store_path();
    SqliteStore::open_with(&path, keyring(config)?).with_context(|| format!("opening the database {}", path.display()))
}

/// The encryption keys `[encryption]` points to (none when it is absent).
pub fn keyring(config: &Config) -> Result<Option<Arc<Keyring>>> {
    let Some(encryption) = &config.encryption else { return Ok(None) };
    let text = match &encryption.key_file {
        Some(file) => {
            let path = config.resolve(file);
            std::fs::read_to_string(&path)
                .with_context(|| format!("encryption: cannot read the key file {}", path.display()))?
        }
        None => std::env::var(encryption.env_name()).with_context(|| {
            format!(
                "encryption: set {} to the keys (64 hex digits each; `cdihub keys generate`)",
                encryption.env_name()
            )
        })?,
    };
    let keys = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default())
        .flat_map(|l| l.split([',', ' ', '\t']))
        .filter(|k| !k.trim().is_empty());
    let ring = Keyring::from_hex(keys).context("encryption: the keys are unusable")?;
    Ok(Some(Arc::new(ring)))
}

/// Loads the configuration and opens its store.
pub fn load_with_store(path: &Path) -> Result<(Config, SqliteStore)> {
    let config = load(path)?;
    let store = open_store(&config)?;
    Ok((config, store))
}

pub use share::clock::now;
