//! `cdihub retention`: purge the records each source has not sent for longer than its `retention_days`, and
//! recompute their entities' golden records (`cdihub serve` does this on its own schedule too).

use crate::commands::audit::record;
use crate::config_file::{self, now};
use anyhow::{Context, Result};
use std::path::Path;
use store::Store;

/// Arguments of `retention`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only count what would be purged.
    #[arg(long)]
    pub dry_run: bool,
}

/// Runs `retention`.
pub fn run(config: &Path, args: Args) -> Result<()> {
    let (config, mut store) = config_file::load_with_store(config)?;
    let sources = config.retention();
    if sources.is_empty() {
        println!("no source sets retention_days: nothing to purge");
        return Ok(());
    }
    if args.dry_run {
        for (source, days) in &sources {
            let due = store.expired_records(source, now() - i64::from(*days) * 86_400)?.len();
            println!("{source}: {due} records not seen for {days} days would be purged");
        }
        return Ok(());
    }
    let mut hub = share::realtime::Hub::open(config, &mut store).context("opening the real-time hub")?;
    let report = hub.purge_expired(&mut store)?;
    for (source, purged) in &report {
        let days = sources.iter().find(|(s, _)| s == source).map_or(0, |(_, d)| *d);
        println!("{source}: purged {purged} records not seen for {days} days");
        if *purged > 0 {
            record(&mut store, format!("retention: {purged} records of {source} purged"))?;
        }
    }
    Ok(())
}
