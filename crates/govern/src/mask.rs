//! Masking of personal data for callers without `pii.read`: enough is left to tell values apart and to see their
//! kind (`h***@ziggo.nl`, `+31 6 **** 39`, `H***`, `1961-**-**`), never enough to contact or identify a person.
//! [`mask_json`] applies it to any API response, by the names of the fields that carry personal data, so
//! handlers never mask anything themselves.

use serde_json::Value;

/// The kinds of personal data, each masked its own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An email address: first letter of the user name, the domain.
    Email,
    /// A phone number: country code, first digit, last two digits.
    Phone,
    /// A name or name part: the first letter of each word.
    Name,
    /// A date of birth: the year only.
    BirthDate,
    /// Street, house number, postcode, identifiers: the first character (postcode: two) only.
    Other,
}

impl Kind {
    /// The kind of personal data a field or golden-record attribute of this name holds; `None` for data that is
    /// not personal (city, country, organisation, source keys, scores …).
    pub fn of_field(name: &str) -> Option<Kind> {
        Some(match name {
            "email" | "emails" => Kind::Email,
            "phone" | "phones" => Kind::Phone,
            "given" | "given_name" | "initials" | "prefix" | "name_prefix" | "family" | "family_name" | "full_name"
            | "display_name" => Kind::Name,
            "birth_date" => Kind::BirthDate,
            "street"
            | "house_number"
            | "addition"
            | "house_number_addition"
            | "postcode"
            | "address_line"
            | "identifiers" => Kind::Other,
            _ if name.starts_with("identifier.") => Kind::Other,
            _ => return None,
        })
    }
}

/// Masks one value of a kind.
pub fn mask(kind: Kind, value: &str) -> String {
    match kind {
        Kind::Email => match value.rsplit_once('@') {
            Some((user, domain)) => format!("{}***@{domain}", first_chars(user, 1)),
            None => stars(value),
        },
        Kind::Phone => match clean::phone::split_e164(value) {
            Some((code, national)) if national.len() > 4 => {
                format!("+{code} {} **** {}", &national[..1], &national[national.len() - 2..])
            }
            _ => stars(value),
        },
        Kind::Name => value.split(' ').filter(|w| !w.is_empty()).map(stars).collect::<Vec<_>>().join(" "),
        Kind::BirthDate => match value.get(..4).filter(|y| y.bytes().all(|b| b.is_ascii_digit())) {
            Some(year) => format!("{year}-**-**"),
            None => "****-**-**".to_string(),
        },
        Kind::Other => stars(value),
    }
}

/// The first character and `***`.
fn stars(value: &str) -> String {
    format!("{}***", first_chars(value, 1))
}

fn first_chars(value: &str, n: usize) -> &str {
    let end = value.char_indices().nth(n).map_or(value.len(), |(i, _)| i);
    &value[..end]
}

/// Masks the personal data in an API response in place:
/// - a field named after personal data (`emails`, `given`, `birth_date`, `street`, …) has every string below it
///   masked as that kind; a birth date written as `{year, month, day}` keeps its year;
/// - an object naming its attribute or comparison (`{"attribute": "email", "value": …}`, `{"comparison":
///   "phone", "a": …, "b": …}`) has its value(s) masked as that attribute's kind;
/// - reasons and issues (`"reasons"`, `"issues"`) have the quoted values in them (`` `31-02-1990` ``) replaced.
pub fn mask_json(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(mask_json),
        Value::Object(map) => {
            let named = ["attribute", "comparison"]
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str))
                .and_then(Kind::of_field);
            for (key, v) in map.iter_mut() {
                if let Some(kind) = named.filter(|_| matches!(key.as_str(), "value" | "a" | "b")) {
                    mask_as(kind, v);
                } else if let Some(kind) = Kind::of_field(key) {
                    mask_as(kind, v);
                } else if key == "reasons" || key == "issues" {
                    mask_reasons(v);
                } else {
                    mask_json(v);
                }
            }
        }
        _ => {}
    }
}

/// Masks every string below `value` as `kind`.
fn mask_as(kind: Kind, value: &mut Value) {
    match value {
        Value::String(s) if !s.is_empty() => *s = mask(kind, s),
        Value::Array(items) => items.iter_mut().for_each(|v| mask_as(kind, v)),
        Value::Object(map) if kind == Kind::BirthDate => {
            for (k, v) in map.iter_mut() {
                if k != "year" {
                    *v = Value::Null;
                }
            }
        }
        Value::Object(map) => map.values_mut().for_each(|v| mask_as(kind, v)),
        Value::Number(_) => *value = Value::String("***".into()),
        _ => {}
    }
}

/// Replaces the back-quoted values in reason texts.
fn mask_reasons(value: &mut Value) {
    match value {
        Value::String(s) => {
            let mut out = String::with_capacity(s.len());
            for (i, part) in s.split('`').enumerate() {
                if i > 0 {
                    out.push('`');
                }
                out.push_str(if i % 2 == 1 { "***" } else { part });
            }
            *s = out;
        }
        Value::Array(items) => items.iter_mut().for_each(mask_reasons),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn masks_each_kind() {
        assert_eq!(mask(Kind::Email, "henk.devries@ziggo.nl"), "h***@ziggo.nl");
        assert_eq!(mask(Kind::Phone, "+31612345639"), "+31 6 **** 39");
        assert_eq!(mask(Kind::Phone, "+12382888104"), "+1 2 **** 04");
        assert_eq!(mask(Kind::Name, "Anna Maria"), "A*** M***");
        assert_eq!(mask(Kind::Name, "Élodie"), "É***");
        assert_eq!(mask(Kind::BirthDate, "1961-04-30"), "1961-**-**");
        assert_eq!(mask(Kind::Other, "6824 AB"), "6***");
        assert_eq!(mask(Kind::Email, "broken"), "b***");
        assert_eq!(mask(Kind::Phone, "12"), "1***");
    }

    #[test]
    fn masks_an_entity_response() {
        let mut body = json!({
            "id": "E7",
            "golden": [
                {"attribute": "given_name", "value": "Henk", "source": "crm", "source_id": "7", "rule": "trust"},
                {"attribute": "email", "value": "henk@ziggo.nl", "source": "crm", "source_id": "7", "rule": "trust"},
                {"attribute": "city", "value": "Arnhem", "source": "crm", "source_id": "7", "rule": "trust"},
                {"attribute": "identifier.kvk", "value": "09123456", "source": "crm", "source_id": "7", "rule": "trust"}
            ],
            "members": [{"source": "crm", "source_id": "7", "record": {
                "name": {"given": "Henk", "family": "Vries", "prefix": "de"},
                "birth_date": {"year": 1961, "month": 4, "day": 30},
                "emails": ["henk@ziggo.nl"], "phones": ["+31612345639"],
                "address": {"street": "Velperbroek", "house_number": "46", "postcode": "6824 AB", "city": "Arnhem"},
                "identifiers": {"kvk": "09123456"}
            }}],
            "fields": [{"comparison": "phone", "a": "+31612345639", "b": "", "label": "exact"}],
            "issues": ["`31-02-1961` is not a real date"]
        });
        mask_json(&mut body);
        let text = body.to_string();
        for secret in ["Henk", "henk@", "Velperbroek", "6824", "612345639", "09123456", "\"month\":4", "31-02"] {
            assert!(!text.contains(secret), "{secret} left in {text}");
        }
        assert_eq!(body["golden"][1]["value"], "h***@ziggo.nl");
        assert_eq!(body["golden"][2]["value"], "Arnhem", "a city is not masked");
        assert_eq!(body["members"][0]["record"]["birth_date"], json!({"year": 1961, "month": null, "day": null}));
        assert_eq!(body["members"][0]["record"]["phones"][0], "+31 6 **** 39");
        assert_eq!(body["members"][0]["record"]["address"]["city"], "Arnhem");
        assert_eq!(body["members"][0]["source_id"], "7", "source keys are not personal data");
        assert_eq!(body["fields"][0]["a"], "+31 6 **** 39");
        assert_eq!(body["issues"][0], "`***` is not a real date");
    }

    proptest! {
        #[test]
        fn masking_never_panics_and_hides_the_rest(value in "\\PC{0,40}") {
            for kind in [Kind::Email, Kind::Phone, Kind::Name, Kind::BirthDate, Kind::Other] {
                let masked = mask(kind, &value);
                if value.chars().count() > 8 && kind != Kind::Email {
                    prop_assert_ne!(&masked, &value);
                }
            }
        }
    }
}
