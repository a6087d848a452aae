//! `cdihub explain a b` (why two records do or do not match) and `cdihub model` (the trained parameters).

use crate::config_file;
use anyhow::{Context, Result};
use model::RecordKey;
use share::explain::{decision, explain_records, stored_model};
use std::path::Path;
use store::Store as _;

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

/// Arguments of `model`.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// Write the trained model as JSON to this file (e.g. to start another hub with it).
    #[arg(long, conflicts_with = "import")]
    pub export: Option<std::path::PathBuf>,
    /// Make the model in this JSON file (from `--export`) the hub's current model.
    #[arg(long)]
    pub import: Option<std::path::PathBuf>,
}

/// Prints, exports or imports the stored model.
pub fn run_model(config: &Path, args: ModelArgs) -> Result<()> {
    let (_, mut store) = config_file::load_with_store(config)?;
    if let Some(path) = args.import {
        let json = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let model: master::MatchModel =
            serde_json::from_str(&json).with_context(|| format!("{} is not a cdihub model", path.display()))?;
        store.save_model(&serde_json::to_string(&model)?, config_file::now())?;
        println!("imported the model from {} ({} comparisons)", path.display(), model.comparisons.len());
        return Ok(());
    }
    let model = stored_model(&store)?;
    match args.export {
        Some(path) => {
            std::fs::write(&path, serde_json::to_string(&model)?)
                .with_context(|| format!("writing {}", path.display()))?;
            println!("exported the model to {}", path.display());
        }
        None => print!("{}", model.describe()),
    }
    Ok(())
}
