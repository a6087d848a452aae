//! The canonical customer fields a source column can be mapped onto.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One slot of the canonical customer schema. Composite fields (`FullName`, `AddressLine`) are split by the
/// cleaner into their parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// Given (first) name, or several given names.
    GivenName,
    /// Family name, with or without its prefix.
    FamilyName,
    /// Family-name prefix such as "van der" or "de".
    NamePrefix,
    /// Initials such as "H.J.".
    Initials,
    /// A whole name in one value: "Henk de Vries", "de Vries, H.", "Vries, de".
    FullName,
    /// Date of birth.
    BirthDate,
    /// An email address (a record may have several).
    Email,
    /// A phone number (a record may have several).
    Phone,
    /// Street name.
    Street,
    /// House number, possibly with its addition ("46A").
    HouseNumber,
    /// House-number addition ("A", "bis", "2").
    HouseNumberAddition,
    /// Street and house number in one value: "Velperbroek 46A", "46-2 Velperbroek".
    AddressLine,
    /// Postal code.
    Postcode,
    /// City or locality.
    City,
    /// Country name or ISO code.
    Country,
    /// Organisation the customer belongs to, or is.
    Organisation,
    /// When the source last changed the record (used by the "recent" survivorship rule).
    UpdatedAt,
}

impl Field {
    /// Every field, in schema order.
    pub const ALL: [Field; 17] = [
        Field::GivenName,
        Field::FamilyName,
        Field::NamePrefix,
        Field::Initials,
        Field::FullName,
        Field::BirthDate,
        Field::Email,
        Field::Phone,
        Field::Street,
        Field::HouseNumber,
        Field::HouseNumberAddition,
        Field::AddressLine,
        Field::Postcode,
        Field::City,
        Field::Country,
        Field::Organisation,
        Field::UpdatedAt,
    ];

    /// The snake_case name used in `cdihub.toml` and in exports.
    pub fn name(self) -> &'static str {
        match self {
            Field::GivenName => "given_name",
            Field::FamilyName => "family_name",
            Field::NamePrefix => "name_prefix",
            Field::Initials => "initials",
            Field::FullName => "full_name",
            Field::BirthDate => "birth_date",
            Field::Email => "email",
            Field::Phone => "phone",
            Field::Street => "street",
            Field::HouseNumber => "house_number",
            Field::HouseNumberAddition => "house_number_addition",
            Field::AddressLine => "address_line",
            Field::Postcode => "postcode",
            Field::City => "city",
            Field::Country => "country",
            Field::Organisation => "organisation",
            Field::UpdatedAt => "updated_at",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Field {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        let alias = match wanted.as_str() {
            "first_name" | "given" => "given_name",
            "last_name" | "surname" | "family" => "family_name",
            "prefix" | "tussenvoegsel" => "name_prefix",
            "name" => "full_name",
            "dob" | "date_of_birth" => "birth_date",
            "emails" => "email",
            "phones" | "telephone" => "phone",
            "street_number" => "house_number",
            "addition" => "house_number_addition",
            "zip" | "postal_code" => "postcode",
            "organization" | "company" => "organisation",
            other => other,
        };
        Field::ALL.into_iter().find(|f| f.name() == alias).ok_or_else(|| {
            let known: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
            format!("unknown canonical field `{s}`; known fields: {}", known.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in Field::ALL {
            assert_eq!(f.name().parse::<Field>(), Ok(f));
        }
    }

    #[test]
    fn aliases_and_errors() {
        assert_eq!("Surname".parse::<Field>(), Ok(Field::FamilyName));
        assert_eq!("zip".parse::<Field>(), Ok(Field::Postcode));
        let err = "shoe_size".parse::<Field>().expect_err("should be rejected");
        assert!(err.contains("unknown canonical field"), "{err}");
    }
}
