//! Master data matching, pure: no IO. Finds which records are the same customer and builds golden records.
//!
//! The path: [`features::FeatureBuilder`] folds clean records into match features → [`block`] finds
//! candidate pairs → [`compare`] grades each field → [`train`] learns a Fellegi–Sunter [`MatchModel`] without
//! labels → [`resolve()`] scores and [`cluster`]s → [`survive::golden`] picks each attribute's value.
//! [`explain::explain`] shows why a pair scored as it did.

pub mod block;
pub mod block_index;
pub mod bucket_sort;
pub mod cluster;
pub mod compare;
pub mod evaluate;
pub mod explain;
pub mod features;
pub mod identity;
pub mod incremental;
pub mod keys;
pub mod layout;
pub mod match_model;
pub mod names;
pub mod resolve;
pub mod similarity;
pub mod survive;
pub mod train;

pub use match_model::MatchModel;
pub use resolve::{Decision, MasterError, Pins, Resolution, ResolveReport, ScoredPair, resolve};
