//! The canonical customer schema: a source record after column mapping, still with raw (uncleaned) values.

use crate::Field;

/// A source record mapped onto the canonical schema. Values are raw text borrowed from the source record (and
/// names from the mapping); `clean` standardises them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerRecord<'a> {
    /// Values of canonical fields in the order the mapping gave them; several for multi-valued fields (emails,
    /// phones), otherwise the first counts.
    values: Vec<(Field, &'a str)>,
    /// Source-specific identifiers (customer number, national id, chamber-of-commerce number): (name, value).
    pub identifiers: Vec<(&'a str, &'a str)>,
    /// Free extra attributes the schema lacks, kept for the golden record: (name, value).
    pub attributes: Vec<(&'a str, &'a str)>,
    /// The customer's consent answers by purpose (`email_marketing`), as the source wrote them.
    pub consent: Vec<(&'a str, &'a str)>,
}

impl<'a> CustomerRecord<'a> {
    /// An empty record with room for `values` field values (no growing while a mapping fills it).
    pub fn with_capacity(values: usize) -> Self {
        CustomerRecord { values: Vec::with_capacity(values), ..CustomerRecord::default() }
    }

    /// Adds a raw value to a canonical field; blank values are ignored.
    pub fn push(&mut self, field: Field, value: &'a str) {
        let value = value.trim();
        if !value.is_empty() {
            self.values.push((field, value));
        }
    }

    /// The first value of a field, if any.
    pub fn first(&self, field: Field) -> Option<&'a str> {
        self.values.iter().find(|(f, _)| *f == field).map(|(_, v)| *v)
    }

    /// All values of a field, in order.
    pub fn all(&self, field: Field) -> impl Iterator<Item = &'a str> + '_ {
        self.values.iter().filter(move |(f, _)| *f == field).map(|(_, v)| *v)
    }
}
