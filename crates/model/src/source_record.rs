//! A record as a connector read it: source, source id and raw field values, untouched.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

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
    pub fields: RawFields,
}

/// A record's raw values by column name (or dotted path), in name order. The names are shared: every row of a
/// file points to its one header, and the values lie back to back in one string, so reading a row allocates
/// twice however wide it is.
#[derive(Clone, PartialEq, Eq)]
pub struct RawFields {
    /// Column names, sorted and unique.
    names: Arc<[String]>,
    /// The values, back to back.
    text: String,
    /// Where each name's value ends in `text`.
    ends: Vec<u32>,
}

/// The column names of a file, sorted, and where each column's value goes: rows are laid out by it.
#[derive(Debug, Clone)]
pub struct RawLayout {
    names: Arc<[String]>,
    /// Columns in the file (duplicates counted).
    columns: usize,
    /// Per slot (index into `names`), the column whose value it takes; of duplicate columns, the last.
    column_of_slot: Vec<usize>,
}

impl RawLayout {
    /// The layout of a header row.
    pub fn new(header: &[String]) -> Self {
        let mut names: Vec<String> = header.to_vec();
        names.sort();
        names.dedup();
        let mut column_of_slot = vec![0; names.len()];
        for (column, name) in header.iter().enumerate() {
            if let Ok(slot) = names.binary_search(name) {
                column_of_slot[slot] = column;
            }
        }
        RawLayout { names: names.into(), columns: header.len(), column_of_slot }
    }

    /// Number of columns in the file (duplicates counted).
    pub fn columns(&self) -> usize {
        self.columns
    }

    /// A row of this layout, its values given per column of the file (exactly [`RawLayout::columns`] of them).
    pub fn row<'v>(&self, value_of_column: impl Fn(usize) -> &'v str) -> RawFields {
        // Sized first: the values are copied once, into a string that never grows.
        let mut text = String::with_capacity(self.column_of_slot.iter().map(|c| value_of_column(*c).len()).sum());
        let mut ends = Vec::with_capacity(self.names.len());
        for column in &self.column_of_slot {
            text.push_str(value_of_column(*column));
            ends.push(text.len() as u32);
        }
        RawFields { names: self.names.clone(), text, ends }
    }
}

impl RawFields {
    /// The value of a column, if the record has it.
    pub fn get(&self, name: &str) -> Option<&str> {
        Some(self.value(self.slot_of(name)?))
    }

    /// The slot (index into [`RawFields::names`]) of a column, if the record has it.
    pub fn slot_of(&self, name: &str) -> Option<usize> {
        self.names.binary_search_by(|n| n.as_str().cmp(name)).ok()
    }

    /// The column names, sorted; every row of a file shares its header's (compare them with `Arc::ptr_eq`).
    pub fn names(&self) -> &Arc<[String]> {
        &self.names
    }

    /// The value of the column at `slot` (an index into [`RawFields::names`]), if there is one.
    pub fn value_at(&self, slot: usize) -> Option<&str> {
        (slot < self.ends.len()).then(|| self.value(slot))
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when the record has no values.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every (name, value), in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        self.names.iter().enumerate().map(|(slot, name)| (name.as_str(), self.value(slot)))
    }

    /// The slots of the columns whose name starts with `prefix`, in name order.
    pub fn slots_starting_with(&self, prefix: &str) -> std::ops::Range<usize> {
        let from = self.names.partition_point(|n| n.as_str() < prefix);
        from..from + self.names[from..].iter().take_while(|n| n.starts_with(prefix)).count()
    }

    fn value(&self, slot: usize) -> &str {
        let start = if slot == 0 { 0 } else { self.ends[slot - 1] as usize };
        &self.text[start..self.ends[slot] as usize]
    }
}

impl FromIterator<(String, String)> for RawFields {
    /// Values by name; of a name given twice, the last value counts (as of a duplicate column).
    fn from_iter<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Self {
        let (names, values): (Vec<String>, Vec<String>) = pairs.into_iter().unzip();
        RawLayout::new(&names).row(|column| &values[column])
    }
}

impl From<BTreeMap<String, String>> for RawFields {
    fn from(map: BTreeMap<String, String>) -> Self {
        map.into_iter().collect()
    }
}

impl fmt::Debug for RawFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for RawFields {
    /// A JSON object in name order: the same text a `BTreeMap` of the values gives.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for RawFields {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(BTreeMap::<String, String>::deserialize(deserializer)?.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_row_reads_by_name_in_name_order_and_a_later_duplicate_column_wins() {
        let layout = RawLayout::new(&strings(&["id", "phones.1", "name", "phones.0", "name", "phonebook"]));
        assert_eq!(layout.columns(), 6);
        let values = ["7", "026 1234567", "first", "0612345678", "Henk", "x"];
        let row = layout.row(|c| values[c]);
        assert_eq!(row.get("name"), Some("Henk"));
        assert_eq!(row.get("id"), Some("7"));
        assert_eq!(row.get("missing"), None);
        assert_eq!(row.len(), 5);
        let names: Vec<&str> = row.iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["id", "name", "phonebook", "phones.0", "phones.1"]);
        let phones: Vec<(&str, Option<&str>)> =
            row.slots_starting_with("phones.").map(|s| (row.names()[s].as_str(), row.value_at(s))).collect();
        assert_eq!(phones, [("phones.0", Some("0612345678")), ("phones.1", Some("026 1234567"))]);
        assert_eq!(row.slots_starting_with("zz").count(), 0);
        assert_eq!(row.slots_starting_with("").count(), 5);
        assert_eq!(row.slot_of("name"), Some(1));
        assert_eq!(row.slot_of("missing"), None);
    }

    proptest! {
        /// A row laid out by its header is the map a `BTreeMap` of its columns gives: same lookups, same JSON
        /// (the stored raw form and its content hash depend on that text).
        #[test]
        fn a_laid_out_row_is_the_map_of_its_columns(
            columns in proptest::collection::vec(("[a-c.]{0,3}", "\\PC{0,6}"), 0..8),
        ) {
            let header: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
            let layout = RawLayout::new(&header);
            let row = layout.row(|c| columns[c].1.as_str());
            let map: BTreeMap<String, String> = columns.iter().cloned().collect();
            prop_assert_eq!(serde_json::to_string(&row).ok(), serde_json::to_string(&map).ok());
            for (name, value) in &map {
                prop_assert_eq!(row.get(name), Some(value.as_str()));
            }
            let collected: RawFields = columns.iter().cloned().collect();
            prop_assert_eq!(&collected, &row);
            let back: RawFields = serde_json::from_str(&serde_json::to_string(&row).unwrap_or_default())
                .unwrap_or_else(|_| RawFields::from(BTreeMap::new()));
            prop_assert_eq!(back, row);
        }
    }
}
