//! `cdihub explain a b` (why two records do or do not match) and `cdihub model` (the trained parameters).

use crate::config_file;
use anyhow::{Context, Result};
use model::RecordKey;
use share::explain::{decision, explain_records, stored_model};
use std::path::Path;

/// Arguments of `explain`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// First record, source:id.
    pub a: String,
    /// Second record, source:id.
    pub b: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Prints the explanation of a pair under the stored model.
pub fn run(config: &Path, args: Args) -> Result<()> {
    let (config, store) = config_file::load_with_store(config)?;
    let key = |text: &str| RecordKey::parse(text).with_context(|| format!("`{text}` is not a record key (source:id)"));
    let explanation = explain_records(&store, &config, &key(&args.a)?, &key(&args.b)?)?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&explanation)?);
    } else {
        println!("{} vs {}", args.a, args.b);
        println!("{explanation}");
        let m = &config.master;
        let verdict = decision(&config, explanation.probability).replace('_', " ");
        println!("decision at thresholds {}/{}: {verdict}", m.match_threshold, m.review_threshold);
    }
    Ok(())
}

/// Prints the stored model.
pub fn run_model(config: &Path) -> Result<()> {
    let (_, store) = config_file::load_with_store(config)?;
    print!("{}", stored_model(&store)?.describe());
    Ok(())
}
