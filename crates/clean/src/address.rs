//! Street addresses: split "Velperbroek 46A" / "46-2 Velperbroek" / "123 Main St" into street, house number
//! and addition; standardise street names (case, common abbreviations). No geocoding.

use crate::text::{is_single_case, tidy, title_case};

/// Street, number and addition found in one address line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressLine {
    /// Street name as written (standardise with [`clean_street`]).
    pub street: Option<String>,
    /// House number, digits only.
    pub number: Option<String>,
    /// Addition, upper case.
    pub addition: Option<String>,
}

/// Postcode and city found after the street in a one-field address ("…, 6824 AB Arnhem").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Locality {
    /// Postcode as written.
    pub postcode: Option<String>,
    /// City.
    pub city: Option<String>,
}

/// Reads the postcode and city from the parts of an address line after its first comma, if any: the first
/// part that starts with a valid postcode for `country`, with the words after it (or the last part) as city.
pub fn split_locality(raw: &str, country: Option<&str>) -> Locality {
    let Some(text) = tidy(raw) else {
        return Locality::default();
    };
    let Some((_, rest)) = text.split_once(',') else {
        return Locality::default();
    };
    let parts: Vec<&str> = rest.split(',').map(str::trim).filter(|p| !p.is_empty()).collect();
    for part in &parts {
        let words: Vec<&str> = part.split(' ').collect();
        // Postcodes take one or two words ("6824 AB", "6824AB", "12345").
        for take in [2, 1] {
            if words.len() < take || !words[0].starts_with(|c: char| c.is_ascii_digit()) {
                continue;
            }
            let candidate = words[..take].join(" ");
            if crate::postcode::clean_postcode(&candidate, country).is_ok() {
                let rest_words = words[take..].join(" ");
                let city = if rest_words.is_empty() {
                    parts.iter().rev().find(|p| *p != part).map(|p| p.to_string())
                } else {
                    Some(rest_words)
                };
                return Locality { postcode: Some(candidate), city };
            }
        }
    }
    Locality { postcode: None, city: parts.last().map(|p| p.to_string()) }
}

/// Splits an address line into street, house number and addition.
pub fn split_address_line(raw: &str) -> AddressLine {
    let Some(text) = tidy(raw) else {
        return AddressLine::default();
    };
    let first_part = text.split(',').next().unwrap_or(&text);
    let tokens: Vec<&str> = first_part.split(' ').filter(|t| !t.is_empty()).collect();
    let starts_with_digit = |t: &&str| t.chars().next().is_some_and(|c| c.is_ascii_digit());
    let join = |ts: &[&str]| (!ts.is_empty()).then(|| ts.join(" "));
    if tokens.first().is_some_and(starts_with_digit) && tokens.len() > 1 {
        let (number, addition) = split_house_number(tokens[0]);
        return AddressLine { street: join(&tokens[1..]), number, addition };
    }
    let Some(i) = tokens.iter().rposition(starts_with_digit).filter(|i| *i > 0) else {
        return AddressLine { street: join(&tokens), ..AddressLine::default() };
    };
    let (number, mut addition) = split_house_number(tokens[i]);
    let rest = &tokens[i + 1..];
    if addition.is_none() && !rest.is_empty() && rest.len() <= 2 && rest.iter().all(|t| t.len() <= 4) {
        addition = clean_addition(&rest.join(" "));
    }
    AddressLine { street: join(&tokens[..i]), number, addition }
}

/// Splits a house-number value: "46A" → (46, A), "46-2" → (46, 2), "46 bis" → (46, BIS), "hs" → (None, None).
pub fn split_house_number(raw: &str) -> (Option<String>, Option<String>) {
    let text = raw.trim();
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() {
        return (None, None);
    }
    let number = digits.trim_start_matches('0');
    let number = if number.is_empty() { "0" } else { number };
    (Some(number.to_string()), clean_addition(&text[digits.len()..]))
}

/// A house-number addition in standard form: letters and digits only, upper case ("-a" → "A"); `None` when empty.
pub fn normalise_addition(raw: &str) -> Option<String> {
    let addition: String = raw.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect();
    (!addition.is_empty()).then_some(addition)
}

/// An addition found next to a house number: normalised, and at most 8 characters (longer is not an addition).
fn clean_addition(raw: &str) -> Option<String> {
    normalise_addition(raw).filter(|a| a.len() <= 8)
}

/// Standardises a street name: case, and the trailing street-type abbreviation ("St" → "Street",
/// "Kerkstr." → "Kerkstraat" in NL/BE, "Hauptstr." → "Hauptstraße" in DE/AT/CH).
pub fn clean_street(raw: &str, country: Option<&str>) -> Option<String> {
    let text = tidy(raw)?;
    let mut text = if is_single_case(&text) { title_case(&text) } else { text };
    // Only the last word changes: it is rewritten in place (the abbreviations are ASCII, compared without a
    // lower-cased copy).
    let (start, has_words_before) = text.rfind(' ').map_or((0, false), |i| (i + 1, true));
    let bare = text[start..].trim_end_matches('.');
    let stem_end = start + bare.len();
    let expanded = has_words_before.then(|| street_type(bare)).flatten();
    if let Some(word) = expanded {
        text.replace_range(start.., word);
    } else if bare.len() > 3 && bare.as_bytes()[bare.len() - 3..].eq_ignore_ascii_case(b"str") {
        let suffix = match country {
            Some("DE" | "AT" | "CH") => "straße",
            Some("NL" | "BE") => "straat",
            _ => "str",
        };
        text.replace_range(stem_end - 3.., suffix);
    }
    Some(text)
}

/// The street type an abbreviation at the end of a street name stands for.
fn street_type(word: &str) -> Option<&'static str> {
    const TYPES: &[(&str, &str)] = &[
        ("st", "Street"),
        ("ave", "Avenue"),
        ("av", "Avenue"),
        ("rd", "Road"),
        ("ln", "Lane"),
        ("dr", "Drive"),
        ("ct", "Court"),
        ("pl", "Place"),
        ("wy", "Way"),
        ("cres", "Crescent"),
        ("cr", "Crescent"),
        ("blvd", "Boulevard"),
        ("hwy", "Highway"),
        ("sq", "Square"),
        ("tce", "Terrace"),
        ("terr", "Terrace"),
    ];
    TYPES.iter().find(|(short, _)| word.eq_ignore_ascii_case(short)).map(|(_, long)| *long)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, street: Option<&str>, number: Option<&str>, addition: Option<&str>) {
        let got = split_address_line(raw);
        let got = (got.street.as_deref(), got.number.as_deref(), got.addition.as_deref());
        assert_eq!(got, (street, number, addition), "split_address_line({raw:?})");
    }

    #[test]
    fn splits_lines() {
        check("Velperbroek 46A", Some("Velperbroek"), Some("46"), Some("A"));
        check("Velperbroek 46 A", Some("Velperbroek"), Some("46"), Some("A"));
        check("Velperbroek 46-2", Some("Velperbroek"), Some("46"), Some("2"));
        check("46-2 Velperbroek", Some("Velperbroek"), Some("46"), Some("2"));
        check("123 Main Street", Some("Main Street"), Some("123"), None);
        check("Laan van Meerdervoort 1024 bis", Some("Laan van Meerdervoort"), Some("1024"), Some("BIS"));
        check("Straße des 17. Juni 5", Some("Straße des 17. Juni"), Some("5"), None);
        check("Velperbroek", Some("Velperbroek"), None, None);
        check("Velperbroek 46, Arnhem", Some("Velperbroek"), Some("46"), None);
        check("", None, None, None);
    }

    #[test]
    fn localities() {
        let l = split_locality("Velperbroek 46A, 6824 AB Arnhem", Some("NL"));
        assert_eq!((l.postcode.as_deref(), l.city.as_deref()), (Some("6824 AB"), Some("Arnhem")));
        let l = split_locality("12 Main St, Springfield, 12345", Some("US"));
        assert_eq!((l.postcode.as_deref(), l.city.as_deref()), (Some("12345"), Some("Springfield")));
        let l = split_locality("Kerkstraat 1, Velp", Some("NL"));
        assert_eq!((l.postcode.as_deref(), l.city.as_deref()), (None, Some("Velp")));
        assert_eq!(split_locality("Kerkstraat 1", Some("NL")), Locality::default());
    }

    #[test]
    fn house_numbers() {
        assert_eq!(split_house_number("046a"), (Some("46".into()), Some("A".into())));
        assert_eq!(split_house_number("7"), (Some("7".into()), None));
        assert_eq!(split_house_number("hs"), (None, None));
    }

    #[test]
    fn streets() {
        assert_eq!(clean_street("MAIN ST", None).as_deref(), Some("Main Street"));
        assert_eq!(clean_street("Kerkstr.", Some("NL")).as_deref(), Some("Kerkstraat"));
        assert_eq!(clean_street("Hauptstr.", Some("DE")).as_deref(), Some("Hauptstraße"));
        assert_eq!(clean_street("st", None).as_deref(), Some("St"));
    }

    /// Street cleaning as it was written first: every word copied, the last one lower-cased to compare.
    fn clean_street_by_words(raw: &str, country: Option<&str>) -> Option<String> {
        let text = tidy(raw)?;
        let text = if is_single_case(&text) { title_case(&text) } else { text };
        let mut words: Vec<String> = text.split(' ').map(str::to_string).collect();
        let n_words = words.len();
        let last = words.last_mut()?;
        let bare = last.trim_end_matches('.').to_lowercase();
        let expanded = match bare.as_str() {
            "st" => Some("Street"),
            "ave" | "av" => Some("Avenue"),
            "rd" => Some("Road"),
            "ln" => Some("Lane"),
            "dr" => Some("Drive"),
            "ct" => Some("Court"),
            "pl" => Some("Place"),
            "wy" => Some("Way"),
            "cres" | "cr" => Some("Crescent"),
            "blvd" => Some("Boulevard"),
            "hwy" => Some("Highway"),
            "sq" => Some("Square"),
            "tce" | "terr" => Some("Terrace"),
            _ => None,
        };
        if let Some(word) = expanded.filter(|_| n_words > 1) {
            *last = word.to_string();
        } else if bare.ends_with("str") && bare.len() > 3 {
            let stem = last[..last.trim_end_matches('.').len() - 3].to_string();
            let suffix = match country {
                Some("DE" | "AT" | "CH") => "straße",
                Some("NL" | "BE") => "straat",
                _ => "str",
            };
            *last = format!("{stem}{suffix}");
        }
        Some(words.join(" "))
    }

    proptest::proptest! {
        #[test]
        fn a_street_is_cleaned_as_word_by_word(
            raw in "(([A-Za-zéß.]{1,8}|STR|str|St|AVE|Blvd\\.|Kerkstr\\.|[Hh]auptSTR) ?){0,4}",
            country in proptest::sample::select(vec![None, Some("NL"), Some("DE"), Some("US")]),
        ) {
            proptest::prop_assert_eq!(clean_street(&raw, country), clean_street_by_words(&raw, country));
        }

        #[test]
        fn any_text_is_cleaned_as_word_by_word(raw in "\\PC{0,30}(str|STR\\.)?") {
            proptest::prop_assert_eq!(clean_street(&raw, Some("DE")), clean_street_by_words(&raw, Some("DE")));
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let line = split_address_line(&s);
            if let Some(n) = line.number {
                proptest::prop_assert!(n.chars().all(|c| c.is_ascii_digit()));
            }
            let _ = clean_street(&s, Some("NL"));
        }
    }
}
