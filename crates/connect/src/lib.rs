//! Read source systems and map their columns onto the canonical customer schema.
//!
//! [`open_source`] streams [`model::SourceRecord`]s from a CSV, NDJSON or JSON file; a row that cannot be read
//! is a [`RowError`] (quarantined by the caller, reading goes on), a file that cannot be read at all is an
//! [`Error`]. [`Mapper`] turns a source record into a [`model::CustomerRecord`] by the source's configuration.

mod delimited;
mod error;
pub mod json;
mod mapping;

pub use error::{Error, Result, RowError};
pub use mapping::{ColumnSlots, Mapper};

use model::{SourceConfig, SourceFormat, SourceRecord};
use std::path::Path;

/// A stream of records, or rows that could not be read.
pub type RecordStream = Box<dyn Iterator<Item = std::result::Result<SourceRecord, RowError>> + Send>;

/// Opens a source file and streams its records. Fails only when the file itself is unusable (missing,
/// unreadable, no header, id column absent).
pub fn open_source(config: &SourceConfig, path: &Path) -> Result<RecordStream> {
    match config.format {
        SourceFormat::Csv => delimited::open(config, path),
        SourceFormat::Ndjson => json::open_ndjson(config, path),
        SourceFormat::Json => json::open_array(config, path),
    }
}
