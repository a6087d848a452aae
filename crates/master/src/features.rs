//! Comparison features: each clean record folded once into the lower-case ASCII forms, phonetic codes and
//! numeric keys that blocking and comparison use, so the hot loops never re-normalise text.

use clean::text::fold;
use model::CleanRecord;
use rphonetic::{DoubleMetaphone, Encoder};

/// Folded, precomputed match features of one record. An empty string means "missing".
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    /// Index of the record's source (for link-only matching).
    pub source: u32,
    /// All given names, folded: "anna maria".
    pub given: Box<str>,
    /// First given name, folded: "anna".
    pub given_first: Box<str>,
    /// Initials, lower case: "am".
    pub initials: Box<str>,
    /// Family name without prefix, folded, spaces removed: "broekjansen".
    pub family: Box<str>,
    /// Double Metaphone code of the first given name.
    pub given_sound: Box<str>,
    /// Double Metaphone code of the family name.
    pub family_sound: Box<str>,
    /// Birth date as YYYYMMDD, 0 when missing.
    pub birth: u32,
    /// Email addresses.
    pub emails: Vec<Box<str>>,
    /// Bit i set: the user name of `emails[i]` is made of this person's name only ("anna.smit", "a_smit"),
    /// so namesakes may well have it too.
    pub named_emails: u32,
    /// Phone numbers in E.164.
    pub phones: Vec<Box<str>>,
    /// Street, folded.
    pub street: Box<str>,
    /// House number digits.
    pub house: Box<str>,
    /// House-number addition, folded.
    pub addition: Box<str>,
    /// Postcode without spaces, folded.
    pub postcode: Box<str>,
    /// City, folded.
    pub city: Box<str>,
    /// Organisation, folded.
    pub organisation: Box<str>,
    /// Identifiers as (index into the identifier-name table, folded value).
    pub identifiers: Vec<(u16, Box<str>)>,
}

impl Features {
    /// True when the record has a birth date.
    pub fn has_birth(&self) -> bool {
        self.birth != 0
    }

    /// The value of identifier `name_index`, or "".
    pub fn identifier(&self, name_index: u16) -> &str {
        self.identifiers.iter().find(|(i, _)| *i == name_index).map_or("", |(_, v)| v)
    }
}

/// Builds features. Shared read-only, so records can be folded in parallel.
#[derive(Debug, Default)]
pub struct FeatureBuilder {
    metaphone: DoubleMetaphone,
    /// Identifier names; `Features::identifiers` index into this table. Other identifiers are not compared.
    pub identifier_names: Vec<String>,
}

/// The identifier names used by any of the records, sorted.
pub fn identifier_names<'a>(records: impl Iterator<Item = &'a CleanRecord>) -> Vec<String> {
    let mut names: Vec<String> = records.flat_map(|r| r.identifiers.keys().cloned()).collect();
    names.sort();
    names.dedup();
    names
}

impl FeatureBuilder {
    /// A builder that compares these identifier names (e.g. from [`identifier_names`] or a stored model).
    pub fn new(identifier_names: Vec<String>) -> Self {
        FeatureBuilder { metaphone: DoubleMetaphone::default(), identifier_names }
    }

    /// Folds one clean record into its features.
    pub fn build(&self, source: u32, rec: &CleanRecord) -> Features {
        let given = rec.name.given.as_deref().map(fold).unwrap_or_default();
        let given_first = given.split(' ').next().unwrap_or_default().to_string();
        let family: String = rec.name.family.as_deref().map(fold).unwrap_or_default().replace(' ', "");
        let sound = |s: &str| {
            if s.is_empty() { String::new() } else { self.metaphone.encode(s) }
        };
        let (given_sound, family_sound) = (sound(&given_first), sound(&family));
        let birth =
            rec.birth_date.map_or(0, |d| u32::from(d.year) * 10_000 + u32::from(d.month) * 100 + u32::from(d.day));
        let a = &rec.address;
        let squash = |s: &Option<String>| s.as_deref().map(fold).unwrap_or_default().replace(' ', "");
        let mut identifiers = Vec::with_capacity(rec.identifiers.len());
        for (name, value) in &rec.identifiers {
            let folded = fold(value).replace(' ', "");
            if folded.is_empty() {
                continue;
            }
            if let Some(index) = self.identifier_names.iter().position(|n| n == name) {
                identifiers.push((index as u16, folded.into_boxed_str()));
            }
        }
        let emails: Vec<Box<str>> = rec.emails.iter().map(|e| e.as_str().into()).collect();
        let initials = rec.name.initials.as_deref().unwrap_or_default().to_lowercase();
        let named_emails = emails
            .iter()
            .take(32)
            .enumerate()
            .filter(|(_, e)| user_is_name(e.split('@').next().unwrap_or_default(), &given_first, &initials, &family))
            .fold(0u32, |bits, (i, _)| bits | 1 << i);
        Features {
            source,
            initials: initials.into_boxed_str(),
            given: given.into_boxed_str(),
            given_first: given_first.into_boxed_str(),
            family: family.into_boxed_str(),
            given_sound: given_sound.into_boxed_str(),
            family_sound: family_sound.into_boxed_str(),
            birth,
            emails,
            named_emails,
            phones: rec.phones.iter().map(|p| p.as_str().into()).collect(),
            street: a.street.as_deref().map(fold).unwrap_or_default().into_boxed_str(),
            house: squash(&a.house_number).into_boxed_str(),
            addition: squash(&a.addition).into_boxed_str(),
            postcode: squash(&a.postcode).into_boxed_str(),
            city: a.city.as_deref().map(fold).unwrap_or_default().into_boxed_str(),
            organisation: rec.organisation.as_deref().map(fold).unwrap_or_default().into_boxed_str(),
            identifiers,
        }
    }
}

/// True when an email user name spells the person's name and nothing else: the family name, plus the first
/// given name or initials or nothing, plus at most a short family-name prefix ("hdevries", "anna.smit",
/// "smit_a"). Digits or other words make a user name distinctive.
pub fn user_is_name(user: &str, given_first: &str, initials: &str, family: &str) -> bool {
    let letters: String =
        user.chars().filter(|c| !matches!(c, '.' | '_' | '-' | '+')).map(|c| c.to_ascii_lowercase()).collect();
    if letters.is_empty() || !letters.bytes().all(|b| b.is_ascii_lowercase()) {
        return false;
    }
    if !given_first.is_empty() && letters == given_first {
        return true;
    }
    let Some(at) = (!family.is_empty()).then(|| letters.find(family)).flatten() else {
        return false;
    };
    let rest = format!("{}{}", &letters[..at], &letters[at + family.len()..]);
    let first_initial = initials.get(..1).or_else(|| given_first.get(..1)).unwrap_or_default();
    let without_given = [given_first, initials, first_initial]
        .iter()
        .filter(|g| !g.is_empty())
        .find_map(|g| rest.strip_prefix(*g).or_else(|| rest.strip_suffix(*g)))
        .unwrap_or(&rest);
    without_given.len() <= 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{BirthDate, PersonName};

    #[test]
    fn folds_names_and_codes() {
        let mut rec = CleanRecord {
            name: PersonName {
                given: Some("Anna Maria".into()),
                initials: Some("AM".into()),
                prefix: Some("van den".into()),
                family: Some("Broek-Jansen".into()),
            },
            ..CleanRecord::default()
        };
        rec.birth_date = Some(BirthDate { year: 1961, month: 4, day: 3 });
        rec.address.postcode = Some("6824 AB".into());
        rec.identifiers.insert("kvk".into(), " 1234 5678 ".into());
        let names = identifier_names(std::iter::once(&rec));
        let b = FeatureBuilder::new(names);
        let f = b.build(2, &rec);
        assert_eq!(&*f.given_first, "anna");
        assert_eq!(&*f.family, "broekjansen");
        assert_eq!(f.birth, 19610403);
        assert_eq!(&*f.postcode, "6824ab");
        assert_eq!(f.identifier(0), "12345678");
        assert_eq!(b.identifier_names, vec!["kvk".to_string()]);
        assert!(!f.family_sound.is_empty());
    }

    #[test]
    fn user_names_made_of_the_name() {
        assert!(user_is_name("anna.smit", "anna", "", "smit"));
        assert!(user_is_name("smit_a", "anna", "a", "smit"));
        assert!(user_is_name("h.devries", "henk", "h", "vries"));
        assert!(user_is_name("Henk", "henk", "", "vries"));
        assert!(user_is_name("smit", "", "", "smit"));
        assert!(!user_is_name("anna.smit85", "anna", "", "smit"));
        assert!(!user_is_name("smit.bakkerij", "anna", "", "smit"));
        assert!(!user_is_name("info", "anna", "", "smit"));
        assert!(!user_is_name("anna.smit", "anna", "", ""));
    }
}
