//! `cdihub search <text>`: fuzzy search over golden records.

use crate::config_file;
use anyhow::Result;
use std::path::Path;
use store::Store;

/// Arguments of `search`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Words to look for: names, email, phone, postcode.
    #[arg(required = true)]
    pub text: Vec<String>,
    /// Most results.
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
}

/// Prints the best matches.
pub fn run(config: &Path, args: Args) -> Result<()> {
    let (_, store) = config_file::load_with_store(config)?;
    let hits = store.search(&args.text.join(" "), args.limit)?;
    if hits.is_empty() {
        println!("no entity resembles `{}`", args.text.join(" "));
    }
    for h in hits {
        println!("{:<10} {:.3}  {}", h.entity.to_string(), h.score, h.name);
    }
    Ok(())
}
