//! Errors of the connectors: whole-file failures ([`Error`]) and single unreadable rows ([`RowError`]).

use std::path::PathBuf;

/// A source file that cannot be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The file has no header row, or the header cannot be decoded.
    #[error("{path}: {message}")]
    Header {
        /// The file.
        path: PathBuf,
        /// What is wrong with the header.
        message: String,
    },
    /// The configuration names a column the file does not have.
    #[error("{path}: source `{source_name}` maps column `{column}`, which the header lacks; columns are: {columns}")]
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The source's name.
        source_name: String,
        /// The missing column.
        column: String,
        /// The columns the header does have.
        columns: String,
    },
    /// A JSON-array file that is not a JSON array of objects.
    #[error("{path}: {message}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
}

/// Result of a whole-file operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One row or document that could not be read; the caller quarantines it and reading goes on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line (or array index) of the row.
    pub line: u64,
    /// The record's id, when it could be read.
    pub source_id: Option<String>,
    /// The raw row as far as it could be recovered, shortened.
    pub raw: String,
    /// Why it could not be read.
    pub reason: String,
}

impl RowError {
    /// Builds a row error, keeping at most 1,000 bytes of the raw text.
    pub fn new(line: u64, raw: &str, reason: impl Into<String>) -> Self {
        let mut end = raw.len().min(1000);
        while !raw.is_char_boundary(end) {
            end -= 1;
        }
        RowError { line, source_id: None, raw: raw[..end].to_string(), reason: reason.into() }
    }

    /// The same error, naming the record's id.
    pub fn with_id(mut self, id: Option<String>) -> Self {
        self.source_id = id.filter(|i| !i.trim().is_empty());
        self
    }
}
