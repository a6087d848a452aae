//! Email addresses: trimmed, `mailto:` removed, lower-cased, syntax checked.

use email_address::EmailAddress;

/// Standardises an email address, or says why it is not one.
pub fn clean_email(raw: &str) -> Result<String, String> {
    let trimmed = raw.trim().trim_matches(|c| c == '<' || c == '>' || c == '"');
    let bare = trimmed.strip_prefix("mailto:").unwrap_or(trimmed);
    let lower = bare.to_lowercase();
    if lower.is_empty() {
        return Err("empty email address".into());
    }
    if !EmailAddress::is_valid(&lower) {
        return Err("not a valid email address".into());
    }
    let domain = lower.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    let tld = domain.rsplit('.').next().unwrap_or_default();
    if !domain.contains('.') || tld.len() < 2 || !tld.chars().all(|c| c.is_ascii_alphabetic()) {
        return Err(format!("email domain `{domain}` has no valid top-level domain"));
    }
    Ok(lower)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_and_rejects() {
        assert_eq!(clean_email(" Henk.de.Vries@Ziggo.NL "), Ok("henk.de.vries@ziggo.nl".into()));
        assert_eq!(clean_email("mailto:a.b@example.com"), Ok("a.b@example.com".into()));
        for bad in
            ["", "henk", "henk@", "@ziggo.nl", "henk@ziggo", "henk@@ziggo.nl", "henk de vries@ziggo.nl", "a@b.c1"]
        {
            assert!(clean_email(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    proptest::proptest! {
        #[test]
        fn accepted_emails_are_lower_case_and_stable(s in "\\PC{0,40}") {
            if let Ok(e) = clean_email(&s) {
                proptest::prop_assert_eq!(e.to_lowercase(), e.clone());
                proptest::prop_assert_eq!(clean_email(&e), Ok(e.clone()));
            }
        }
    }
}
