//! Person names: split composite names ("Henk de Vries", "de Vries, H.", "Vries, de") into given name,
//! initials, family-name prefix and family name; strip titles; recognise Dutch, German, Belgian and Romance
//! prefixes. Case is normalised only where the input was all one case, so "McDonald" survives.

use crate::text::{is_single_case, tidy, title_case};
use model::PersonName;

/// Family-name prefixes, longest first so that "van der" wins over "van".
const PREFIXES: &[&str] = &[
    "van de", "van der", "van den", "van het", "van 't", "van t", "in 't", "in de", "in het", "op de", "op den",
    "op 't", "uit de", "uit den", "von der", "von dem", "van", "de", "der", "den", "het", "'t", "te", "ter", "ten",
    "von", "vom", "zu", "zum", "zur", "la", "le", "du", "des", "di", "da", "dos", "das", "del", "della", "d'", "l'",
];

/// Titles and honorifics dropped from names.
const TITLES: &[&str] = &[
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "dhr", "mevr", "mw", "mej", "ir", "ing", "drs", "ds",
    "herr", "frau", "mme", "mlle", "mevrouw", "meneer", "heer", "ing", "bsc", "msc", "phd",
];

/// Suffixes dropped from the end of names.
const SUFFIXES: &[&str] = &["jr", "sr", "ii", "iii", "iv", "jun", "sen"];

/// Parses a whole name in one value.
pub fn parse_full(raw: &str) -> PersonName {
    let Some(text) = tidy(raw) else {
        return PersonName::default();
    };
    let text = text.trim_matches(|c| c == '"' || c == '\'').to_string();
    if let Some((left, right)) = text.split_once(',') {
        return parse_family_first(left, right);
    }
    let tokens = significant_tokens(&text);
    match tokens.len() {
        0 => PersonName::default(),
        1 => with_family(PersonName::default(), tokens[0]),
        n => {
            let split = (0..n - 1).find_map(|i| prefix_at(&tokens, i).filter(|(_, end)| *end < n).map(|p| (i, p)));
            let (given_tokens, prefix, family_tokens) = match split {
                Some((i, (prefix, end))) => (&tokens[..i], Some(prefix), &tokens[end..]),
                None => (&tokens[..n - 1], None, &tokens[n - 1..]),
            };
            let mut name = given_from_tokens(given_tokens);
            name.prefix = prefix.map(str::to_string);
            with_family(name, &family_tokens.join(" "))
        }
    }
}

/// Parses a family-name value that may carry its prefix: "de Vries", "van der Berg", "Vries, de".
pub fn parse_family(raw: &str) -> (Option<String>, Option<String>) {
    let Some(text) = tidy(raw) else {
        return (None, None);
    };
    if let Some((left, right)) = text.split_once(',') {
        let name = parse_family_first(left, right);
        return (name.prefix, name.family);
    }
    let tokens = significant_tokens(&text);
    match prefix_at(&tokens, 0) {
        Some((prefix, end)) if end < tokens.len() => {
            (Some(prefix.to_string()), Some(case_name(&tokens[end..].join(" "))))
        }
        _ if tokens.is_empty() => (None, None),
        _ => (None, Some(case_name(&tokens.join(" ")))),
    }
}

/// Parses a given-name value: "Henk", "H.J.", "Anna Maria", "Henk J." → given name and initials.
pub fn parse_given(raw: &str) -> PersonName {
    let Some(text) = tidy(raw) else {
        return PersonName::default();
    };
    let tokens = significant_tokens(&text);
    given_from_tokens(&tokens)
}

/// Normalises an explicit initials value: "h.j." → "HJ".
pub fn parse_initials(raw: &str) -> Option<String> {
    let letters: String = raw.chars().filter(|c| c.is_alphabetic()).flat_map(char::to_uppercase).collect();
    (!letters.is_empty() && letters.chars().count() <= 8).then_some(letters)
}

/// Normalises an explicit prefix value: "Van Der" → "van der".
pub fn parse_prefix(raw: &str) -> Option<String> {
    tidy(raw).map(|p| p.to_lowercase())
}

/// "Family, Given" with the prefix at either end: "de Vries, H.", "Vries, Henk de", "Vries, de".
fn parse_family_first(left: &str, right: &str) -> PersonName {
    let right_tokens = significant_tokens(right);
    // A prefix written after the given part: "Vries, H. de" or just "Vries, de".
    let trailing = (0..right_tokens.len())
        .find_map(|i| prefix_at(&right_tokens, i).filter(|(_, end)| *end == right_tokens.len()).map(|p| (i, p.0)));
    let (given_tokens, right_prefix) = match trailing {
        Some((i, prefix)) => (&right_tokens[..i], Some(prefix)),
        None => (&right_tokens[..], None),
    };
    let (left_prefix, family) = parse_family(left);
    let mut name = given_from_tokens(given_tokens);
    name.prefix = right_prefix.map(str::to_string).or(left_prefix);
    name.family = family;
    name
}

/// Tokens with titles (anywhere before the last token) and trailing suffixes removed.
fn significant_tokens(text: &str) -> Vec<&str> {
    let mut tokens: Vec<&str> = text.split([' ', '\t']).filter(|t| !t.is_empty()).collect();
    // The titles and suffixes are ASCII: compared in place, without a lower-cased copy of every token.
    let is_in = |list: &[&str], t: &str| {
        let bare = t.trim_end_matches('.');
        list.iter().any(|w| bare.eq_ignore_ascii_case(w))
    };
    while tokens.len() > 1 && is_in(SUFFIXES, tokens[tokens.len() - 1]) {
        tokens.pop();
    }
    let keep_last = tokens.len().saturating_sub(1);
    let mut i = 0;
    tokens.retain(|t| {
        let drop = i < keep_last && is_in(TITLES, t);
        i += 1;
        !drop
    });
    tokens
}

/// The words a prefix phrase starts with, and the longest of them.
const PREFIX_FIRST_WORDS: &[&str] = &[
    "van", "in", "op", "uit", "von", "de", "der", "den", "het", "'t", "te", "ter", "ten", "vom", "zu", "zum", "zur",
    "la", "le", "du", "des", "di", "da", "dos", "das", "del", "della", "d'", "l'",
];
const LONGEST_PREFIX_WORD: usize = 5;

/// The prefix phrase starting at token `i`, and the index after it.
/// Runs for every family name, so it compares in place (the prefixes are ASCII) instead of lower-casing copies,
/// and a token that starts no prefix phrase (most family names) is ruled out before the phrases are tried.
fn prefix_at(tokens: &[&str], i: usize) -> Option<(&'static str, usize)> {
    let first = tokens.get(i)?.trim_end_matches('.');
    if first.len() > LONGEST_PREFIX_WORD || !PREFIX_FIRST_WORDS.iter().any(|w| first.eq_ignore_ascii_case(w)) {
        return None;
    }
    prefix_by_phrase(tokens, i)
}

/// The prefix phrase starting at token `i`, each phrase tried in turn.
fn prefix_by_phrase(tokens: &[&str], i: usize) -> Option<(&'static str, usize)> {
    PREFIXES.iter().find_map(|p| {
        let mut end = i;
        for word in p.split(' ') {
            let token = tokens.get(end)?;
            if !token.trim_end_matches('.').eq_ignore_ascii_case(word) {
                return None;
            }
            end += 1;
        }
        Some((*p, end))
    })
}

/// True for "H.", "H.J.", "h.j", "H", "HJ." and "HJ" (capitals without a vowel) — initials rather than a name.
fn is_initials(token: &str) -> bool {
    let letters = token.chars().filter(|c| c.is_alphabetic()).count();
    let dots = token.chars().filter(|c| *c == '.').count();
    let shape = letters > 0 && token.chars().all(|c| c.is_alphabetic() || c == '.');
    let dotted = letters == 1 || (dots > 0 && dots + 1 >= letters);
    let capitals = (2..=4).contains(&letters)
        && token.chars().all(|c| c.is_ascii_uppercase())
        && !token.chars().any(|c| "AEIOUY".contains(c));
    shape && (dotted || capitals)
}

/// Given names and initials from the tokens before the family name.
fn given_from_tokens(tokens: &[&str]) -> PersonName {
    let mut explicit = String::new();
    let mut given = Vec::new();
    for t in tokens {
        if is_initials(t) {
            explicit.extend(t.chars().filter(|c| c.is_alphabetic()).flat_map(char::to_uppercase));
        } else {
            given.push(*t);
        }
    }
    let given = (!given.is_empty()).then(|| case_name(&given.join(" ")));
    let derived: String = given
        .iter()
        .flat_map(|g| g.split([' ', '-']))
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .collect();
    let initials = if explicit.chars().count() >= derived.chars().count() { explicit } else { derived };
    PersonName { given, initials: (!initials.is_empty()).then_some(initials), prefix: None, family: None }
}

fn with_family(mut name: PersonName, family: &str) -> PersonName {
    let family = family.trim_matches(|c: char| c == ',' || c == '.');
    name.family = (!family.is_empty()).then(|| case_name(family));
    name
}

/// Title-cases names typed in one case; keeps deliberate mixed case ("McDonald", "DiCaprio").
fn case_name(text: &str) -> String {
    if is_single_case(text) { title_case(text) } else { text.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    fn check(raw: &str, given: Option<&str>, initials: Option<&str>, prefix: Option<&str>, family: Option<&str>) {
        let n = parse_full(raw);
        let got = (n.given.as_deref(), n.initials.as_deref(), n.prefix.as_deref(), n.family.as_deref());
        assert_eq!(got, (given, initials, prefix, family), "parse_full({raw:?})");
    }

    #[test]
    fn splits_full_names() {
        check("Henk de Vries", Some("Henk"), Some("H"), Some("de"), Some("Vries"));
        check("de Vries, H.", None, Some("H"), Some("de"), Some("Vries"));
        check("Vries, de", None, None, Some("de"), Some("Vries"));
        check("Vries, H.J. de", None, Some("HJ"), Some("de"), Some("Vries"));
        check("Vries, Henk de", Some("Henk"), Some("H"), Some("de"), Some("Vries"));
        check("Dhr. H.J. van der Berg", None, Some("HJ"), Some("van der"), Some("Berg"));
        check("Anna Maria van den Broek-Jansen", Some("Anna Maria"), Some("AM"), Some("van den"), Some("Broek-Jansen"));
        check("JOHN SMITH Jr.", Some("John"), Some("J"), None, Some("Smith"));
        check("Smith, John", Some("John"), Some("J"), None, Some("Smith"));
        check("Ronald McDonald", Some("Ronald"), Some("R"), None, Some("McDonald"));
        check("Madonna", None, None, None, Some("Madonna"));
        check("Karl-Heinz von der Heide", Some("Karl-Heinz"), Some("KH"), Some("von der"), Some("Heide"));
        check("HJ de Vries", None, Some("HJ"), Some("de"), Some("Vries"));
        check("HJ DE VRIES", None, Some("HJ"), Some("de"), Some("Vries"));
        check("Bo de Vries", Some("Bo"), Some("B"), Some("de"), Some("Vries"));
        check("  ", None, None, None, None);
        check(",", None, None, None, None);
    }

    #[test]
    fn splits_family_values() {
        assert_eq!(parse_family("van der Berg"), (Some("van der".into()), Some("Berg".into())));
        assert_eq!(parse_family("Vries, de"), (Some("de".into()), Some("Vries".into())));
        assert_eq!(parse_family("de"), (None, Some("De".into())));
        assert_eq!(parse_family("JANSEN"), (None, Some("Jansen".into())));
    }

    #[test]
    fn given_values_and_initials() {
        let n = parse_given("H.J.");
        assert_eq!((n.given, n.initials), (None, Some("HJ".into())));
        let n = parse_given("henk jan");
        assert_eq!((n.given, n.initials), (Some("Henk Jan".into()), Some("HJ".into())));
        assert_eq!(parse_initials("h.j."), Some("HJ".into()));
        assert_eq!(parse_prefix("Van Der"), Some("van der".into()));
    }

    #[test]
    fn the_first_words_are_those_of_the_prefixes() {
        let mut firsts: Vec<&str> = PREFIXES.iter().filter_map(|p| p.split(' ').next()).collect();
        firsts.sort_unstable();
        firsts.dedup();
        let mut listed = PREFIX_FIRST_WORDS.to_vec();
        listed.sort_unstable();
        assert_eq!(listed, firsts);
        assert_eq!(PREFIX_FIRST_WORDS.iter().map(|w| w.len()).max(), Some(LONGEST_PREFIX_WORD));
    }

    proptest::proptest! {
        #[test]
        fn a_prefix_is_found_as_by_trying_every_phrase(
            words in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(PREFIXES.iter().flat_map(|p| p.split(' ')).collect::<Vec<_>>())
                        .prop_map(str::to_string),
                    "[a-zA-Z'.]{1,7}",
                ],
                0..5,
            ),
            shout in proptest::bool::ANY,
        ) {
            let words: Vec<String> =
                words.into_iter().map(|w| if shout { w.to_uppercase() } else { w }).collect();
            let tokens: Vec<&str> = words.iter().map(String::as_str).collect();
            for i in 0..=tokens.len() {
                proptest::prop_assert_eq!(prefix_at(&tokens, i), prefix_by_phrase(&tokens, i));
            }
        }

        #[test]
        fn never_panics_and_never_invents_letters(s in "\\PC{0,60}") {
            let n = parse_full(&s);
            for part in [n.given, n.prefix, n.family].into_iter().flatten() {
                proptest::prop_assert!(!part.is_empty());
            }
            let _ = parse_family(&s);
            let _ = parse_given(&s);
        }
    }
}
