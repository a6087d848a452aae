//! `cdihub review`: the steward review queue (uncertain pairs, and joins the chaining guard vetoed).

use crate::config_file;
use anyhow::Result;
use std::path::Path;
use store::Store;

/// Arguments of `review`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Most pairs.
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
}

/// Lists pairs for review, most likely matches first.
pub fn run(config: &Path, args: Args) -> Result<()> {
    let (_, store) = config_file::load_with_store(config)?;
    let pairs = store.pairs("review", args.limit)?;
    if pairs.is_empty() {
        println!("nothing to review");
    }
    for p in pairs {
        println!("{:.4}  {:<7} {}  {}   (cdihub explain {} {})", p.probability, p.decision, p.a, p.b, p.a, p.b);
    }
    Ok(())
}
