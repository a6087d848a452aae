//! Entities and their golden records: one surviving value per attribute, each with its provenance.

use crate::RecordKey;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

/// Stable identity of a customer. Printed as `E` followed by a number; the oldest id survives a merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityId(pub u64);

impl fmt::Display for EntityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E{}", self.0)
    }
}

impl FromStr for EntityId {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let digits = s.strip_prefix('E').or_else(|| s.strip_prefix('e')).unwrap_or(s);
        digits.parse().map(EntityId).map_err(|_| format!("`{s}` is not an entity id (expected E123)"))
    }
}

/// The value that survived for one attribute, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoldenValue {
    /// Attribute name (canonical field name, `identifier.NAME` or `attribute.NAME`).
    pub attribute: String,
    /// The surviving value as text.
    pub value: String,
    /// The source record it came from.
    pub from: RecordKey,
    /// The survivorship rule that chose it (`trust`, `recent`, `complete`, `frequent`).
    pub rule: String,
}

/// The golden record of one entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Golden {
    /// The entity.
    pub entity: EntityId,
    /// One value per attribute that any member record has.
    pub values: Vec<GoldenValue>,
}

impl Golden {
    /// The surviving value of an attribute, if any.
    pub fn get(&self, attribute: &str) -> Option<&str> {
        self.values.iter().find(|v| v.attribute == attribute).map(|v| v.value.as_str())
    }

    /// The golden record as a view that borrows from it.
    pub fn view(&self) -> GoldenView<'_> {
        let values = self
            .values
            .iter()
            .map(|v| GoldenValueView {
                attribute: Cow::Borrowed(&v.attribute),
                value: Cow::Borrowed(&v.value),
                from: &v.from,
                rule: &v.rule,
            })
            .collect();
        GoldenView { entity: self.entity, values }
    }
}

/// A golden record whose values borrow from the member records it was built from: survivorship makes one per
/// entity, and storing it needs no owned copy of every value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldenView<'a> {
    /// The entity.
    pub entity: EntityId,
    /// One value per attribute that any member record has.
    pub values: Vec<GoldenValueView<'a>>,
}

/// One surviving value of a [`GoldenView`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldenValueView<'a> {
    /// Attribute name.
    pub attribute: Cow<'a, str>,
    /// The surviving value as text.
    pub value: Cow<'a, str>,
    /// The source record it came from.
    pub from: &'a RecordKey,
    /// The survivorship rule that chose it.
    pub rule: &'a str,
}

impl GoldenView<'_> {
    /// The surviving value of an attribute, if any.
    pub fn get(&self, attribute: &str) -> Option<&str> {
        self.values.iter().find(|v| v.attribute == attribute).map(|v| &*v.value)
    }

    /// An owned copy.
    pub fn to_golden(&self) -> Golden {
        let values = self
            .values
            .iter()
            .map(|v| GoldenValue {
                attribute: v.attribute.to_string(),
                value: v.value.to_string(),
                from: v.from.clone(),
                rule: v.rule.to_string(),
            })
            .collect();
        Golden { entity: self.entity, values }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_ids_print_and_parse() {
        assert_eq!(EntityId(42).to_string(), "E42");
        assert_eq!("E42".parse::<EntityId>(), Ok(EntityId(42)));
        assert_eq!("42".parse::<EntityId>(), Ok(EntityId(42)));
        assert!("crm:1".parse::<EntityId>().is_err());
    }
}
