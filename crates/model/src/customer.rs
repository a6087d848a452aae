//! The canonical customer schema: a source record after column mapping, still with raw (uncleaned) values.

use crate::Field;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A source record mapped onto the canonical schema. Values are raw strings; `clean` standardises them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRecord {
    /// Values per canonical field; several for multi-valued fields (emails, phones), otherwise one.
    pub fields: BTreeMap<Field, Vec<String>>,
    /// Source-specific identifiers (customer number, national id, chamber-of-commerce number), by name.
    pub identifiers: BTreeMap<String, String>,
    /// Free extra attributes the schema lacks, kept for the golden record.
    pub attributes: BTreeMap<String, String>,
    /// The customer's consent answers by purpose (`email_marketing`), as the source wrote them.
    #[serde(default)]
    pub consent: BTreeMap<String, String>,
}

impl CustomerRecord {
    /// Adds a raw value to a canonical field; blank values are ignored.
    pub fn push(&mut self, field: Field, value: &str) {
        let value = value.trim();
        if !value.is_empty() {
            self.fields.entry(field).or_default().push(value.to_string());
        }
    }

    /// The first value of a field, if any.
    pub fn first(&self, field: Field) -> Option<&str> {
        self.fields.get(&field).and_then(|v| v.first()).map(String::as_str)
    }

    /// All values of a field.
    pub fn all(&self, field: Field) -> &[String] {
        self.fields.get(&field).map(Vec::as_slice).unwrap_or(&[])
    }
}
