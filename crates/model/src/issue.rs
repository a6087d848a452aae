//! Findings about bad data: what was wrong, in which field, and whether the record can still be used.

use serde::{Deserialize, Serialize};

/// How bad an [`Issue`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The value was dropped; the rest of the record is used.
    Value,
    /// The whole record cannot be used and goes to quarantine.
    Record,
}

/// A finding about one record: the field it concerns (if any), the offending value and a reason a person can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Issue {
    /// Whether the value or the whole record was rejected.
    pub severity: Severity,
    /// Canonical or source field name the issue is about.
    pub field: Option<String>,
    /// The rejected value, shortened to a readable length.
    pub value: Option<String>,
    /// Why, in words a data steward can act on.
    pub reason: String,
}

impl Issue {
    /// A value-level issue: `value` of `field` was dropped because of `reason`.
    pub fn value(field: impl Into<String>, value: &str, reason: impl Into<String>) -> Self {
        Issue {
            severity: Severity::Value,
            field: Some(field.into()),
            value: Some(shorten(value)),
            reason: reason.into(),
        }
    }

    /// A record-level issue: the record is quarantined because of `reason`.
    pub fn record(reason: impl Into<String>) -> Self {
        Issue { severity: Severity::Record, field: None, value: None, reason: reason.into() }
    }
}

/// Keeps quarantine rows readable when a field holds megabytes.
fn shorten(value: &str) -> String {
    const MAX: usize = 200;
    if value.len() <= MAX {
        return value.to_string();
    }
    let mut end = MAX;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &value[..end], value.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_shortened_on_a_char_boundary() {
        let long = "é".repeat(500);
        let issue = Issue::value("email", &long, "too long");
        let shown = issue.value.unwrap_or_default();
        assert!(shown.len() < 260, "{}", shown.len());
        assert!(shown.ends_with("(1000 bytes)"));
    }
}
