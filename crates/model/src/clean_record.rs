//! A customer record after cleaning: standardised values, ready for matching and survivorship.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// A calendar date that is known to exist (validated by `clean`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct BirthDate {
    /// Four-digit year.
    pub year: u16,
    /// Month, 1–12.
    pub month: u8,
    /// Day of month, 1–31.
    pub day: u8,
}

impl fmt::Display for BirthDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A person's name in parts. Values keep their letters and accents; matching folds them further.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    /// Given name(s), e.g. "Henk" or "Anna Maria".
    pub given: Option<String>,
    /// Initials without dots, upper case: "HJ".
    pub initials: Option<String>,
    /// Family-name prefix, lower case: "van der".
    pub prefix: Option<String>,
    /// Family name without its prefix: "Vries".
    pub family: Option<String>,
}

/// A postal address in parts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanAddress {
    /// Street name, abbreviations expanded.
    pub street: Option<String>,
    /// House number, digits only.
    pub house_number: Option<String>,
    /// House-number addition, upper case: "A", "2", "BIS".
    pub addition: Option<String>,
    /// Postcode in the country's canonical format ("6824 AB", "12345").
    pub postcode: Option<String>,
    /// City name.
    pub city: Option<String>,
    /// ISO 3166-1 alpha-2 country code.
    pub country: Option<String>,
}

/// A standardised customer record. Everything here passed validation; rejected values are in the issues.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CleanRecord {
    /// Name parts.
    pub name: PersonName,
    /// Validated date of birth.
    pub birth_date: Option<BirthDate>,
    /// Lower-cased, syntax-checked email addresses.
    pub emails: Vec<String>,
    /// Phone numbers in E.164 (`+31612345678`).
    pub phones: Vec<String>,
    /// Postal address.
    pub address: CleanAddress,
    /// Organisation name.
    pub organisation: Option<String>,
    /// Source identifiers by name, trimmed.
    pub identifiers: BTreeMap<String, String>,
    /// Extra attributes, trimmed.
    pub attributes: BTreeMap<String, String>,
    /// When the source last changed the record, as seconds since the Unix epoch, if the source says so.
    pub updated_at: Option<i64>,
}
