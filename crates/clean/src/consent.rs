//! Consent answers as sources write them: yes/no, true/false, 1/0, opt-in/opt-out, granted/denied, and the
//! Dutch, German and French words for yes and no — read as granted (true) or refused (false).

/// Words that grant consent (compared folded: lower case, without spaces, dashes, underscores or dots).
const GRANTED: &[&str] =
    &["yes", "y", "true", "t", "1", "optin", "in", "granted", "given", "subscribed", "agree", "ja", "j", "oui", "si"];

/// Words that refuse it.
const REFUSED: &[&str] = &[
    "no",
    "n",
    "false",
    "f",
    "0",
    "optout",
    "out",
    "denied",
    "refused",
    "withdrawn",
    "unsubscribed",
    "disagree",
    "nee",
    "nein",
    "non",
];

/// Reads one answer: `Ok(true)` granted, `Ok(false)` refused, or why it is not an answer.
pub fn parse_consent(answer: &str) -> Result<bool, String> {
    let folded: String =
        answer.chars().filter(|c| !matches!(c, ' ' | '-' | '_' | '.')).flat_map(char::to_lowercase).collect();
    if GRANTED.contains(&folded.as_str()) {
        Ok(true)
    } else if REFUSED.contains(&folded.as_str()) {
        Ok(false)
    } else {
        Err("not a consent answer (yes/no, true/false, 1/0, opt-in/opt-out, granted/denied)".to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_the_usual_answers() {
        for yes in ["yes", "Y", "TRUE", "1", "opt-in", "Opt In", "granted", "ja", "subscribed"] {
            assert_eq!(parse_consent(yes), Ok(true), "{yes}");
        }
        for no in ["no", "N", "false", "0", "opt-out", "OPT_OUT", "denied", "nee", "withdrawn"] {
            assert_eq!(parse_consent(no), Ok(false), "{no}");
        }
        for neither in ["maybe", "2", "", "yes please", "n/a"] {
            assert!(parse_consent(neither).is_err(), "{neither}");
        }
    }

    proptest! {
        #[test]
        fn never_panics(text in ".{0,40}") {
            let _ = parse_consent(&text);
        }

        #[test]
        fn known_words_read_whatever_their_case_and_separators(
            word in proptest::sample::select([GRANTED, REFUSED].concat()),
            upper in proptest::collection::vec(any::<bool>(), 16),
            dash in any::<bool>(),
        ) {
            let written: String = word
                .chars()
                .zip(upper.iter().cycle())
                .map(|(c, u)| if *u { c.to_ascii_uppercase() } else { c })
                .collect();
            let written = if dash && written.len() > 2 { format!("{}-{}", &written[..2], &written[2..]) } else { written };
            prop_assert_eq!(parse_consent(&written), Ok(GRANTED.contains(&word)));
        }
    }
}
