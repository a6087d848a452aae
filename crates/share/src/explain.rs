//! Explaining a pair of stored records under the stored model: what `cdihub explain` prints and
//! `GET /explain` answers.

use master::MatchModel;
use master::explain::Explanation;
use master::features::FeatureBuilder;
use model::{Config, RecordKey};
use store::Store;

/// Why a pair cannot be explained.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExplainError {
    /// Nothing has been resolved yet, so there is no model.
    #[error("no trained model yet: run `cdihub resolve` first")]
    NoModel,
    /// The record is not in the store, or is quarantined.
    #[error("no usable record {0} (see `cdihub quarantine`)")]
    NoRecord(RecordKey),
    /// The stored model could not be read.
    #[error("reading the stored model: {0}")]
    Model(#[from] serde_json::Error),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// The stored model.
pub fn stored_model(store: &dyn Store) -> Result<MatchModel, ExplainError> {
    let json = store.latest_model()?.ok_or(ExplainError::NoModel)?;
    Ok(serde_json::from_str(&json)?)
}

/// Explains the match score of two stored records under the stored model.
pub fn explain_records(
    store: &dyn Store,
    config: &Config,
    a: &RecordKey,
    b: &RecordKey,
) -> Result<Explanation, ExplainError> {
    let model = stored_model(store)?;
    let builder = FeatureBuilder::new(model.identifier_names.clone());
    let mut features = Vec::with_capacity(2);
    for key in [a, b] {
        let record = store.record(key)?.ok_or_else(|| ExplainError::NoRecord(key.clone()))?;
        features.push(builder.build(config.source_index(&key.source), &record.clean));
    }
    Ok(master::explain::explain(&model, &features[0], &features[1]))
}

/// What the configured thresholds make of a probability: `match`, `review` or `no_match`.
pub fn decision(config: &Config, probability: f64) -> &'static str {
    if probability >= config.master.match_threshold {
        "match"
    } else if probability >= config.master.review_threshold {
        "review"
    } else {
        "no_match"
    }
}
