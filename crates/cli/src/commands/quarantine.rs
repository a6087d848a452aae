//! `cdihub quarantine`: what was rejected, where, and why.

use crate::config_file;
use anyhow::Result;
use std::path::Path;
use store::Store;

/// Arguments of `quarantine`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this source.
    #[arg(long)]
    pub source: Option<String>,
    /// Most entries.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Print JSON lines.
    #[arg(long)]
    pub json: bool,
}

/// Lists quarantine entries.
pub fn run(config: &Path, args: Args) -> Result<()> {
    let (_, store) = config_file::load_with_store(config)?;
    let entries = store.quarantined(args.source.as_deref(), args.limit)?;
    if entries.is_empty() && !args.json {
        println!("quarantine is empty");
    }
    for e in entries {
        if args.json {
            println!("{}", serde_json::to_string(&e)?);
            continue;
        }
        let id = e.source_id.as_deref().unwrap_or("?");
        let field = e.field.as_deref().map(|f| format!(" {f}")).unwrap_or_default();
        let value = e.value.as_deref().map(|v| format!(" {v:?}")).unwrap_or_default();
        println!("{}:{} line {} [{}]{field}{value}: {}", e.source, id, e.line, e.severity, e.reason);
    }
    Ok(())
}
