//! Store errors.

/// Anything that went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database reported an error.
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored JSON value could not be read or written.
    #[error("stored JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A stored clean form could not be read.
    #[error("stored record: {0}")]
    Clean(#[from] crate::clean_codec::DecodeError),
    /// A stored golden record could not be read.
    #[error("stored golden record: {0}")]
    Golden(#[from] crate::golden_codec::DecodeError),
    /// The database file was made by a newer cdihub.
    #[error("the database schema is version {found}, newer than this cdihub understands ({supported})")]
    SchemaTooNew {
        /// Version in the file.
        found: i64,
        /// Newest version this build knows.
        supported: i64,
    },
    /// The caller broke a contract (e.g. clusters and ids of different lengths).
    #[error("store: {0}")]
    Invalid(String),
}

/// Result of a store operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
