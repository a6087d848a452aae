//! Text normalisation shared by the field cleaners: Unicode NFC, control characters, white space, case.

use unicode_normalization::UnicodeNormalization;

/// NFC-normalises, removes control characters and collapses white space; `None` when nothing is left.
pub fn tidy(raw: &str) -> Option<String> {
    // ASCII text is already in NFC: most values skip the normaliser, and are tidied byte by byte.
    if raw.is_ascii() { tidy_ascii(raw) } else { tidy_chars(raw.nfc(), raw.len()) }
}

/// [`tidy_chars`] for ASCII text, byte by byte: the whitespace `char::is_whitespace` finds in ASCII is tab to
/// carriage return and the space; the controls are the rest below the space, and DEL.
fn tidy_ascii(raw: &str) -> Option<String> {
    let mut out: Vec<u8> = Vec::with_capacity(raw.len());
    let mut pending_space = false;
    for &b in raw.as_bytes() {
        if b.is_ascii_whitespace() || b == 0x0b {
            pending_space = !out.is_empty();
        } else if !b.is_ascii_control() {
            if pending_space {
                out.push(b' ');
                pending_space = false;
            }
            out.push(b);
        }
    }
    // Only ASCII bytes were copied.
    (!out.is_empty()).then(|| String::from_utf8(out).unwrap_or_default())
}

fn tidy_chars(chars: impl Iterator<Item = char>, capacity: usize) -> Option<String> {
    let mut out = String::with_capacity(capacity);
    let mut pending_space = false;
    for c in chars {
        if c.is_whitespace() || c == '\u{a0}' {
            pending_space = !out.is_empty();
        } else if !c.is_control() {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Folds to lower-case ASCII letters, digits and single spaces: "Müller-Lüdenscheidt" → "muller ludenscheidt".
/// This is the form comparisons and match keys use.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    fold_into(text, &mut out);
    out
}

/// Appends the folded form of `text` (see [`fold`]) to `out`; ASCII input is folded without an intermediate copy.
pub fn fold_into(text: &str, out: &mut String) {
    let start = out.len();
    let push = |c: char, out: &mut String| {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if c != '\'' && out.len() > start && !out.ends_with(' ') {
            out.push(' ');
        }
    };
    if text.is_ascii() {
        text.chars().for_each(|c| push(c, out));
    } else {
        deunicode::deunicode(text).chars().for_each(|c| push(c, out));
    }
    while out.len() > start && out.ends_with(' ') {
        out.pop();
    }
}

/// Title-cases each word ("de VRIES-jansen" → "De Vries-Jansen"), keeping letters after an apostrophe lower
/// only when they end the word ("d'Artagnan" stays readable).
pub fn title_case(text: &str) -> String {
    if text.is_ascii() { title_case_ascii(text) } else { title_case_chars(text) }
}

/// [`title_case`] char by char, with Unicode case mapping.
fn title_case_chars(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start_of_word = true;
    for c in text.chars() {
        if c.is_alphabetic() {
            if start_of_word {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
            start_of_word = false;
        } else {
            out.push(c);
            start_of_word = c != '\'';
        }
    }
    out
}

/// [`title_case`] of ASCII text, byte by byte.
fn title_case_ascii(text: &str) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut start_of_word = true;
    for &b in text.as_bytes() {
        if b.is_ascii_alphabetic() {
            out.push(if start_of_word { b.to_ascii_uppercase() } else { b.to_ascii_lowercase() });
            start_of_word = false;
        } else {
            out.push(b);
            start_of_word = b != b'\'';
        }
    }
    // Only ASCII bytes were copied.
    String::from_utf8(out).unwrap_or_default()
}

/// True when the text has letters and every letter has the same case (an all-caps or all-lower entry).
pub fn is_single_case(text: &str) -> bool {
    let letters = text.chars().filter(|c| c.is_alphabetic());
    let (mut upper, mut lower) = (false, false);
    for c in letters {
        upper |= c.is_uppercase();
        lower |= c.is_lowercase();
    }
    upper != lower
}

/// Longest value (in bytes) any single canonical field may hold; longer values are rejected as garbage.
pub const MAX_VALUE_LEN: usize = 512;

#[cfg(test)]
mod tests {
    use super::*;

    fn check_fold(input: &str, expected: &str) {
        assert_eq!(fold(input), expected, "fold({input:?})");
    }

    #[test]
    fn folds() {
        check_fold("Müller-Lüdenscheidt", "muller ludenscheidt");
        check_fold("  O'Brien ", "obrien");
        check_fold("ÉLODIE  van der Berg", "elodie van der berg");
        check_fold("", "");
        check_fold("--", "");
    }

    #[test]
    fn tidies() {
        assert_eq!(tidy("  a \t b\u{0}c  "), Some("a bc".to_string()));
        assert_eq!(tidy(" \u{a0} "), None);
        assert_eq!(tidy("e\u{301}"), Some("é".to_string()));
    }

    #[test]
    fn title_cases() {
        assert_eq!(title_case("de VRIES-jansen"), "De Vries-Jansen");
        assert_eq!(title_case("o'brien"), "O'brien");
    }

    proptest::proptest! {
        #[test]
        fn ascii_is_tidied_and_title_cased_as_char_by_char(s in "[\\x00-\\x7f]{0,40}") {
            proptest::prop_assert_eq!(tidy(&s), tidy_chars(s.chars(), s.len()));
            proptest::prop_assert_eq!(title_case(&s), title_case_chars(&s));
        }

        #[test]
        fn fold_is_idempotent_and_ascii(s in "\\PC{0,40}") {
            let once = fold(&s);
            proptest::prop_assert!(once.is_ascii());
            proptest::prop_assert_eq!(fold(&once), once.clone());
        }

        #[test]
        fn fold_of_ascii_is_its_words_lower_cased(s in "[ -~]{0,40}") {
            // The words: runs of letters, digits and apostrophes, apostrophes dropped; joined by single spaces.
            let words: Vec<String> = s
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '\'')
                .map(|w| w.replace('\'', "").to_ascii_lowercase())
                .filter(|w| !w.is_empty())
                .collect();
            proptest::prop_assert_eq!(fold(&s), words.join(" "));
        }

        #[test]
        fn fold_into_appends_the_fold(prefix in "[a-z ]{0,5}", s in "\\PC{0,40}") {
            let mut out = prefix.clone();
            fold_into(&s, &mut out);
            proptest::prop_assert_eq!(out, format!("{prefix}{}", fold(&s)));
        }
    }
}
