//! `cdihub explain a b` (why two records do or do not match) and `cdihub model` (the trained parameters).

use crate::config_file;
use anyhow::{Context, Result};
use master::MatchModel;
use master::features::FeatureBuilder;
use model::RecordKey;
use std::path::Path;
use store::Store;

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

fn stored_model(store: &dyn Store) -> Result<MatchModel> {
    let json = store.latest_model()?.context("no trained model yet: run `cdihub resolve` first")?;
    serde_json::from_str(&json).context("reading the stored model")
}

/// Prints the explanation of a pair under the stored model.
pub fn run(config: &Path, args: Args) -> Result<()> {
    let (config, store) = config_file::load_with_store(config)?;
    let model = stored_model(&store)?;
    let builder = FeatureBuilder::new(model.identifier_names.clone());
    let mut features = Vec::new();
    for text in [&args.a, &args.b] {
        let key = RecordKey::parse(text).with_context(|| format!("`{text}` is not a record key (source:id)"))?;
        let record =
            store.record(&key)?.with_context(|| format!("no usable record {key} (see `cdihub quarantine`)"))?;
        let source = config.sources.iter().position(|s| s.name == key.source).unwrap_or(usize::MAX) as u32;
        features.push(builder.build(source, &record.clean));
    }
    let explanation = master::explain::explain(&model, &features[0], &features[1]);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&explanation)?);
    } else {
        println!("{} vs {}", args.a, args.b);
        println!("{explanation}");
        let m = &config.master;
        let verdict = if explanation.probability >= m.match_threshold {
            "match"
        } else if explanation.probability >= m.review_threshold {
            "review"
        } else {
            "no match"
        };
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
