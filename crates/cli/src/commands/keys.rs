//! `cdihub keys`: make an encryption key, and re-encrypt the database under the current key (rotation).

use crate::commands::audit::record;
use crate::config_file;
use anyhow::{Context, Result};
use govern::cipher::Keyring;
use std::path::Path;

/// Arguments of `keys`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Print a new random 256-bit key (64 hex digits) for `[encryption]`.
    Generate,
    /// Re-encrypt every encrypted value under the first configured key (and encrypt what was stored before
    /// encryption was switched on). Put the new key first, keep the old ones after it until this has run.
    Rotate,
}

/// Runs `keys`.
pub fn run(config: &Path, args: Args) -> Result<()> {
    match args.action {
        Action::Generate => println!("{}", Keyring::generate()?),
        Action::Rotate => {
            let (config, mut store) = config_file::load_with_store(config)?;
            if config.encryption.is_none() {
                anyhow::bail!("no [encryption] section in the configuration: nothing to rotate to");
            }
            let (key, columns) = store.reseal().context("re-encrypting")?;
            for (column, n) in &columns {
                println!("{column:<24} {n:>10} values");
            }
            println!("everything is now encrypted under key {key}; older keys can be removed from the configuration");
            record(&mut store, format!("keys rotate: re-encrypted under key {key}"))?;
        }
    }
    Ok(())
}
