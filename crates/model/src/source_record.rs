//! A record as a connector read it: source, source id and raw field values, untouched.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// Identifies one record in one source system: `crm:10023`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RecordKey {
    /// Name of the source as declared in `cdihub.toml`.
    pub source: String,
    /// The record's identifier inside that source.
    pub source_id: String,
}

impl RecordKey {
    /// Builds a key from its two parts.
    pub fn new(source: impl Into<String>, source_id: impl Into<String>) -> Self {
        RecordKey { source: source.into(), source_id: source_id.into() }
    }

    /// Parses `source:id`; the id may itself contain colons.
    pub fn parse(text: &str) -> Option<Self> {
        let (source, id) = text.split_once(':')?;
        (!source.is_empty() && !id.is_empty()).then(|| RecordKey::new(source, id))
    }
}

impl fmt::Display for RecordKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.source, self.source_id)
    }
}

/// What a connector produced for one row or document: raw values by column (nested paths flattened with dots).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRecord {
    /// Source and source id.
    pub key: RecordKey,
    /// 1-based line (CSV, NDJSON) or array index (JSON) where the record was read, for error messages.
    pub line: u64,
    /// Raw values by column name or dotted path.
    pub fields: BTreeMap<String, String>,
}
