//! Match keys: the named values blocking and deterministic rules use (`email`, `postcode`, `family_sound`,
//! `identifier:kvk`, …), each hashed to a `u64` so blocks are built by sorting integers.

use crate::compare::ComparisonKind;
use crate::features::Features;
use std::hash::{BuildHasher, Hash};

/// One match key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    /// First given name, folded.
    GivenName,
    /// Family name, folded.
    FamilyName,
    /// Double Metaphone of the first given name.
    GivenSound,
    /// Double Metaphone of the family name.
    FamilySound,
    /// First letter of the given name or initials.
    GivenInitial,
    /// Given and family name as an unordered pair (catches swapped names).
    NamePair,
    /// Full birth date.
    BirthDate,
    /// Birth year.
    BirthYear,
    /// Any email address (multi-valued).
    Email,
    /// Any phone number (multi-valued).
    Phone,
    /// Postcode.
    Postcode,
    /// House number.
    HouseNumber,
    /// Street.
    Street,
    /// City.
    City,
    /// Organisation.
    Organisation,
    /// One named identifier.
    Identifier(String),
}

/// Every key name a configuration may use, for error messages.
pub const KEY_NAMES: &str = "given_name, family_name, given_sound, family_sound, given_initial, name_pair, \
    birth_date, birth_year, email, phone, postcode, house_number, street, city, organisation, identifier:NAME";

impl Key {
    /// Parses a key name from the configuration.
    pub fn parse(name: &str) -> Result<Key, String> {
        Ok(match name.trim() {
            "given_name" => Key::GivenName,
            "family_name" => Key::FamilyName,
            "given_sound" => Key::GivenSound,
            "family_sound" => Key::FamilySound,
            "given_initial" => Key::GivenInitial,
            "name_pair" => Key::NamePair,
            "birth_date" => Key::BirthDate,
            "birth_year" => Key::BirthYear,
            "email" => Key::Email,
            "phone" => Key::Phone,
            "postcode" => Key::Postcode,
            "house_number" => Key::HouseNumber,
            "street" => Key::Street,
            "city" => Key::City,
            "organisation" => Key::Organisation,
            other => match other.strip_prefix("identifier:") {
                Some(id) if !id.is_empty() => Key::Identifier(id.to_string()),
                _ => {
                    return Err(format!("unknown match key `{other}`; known keys: {KEY_NAMES}"));
                }
            },
        })
    }

    /// The comparisons whose evidence this key already uses (excluded when training on pairs it blocked).
    pub fn comparisons(&self, identifier_names: &[String]) -> Vec<ComparisonKind> {
        use ComparisonKind as C;
        match self {
            Key::GivenName | Key::GivenSound | Key::GivenInitial => vec![C::GivenName],
            Key::FamilyName | Key::FamilySound => vec![C::FamilyName],
            Key::NamePair => vec![C::GivenName, C::FamilyName],
            Key::BirthDate | Key::BirthYear => vec![C::BirthDate],
            Key::Email => vec![C::Email],
            Key::Phone => vec![C::Phone],
            Key::Postcode | Key::HouseNumber | Key::Street | Key::City => vec![C::Address],
            Key::Organisation => vec![C::Organisation],
            Key::Identifier(name) => identifier_names
                .iter()
                .position(|n| n == name)
                .map(|i| vec![C::Identifier(i as u16)])
                .unwrap_or_default(),
        }
    }

    /// Pushes the hashes of this key's values for a record (none when missing, several for multi-valued keys).
    fn values(&self, f: &Features, identifier_names: &[String], out: &mut Vec<u64>) {
        let one = |out: &mut Vec<u64>, s: &str| {
            if !s.is_empty() {
                out.push(hash(s));
            }
        };
        match self {
            Key::GivenName => one(out, f.given_first()),
            Key::FamilyName => one(out, f.family()),
            Key::GivenSound => one(out, f.given_sound()),
            Key::FamilySound => one(out, f.family_sound()),
            Key::GivenInitial => {
                let first = f.given_first().chars().next().or_else(|| f.initials().chars().next());
                if let Some(c) = first {
                    out.push(hash(&c));
                }
            }
            Key::NamePair if !f.given_first().is_empty() && !f.family().is_empty() => {
                let (a, b) = (f.given_first(), f.family());
                out.push(if a <= b { hash(&(a, b)) } else { hash(&(b, a)) });
            }
            Key::NamePair => {}
            Key::BirthDate if f.birth != 0 => out.push(hash(&f.birth)),
            Key::BirthYear if f.birth != 0 => out.push(hash(&(f.birth / 10_000))),
            Key::BirthDate | Key::BirthYear => {}
            Key::Email => f.emails().for_each(|e| one(out, e)),
            Key::Phone => f.phones().for_each(|p| one(out, p)),
            Key::Postcode => one(out, f.postcode()),
            Key::HouseNumber => one(out, f.house()),
            Key::Street => one(out, f.street()),
            Key::City => one(out, f.city()),
            Key::Organisation => one(out, f.organisation()),
            Key::Identifier(name) => {
                if let Some(i) = identifier_names.iter().position(|n| n == name) {
                    one(out, f.identifier(i as u16));
                }
            }
        }
    }
}

/// A conjunction of keys: records agreeing on all of them fall into one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRule {
    /// The keys, all required.
    pub keys: Vec<Key>,
    /// The rule as written, for reports.
    pub label: String,
}

impl KeyRule {
    /// Parses a rule from key names.
    pub fn parse(names: &[String]) -> Result<KeyRule, String> {
        if names.is_empty() {
            return Err("a blocking rule needs at least one key".into());
        }
        let keys = names.iter().map(|n| Key::parse(n)).collect::<Result<_, _>>()?;
        Ok(KeyRule { keys, label: names.join("+") })
    }

    /// Whether records sharing this rule's value always share the birth year (the rule has the birth date or year):
    /// splitting its blocks by birth year would change nothing.
    pub fn fixes_birth_year(&self) -> bool {
        self.keys.iter().any(|k| matches!(k, Key::BirthDate | Key::BirthYear))
    }

    /// Whether records sharing this rule's value always share the city (the rule has the city).
    pub fn fixes_city(&self) -> bool {
        self.keys.contains(&Key::City)
    }

    /// The combined hashes of this rule for one record: one per combination of multi-valued keys, none when
    /// any key is missing.
    pub fn values(&self, f: &Features, identifier_names: &[String]) -> Vec<u64> {
        let mut out = Vec::new();
        self.values_into(f, identifier_names, &mut out, &mut Vec::new());
        out
    }

    /// Like [`Self::values`], appending to `out` (distinct values, sorted); `scratch` is reused between calls, so
    /// keying a million records allocates nothing per record.
    pub fn values_into(&self, f: &Features, identifier_names: &[String], out: &mut Vec<u64>, scratch: &mut Vec<u64>) {
        let start = out.len();
        out.push(0x9E37_79B9_7F4A_7C15u64);
        for key in &self.keys {
            scratch.clear();
            key.values(f, identifier_names, scratch);
            match scratch.as_slice() {
                [] => {
                    out.truncate(start);
                    return;
                }
                [value] => out[start..].iter_mut().for_each(|c| *c = hash(&(*c, *value))),
                values => {
                    // Several values (emails, phones): one combination each.
                    let before: Vec<u64> = out.drain(start..).collect();
                    out.extend(before.iter().flat_map(|c| values.iter().map(move |v| hash(&(*c, *v)))));
                }
            }
        }
        if out.len() - start > 1 {
            out[start..].sort_unstable();
            let mut kept = start + 1;
            for i in start + 1..out.len() {
                if out[i] != out[kept - 1] {
                    out[kept] = out[i];
                    kept += 1;
                }
            }
            out.truncate(kept);
        }
    }
}

fn hash<T: Hash + ?Sized>(value: &T) -> u64 {
    foldhash::fast::FixedState::with_seed(0x51_7c_c1_b7).hash_one(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureValues;

    #[test]
    fn parses_keys_and_rejects_unknown_ones() {
        assert_eq!(Key::parse("identifier:kvk"), Ok(Key::Identifier("kvk".into())));
        assert!(Key::parse("shoe").expect_err("should be rejected").contains("known keys"));
        assert!(Key::parse("identifier:").is_err());
        assert!(KeyRule::parse(&[]).is_err());
    }

    #[test]
    fn name_pair_ignores_order_and_multi_values_multiply() {
        let henk = FeatureValues { given: "henk".into(), family: "vries".into(), ..FeatureValues::default() };
        let a = henk.clone().pack();
        let b = FeatureValues { given: "vries".into(), family: "henk".into(), ..FeatureValues::default() }.pack();
        let rule = KeyRule::parse(&["name_pair".to_string()]).expect("rule");
        assert_eq!(rule.values(&a, &[]), rule.values(&b, &[]));
        let a = FeatureValues {
            emails: vec!["a@x.nl".into(), "b@x.nl".into()],
            phones: vec!["+31".into(), "+32".into()],
            ..henk
        }
        .pack();
        let rule = KeyRule::parse(&["email".to_string(), "phone".to_string()]).expect("rule");
        assert_eq!(rule.values(&a, &[]).len(), 4);
        assert!(rule.values(&b, &[]).is_empty());
    }
}
