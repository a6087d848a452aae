//! Share the golden records with the outside world: the HTTP API ([`api`]) over the real-time hub
//! ([`realtime`]: records pushed in, matched and merged at once), explanations of a pair of stored records, and
//! exports of golden records (CSV, NDJSON with full provenance) and of memberships
//! (`source,source_id,entity_id`), streamed from the store.

pub mod api;
pub mod api_keys;
pub mod clock;
pub mod explain;
mod export;
pub mod ingest;
pub mod realtime;
pub mod subject;
pub mod webhooks;

pub use export::{ExportFormat, consents_to, export_golden, export_members};

/// What can go wrong while exporting.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading the store failed.
    #[error(transparent)]
    Store(#[from] store::Error),
    /// Writing the output failed.
    #[error("writing the export: {0}")]
    Io(#[from] std::io::Error),
    /// Writing CSV failed.
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    /// A stored golden record could not be read.
    #[error("stored golden record: {0}")]
    Json(#[from] serde_json::Error),
}

/// Result of an export.
pub type Result<T, E = Error> = std::result::Result<T, E>;
