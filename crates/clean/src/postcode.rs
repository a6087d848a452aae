//! Postcodes in each country's canonical form: NL "6824 AB", US "12345" / "12345-6789", GB "SW1A 1AA",
//! four- and five-digit countries checked, anything else upper-cased and trimmed.

/// Standardises a postcode for `country` (ISO alpha-2, if known), or says why it cannot be one.
pub fn clean_postcode(raw: &str, country: Option<&str>) -> Result<String, String> {
    let compact: String = raw.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_uppercase).collect();
    if !compact.is_ascii() {
        return Err(format!("postcode `{}` contains characters no postcode uses", raw.trim()));
    }
    if compact.is_empty() {
        return Err("postcode has no letters or digits".into());
    }
    let digits_only = compact.chars().all(|c| c.is_ascii_digit());
    let invalid = |what: &str| Err(format!("`{}` is not a valid {what} postcode", raw.trim()));
    match country.map(str::to_ascii_uppercase).as_deref() {
        Some("NL") => {
            let (num, letters) = compact.split_at(compact.len().min(4));
            let num_ok = num.len() == 4 && num.chars().all(|c| c.is_ascii_digit()) && !num.starts_with('0');
            match letters.len() {
                _ if !num_ok => invalid("Dutch"),
                0 => Ok(num.to_string()),
                2 if letters.chars().all(|c| c.is_ascii_uppercase()) => Ok(format!("{num} {letters}")),
                _ => invalid("Dutch"),
            }
        }
        Some("US") => match compact.len() {
            5 if digits_only => Ok(compact),
            9 if digits_only => Ok(format!("{}-{}", &compact[..5], &compact[5..])),
            _ => invalid("US"),
        },
        Some("BE" | "AU" | "AT" | "CH" | "DK" | "NO" | "LU" | "NZ") if !(digits_only && compact.len() == 4) => {
            invalid("four-digit")
        }
        Some("DE" | "FR" | "ES" | "IT" | "FI") if !(digits_only && compact.len() == 5) => invalid("five-digit"),
        Some("GB") => {
            if !(5..=7).contains(&compact.len()) || !compact.is_ascii() {
                return invalid("UK");
            }
            let (outward, inward) = compact.split_at(compact.len() - 3);
            Ok(format!("{outward} {inward}"))
        }
        _ if compact.len() > 12 => Err(format!("postcode `{}` is longer than 12 characters", raw.trim())),
        _ => Ok(compact),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, country: Option<&str>, expected: Option<&str>) {
        assert_eq!(clean_postcode(raw, country).ok().as_deref(), expected, "clean_postcode({raw:?}, {country:?})");
    }

    #[test]
    fn per_country() {
        check("6824ab", Some("NL"), Some("6824 AB"));
        check(" 6824 AB ", Some("NL"), Some("6824 AB"));
        check("6824", Some("NL"), Some("6824"));
        check("0824 AB", Some("NL"), None);
        check("6824 A", Some("NL"), None);
        check("12345", Some("US"), Some("12345"));
        check("12345 6789", Some("US"), Some("12345-6789"));
        check("1234", Some("US"), None);
        check("sw1a1aa", Some("GB"), Some("SW1A 1AA"));
        check("2119", Some("AU"), Some("2119"));
        check("211", Some("AU"), None);
        check("10115", Some("DE"), Some("10115"));
        check("2119", None, Some("2119"));
        check("--", None, None);
    }

    proptest::proptest! {
        #[test]
        fn idempotent(s in "\\PC{0,16}", c in proptest::sample::select(vec!["NL", "US", "GB", "DE", "AU", "XX"])) {
            if let Ok(p) = clean_postcode(&s, Some(c)) {
                proptest::prop_assert_eq!(clean_postcode(&p, Some(c)), Ok(p.clone()));
            }
        }
    }
}
