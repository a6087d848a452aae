//! What the right to erasure needs decided, without IO: the suppression key that blocks a source record from
//! coming back, the digest a receipt keeps of what was erased, and whether an audit entry's target names the
//! person (by entity id, source record or identifier), so it can be redacted.

use clean::text::fold;
use model::EntityId;
use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};

/// What replaces personal data that was erased, in feed payloads and audit targets.
pub const REDACTED: &str = "[erased]";

/// SHA-256 of `bytes`, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The key under which an erased source record is suppressed: a SHA-256 of its source and id, so the list of
/// suppressed records names no one outright (a source's ids can still be tried one by one against it).
pub fn suppression_key(source: &str, source_id: &str) -> String {
    sha256_hex(format!("cdihub suppression\n{source}\n{source_id}").as_bytes())
}

/// Shortest identifier (folded) looked for in audit targets: shorter ones would match too much.
const MIN_IDENTIFIER: usize = 5;

/// The HTTP methods an API request's target starts with.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "PATCH"];

/// Fewest digits of a phone number looked for in audit targets.
const MIN_DIGITS: usize = 7;

/// Everything by which an audit target can name one person.
#[derive(Debug, Clone, Default)]
pub struct Mentions {
    entities: Vec<u64>,
    records: Vec<(String, String)>,
    /// Folded identifiers (emails, full names, …).
    texts: Vec<String>,
    /// Phone numbers as their trailing digits.
    digits: Vec<String>,
}

impl Mentions {
    /// The person's entity ids, source records `(source, id)`, identifying texts (email, full name, identifiers)
    /// and phone numbers.
    pub fn new<'a>(
        entities: impl IntoIterator<Item = u64>,
        records: impl IntoIterator<Item = (String, String)>,
        texts: impl IntoIterator<Item = &'a str>,
        phones: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        let mut texts: Vec<String> = texts.into_iter().map(fold).filter(|t| t.len() >= MIN_IDENTIFIER).collect();
        texts.sort();
        texts.dedup();
        let mut digits: Vec<String> = phones
            .into_iter()
            .map(|p| {
                let all: Vec<char> = p.chars().filter(char::is_ascii_digit).collect();
                // The trailing nine digits: the national number, however the country code was written.
                all[all.len().saturating_sub(9)..].iter().collect::<String>()
            })
            .filter(|d| d.len() >= MIN_DIGITS)
            .collect();
        digits.sort();
        digits.dedup();
        Mentions { entities: entities.into_iter().collect(), records: records.into_iter().collect(), texts, digits }
    }

    /// True when an audit target (`GET /entities/E12?…`, `PUT /sources/crm/records/K1`, `GET /search?q=…`, or a
    /// command line such as `-c hub.toml show crm:K1`) names the person.
    pub fn in_target(&self, target: &str) -> bool {
        let names_entity = |text: &str| text.parse::<EntityId>().is_ok_and(|e| self.entities.contains(&e.0));
        let names_record = |source: &str, id: &str| self.records.iter().any(|(s, i)| s == source && i == id);
        let Some((_, request)) =
            target.split_once(' ').filter(|(method, rest)| METHODS.contains(method) && rest.starts_with('/'))
        else {
            // A command line: each word on its own.
            return target.split_whitespace().any(|w| self.in_text(w, &names_entity, &names_record));
        };
        let (path, query) = request.split_once('?').unwrap_or((request, ""));
        let segments: Vec<String> = path.split('/').map(decode).collect();
        for window in segments.windows(2) {
            if matches!(window[0].as_str(), "entities" | "subjects") && names_entity(&window[1]) {
                return true;
            }
            // A subject named by a source record: `/subjects/crm:K1/export`.
            if window[0] == "subjects"
                && let Some((source, id)) = window[1].split_once(':')
                && names_record(source, id)
            {
                return true;
            }
        }
        for window in segments.windows(4) {
            if window[0] == "sources" && window[2] == "records" && names_record(&window[1], &window[3]) {
                return true;
            }
        }
        let pairs: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode_form(k), decode_form(v))
            })
            .collect();
        let value_of = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        if let (Some(source), Some(id)) = (value_of("source"), value_of("id"))
            && names_record(source, id)
        {
            return true;
        }
        // Values in the query, as free text.
        pairs.iter().any(|(_, v)| self.in_text(v, &names_entity, &names_record))
    }

    fn in_text(
        &self,
        value: &str,
        names_entity: &dyn Fn(&str) -> bool,
        names_record: &dyn Fn(&str, &str) -> bool,
    ) -> bool {
        if names_entity(value) && value.starts_with(['E', 'e']) {
            return true;
        }
        if let Some((source, id)) = value.split_once(':')
            && names_record(source, id)
        {
            return true;
        }
        let folded = format!(" {} ", fold(value));
        if self.texts.iter().any(|t| folded.contains(&format!(" {t} "))) {
            return true;
        }
        let digits: String = value.chars().filter(char::is_ascii_digit).collect();
        self.digits.iter().any(|d| digits.contains(d.as_str()))
    }
}

/// A path segment, percent-decoded.
fn decode(segment: &str) -> String {
    percent_decode_str(segment).decode_utf8_lossy().into_owned()
}

/// A query name or value: `+` is a space, then percent-decoded.
fn decode_form(text: &str) -> String {
    decode(&text.replace('+', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn henk() -> Mentions {
        Mentions::new(
            [12, 7],
            [("crm".to_string(), "K 1/2".to_string()), ("shop".to_string(), "W9".to_string())],
            ["h.devries@ziggo.nl", "Henk de Vries", "NL12"],
            ["+31 6 12345678"],
        )
    }

    #[test]
    fn targets_naming_the_person_are_found() {
        let m = henk();
        for target in [
            "GET /entities/E12",
            "GET /entities/7/history",
            "POST /subjects/E12/erase",
            "GET /subjects/shop:W9/export",
            "GET /subjects/crm%3AK%201%2F2/export",
            "PUT /sources/crm/records/K%201%2F2",
            "DELETE /sources/shop/records/W9",
            "GET /lookup?source=crm&id=K+1%2F2",
            "GET /explain?a=shop:W9&b=crm:K3",
            "GET /search?q=henk+de+vries",
            "GET /search?q=H.DeVries%40ziggo.nl",
            "GET /search?q=06-12345678",
            "POST /entities/E12/unmerge",
            "gdpr export E12",
            "-c /etc/cdihub/hub.toml show E7",
            "-c /etc/cdihub/hub.toml show shop:W9 --json",
            "search h.devries@ziggo.nl",
        ] {
            assert!(m.in_target(target), "{target}");
        }
    }

    #[test]
    fn targets_about_others_are_left_alone() {
        let m = henk();
        for target in [
            "GET /entities/E120",
            "GET /entities/E1",
            "PUT /sources/crm/records/K1",
            "GET /lookup?source=shop&id=K%201%2F2",
            "GET /search?q=de+vries",
            "GET /search?q=henk",
            "GET /feed?after=12",
            "GET /explain?a=shop:W91&b=crm:K3",
            "GET /subjects/shop:W91/export",
            "GET /search?q=0612345",
            "ingest",
            "resolve",
            "-c /etc/cdihub/hub.toml show shop:W90",
        ] {
            assert!(!m.in_target(target), "{target}");
        }
    }

    #[test]
    fn suppression_keys_are_stable_and_distinct() {
        assert_eq!(suppression_key("crm", "K1"), suppression_key("crm", "K1"));
        assert_ne!(suppression_key("crm", "K1"), suppression_key("crm", "K2"));
        assert_ne!(suppression_key("crm", "K1"), suppression_key("shop", "K1"));
        assert_eq!(suppression_key("crm", "K1").len(), 64);
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
