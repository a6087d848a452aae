//! Phone numbers to E.164 (`+31612345678`) with a default country per source, via the `rlibphonenumber` crate
//! (a port of Google's libphonenumber with its metadata, which parses a number as the original does).

use rlibphonenumber::{ParseError, PhoneNumber, PhoneNumberFormat, Region};

/// Splits an E.164 number (`+31612345678`) into its country calling code and national number (`31`,
/// `612345678`); `None` when it does not parse.
pub fn split_e164(e164: &str) -> Option<(u16, String)> {
    let number = PhoneNumber::parse(e164, None).ok()?;
    Some((u16::try_from(number.country_code).ok()?, number.get_national_significant_number()))
}

/// Standardises a phone number. Numbers without a country code take `default_country` (ISO alpha-2).
/// A number that parses but is not valid by the metadata is still kept when it has a plausible length, because
/// real systems hold numbers the metadata does not know yet.
pub fn clean_phone(raw: &str, default_country: Option<&str>) -> Result<String, String> {
    let trimmed = raw.trim();
    // The international call prefix 00 means the same as a leading plus in most of the world.
    let international;
    let trimmed = match trimmed.strip_prefix("00") {
        Some(rest) => {
            international = format!("+{rest}");
            international.as_str()
        }
        None => trimmed,
    };
    let digits = trimmed.chars().filter(char::is_ascii_digit).count();
    if !(6..=17).contains(&digits) {
        return Err(format!("phone number has {digits} digits; expected 6 to 17"));
    }
    let region = default_country.and_then(|c| Region::from_code(&c.to_ascii_uppercase()).ok());
    let number = PhoneNumber::parse(trimmed, region).map_err(|e| match (region, e) {
        (None, ParseError::InvalidCountryCode) if !trimmed.starts_with('+') => {
            "phone number has no country code and the source has no default country".to_string()
        }
        (_, e) => format!("not a phone number: {}", reason(&e)),
    })?;
    let national_digits = number.get_national_significant_number().len();
    // Length first: validation runs the metadata's patterns and is needed only for an unusual length.
    if !(7..=12).contains(&national_digits) && !number.is_valid() {
        return Err("phone number has an impossible length for its country".into());
    }
    Ok(number.format_as(PhoneNumberFormat::E164).into_owned())
}

/// Why a number did not parse, in the words of a quarantine reason.
fn reason(e: &ParseError) -> &'static str {
    match e {
        ParseError::InvalidCountryCode => "unknown country calling code",
        ParseError::TooShortAfterIdd | ParseError::TooShortNsn => "too short",
        ParseError::TooLongNsn => "too long",
        _ => "no number in it",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_as_e164() {
        assert_eq!(clean_phone("06-12345678", Some("NL")), Ok("+31612345678".into()));
        assert_eq!(clean_phone("+31 (0)26 123 4567", Some("NL")), Ok("+31261234567".into()));
        assert_eq!(clean_phone("0031 6 1234 5678", None), Ok("+31612345678".into()));
        assert_eq!(clean_phone("(212) 555-0123", Some("US")), Ok("+12125550123".into()));
        assert_eq!(clean_phone("+1 212 555 0123", Some("NL")), Ok("+12125550123".into()));
        assert_eq!(clean_phone("06 1234 5678", Some("IT")), Ok("+390612345678".into()), "Italian leading zero kept");
    }

    #[test]
    fn rejects_with_reasons() {
        assert!(clean_phone("12", Some("NL")).expect_err("should be rejected").contains("digits"));
        assert!(clean_phone("0612345678", None).expect_err("should be rejected").contains("default country"));
        assert!(clean_phone("call me", Some("NL")).is_err());
        let unknown = clean_phone("+999 1234 5678", Some("NL")).expect_err("no such country calling code");
        assert_eq!(unknown, "not a phone number: unknown country calling code");
    }

    #[test]
    fn groups_of_any_length_after_a_plus() {
        // Parsed as libphonenumber does: a last group of one digit after a dash is part of the number.
        assert_eq!(clean_phone("+31 6-1234 567-8", Some("NL")), Ok("+31612345678".into()));
        assert_eq!(clean_phone("+44 20 7946-0958", None), Ok("+442079460958".into()));
    }

    #[test]
    fn splits_e164() {
        assert_eq!(split_e164("+31612345678"), Some((31, "612345678".to_string())));
        assert_eq!(split_e164("+390612345678"), Some((39, "0612345678".to_string())), "Italian leading zero kept");
        assert_eq!(split_e164("not a number"), None);
    }

    proptest::proptest! {
        #[test]
        fn e164_is_what_the_crate_formats(s in "(\\+|00)?[0-9]{6,14}", region in "(NL|IT|US|DE|GB|FR)") {
            if let Ok(p) = clean_phone(&s, Some(&region)) {
                let id = Region::from_code(&region).ok();
                let number = PhoneNumber::parse(s.replacen("00", "+", usize::from(s.starts_with("00"))), id);
                let formatted = number.map(|n| n.format_as(PhoneNumberFormat::E164).into_owned());
                proptest::prop_assert_eq!(Ok(p), formatted.map_err(|e| e.to_string()));
            }
        }

        #[test]
        fn never_panics_and_is_e164(s in "[+0-9 ()-]{0,24}") {
            if let Ok(p) = clean_phone(&s, Some("NL")) {
                proptest::prop_assert!(p.starts_with('+'));
                proptest::prop_assert!(p[1..].chars().all(|c| c.is_ascii_digit()));
            }
        }
    }
}
