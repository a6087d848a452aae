//! `cdihub api-keys`: issue, list and revoke the API keys `cdihub serve` accepts. Whoever can run this on the
//! hub's configuration and database already holds all its data, so this is how the first (admin) key is made.

use crate::config_file::{self, now};
use anyhow::{Context, Result};
use share::api_keys::{DEFAULT_DAYS, KeyRequest, issue};
use std::path::Path;
use store::Store;

/// Arguments of `api-keys`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Issue a key and print it (the only time it is shown).
    Create {
        /// Who or what holds the key ("crm-sync", "alice").
        #[arg(long)]
        name: String,
        /// Its role: admin, steward, analyst, ingest-service, auditor, or one configured under [roles].
        #[arg(long)]
        role: String,
        /// Days until it expires.
        #[arg(long, default_value_t = DEFAULT_DAYS, conflicts_with = "no_expiry")]
        expires_in_days: u32,
        /// The key never expires.
        #[arg(long)]
        no_expiry: bool,
    },
    /// List the keys (never their secrets).
    List,
    /// Revoke a key: it stops working at once.
    Revoke {
        /// The key's id (the number in cdh_<id>_…).
        id: i64,
    },
}

/// Runs `api-keys`.
pub fn run(config: &Path, args: Args) -> Result<()> {
    let (config, mut store) = config_file::load_with_store(config)?;
    match args.action {
        Action::Create { name, role, expires_in_days, no_expiry } => {
            let roles = govern::Roles::new(&config);
            let request = KeyRequest {
                name,
                role,
                expires_in_days: (!no_expiry).then_some(expires_in_days),
                created_by: "cli".into(),
            };
            let (key, token) = issue(&mut store, &roles, request, now()).context("issuing the key")?;
            super::audit::record(&mut store, format!("api-keys create {} ({}, role {})", key.id, key.name, key.role))?;
            eprintln!("API key {} for `{}` (role {}); it is shown only now:", key.id, key.name, key.role);
            println!("{token}");
        }
        Action::List => {
            let at = now();
            for key in store.api_keys()? {
                let state = match (key.revoked_at, key.expires_at) {
                    (Some(r), _) => format!("revoked {}", date(r)),
                    (None, Some(e)) if e <= at => format!("expired {}", date(e)),
                    (None, Some(e)) => format!("expires {}", date(e)),
                    (None, None) => "never expires".into(),
                };
                println!(
                    "{:>5}  {:<16} {:<24} {}  (by {}, {})",
                    key.id,
                    key.role,
                    key.name,
                    state,
                    key.created_by,
                    date(key.created_at)
                );
            }
        }
        Action::Revoke { id } => {
            if !store.revoke_api_key(id, now())? {
                anyhow::bail!("no active API key {id} (see `cdihub api-keys list`)");
            }
            super::audit::record(&mut store, format!("api-keys revoke {id}"))?;
            println!("revoked API key {id}");
        }
    }
    Ok(())
}

/// A timestamp as a UTC date.
fn date(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map_or_else(|| seconds.to_string(), |d| d.format("%Y-%m-%d").to_string())
}
