//! Comparison features: each clean record folded once into the lower-case ASCII forms, phonetic codes and
//! numeric keys that blocking and comparison use, so the hot loops never re-normalise text.

use clean::text::fold_into;
use model::CleanRecord;
use rphonetic::{DoubleMetaphone, Encoder};

/// The text fields of [`Features`], in the order they are laid out in its buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
enum Field {
    Given,
    Initials,
    Family,
    GivenSound,
    FamilySound,
    Emails,
    Phones,
    Street,
    House,
    Addition,
    Postcode,
    City,
    Organisation,
}

/// Number of text fields.
const FIELDS: usize = Field::Organisation as usize + 1;

/// Separates the values of a multi-valued field (emails, phones) in the buffer; clean values never hold it.
const SEPARATOR: u8 = b'\n';

/// Folded, precomputed match features of one record, laid out for the comparison loops: a small fixed header and
/// all text in one buffer, so comparing two records touches a few adjacent cache lines instead of a dozen
/// scattered strings. An empty string means "missing". A record's text fields share 64 KiB; a field that would
/// not fit is left empty (no real customer record comes near).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    /// Index of the record's source (for link-only matching).
    pub source: u32,
    /// Birth date as YYYYMMDD, 0 when missing.
    pub birth: u32,
    /// Bit i set: the user name of the i-th email is made of this person's name only ("anna.smit", "a_smit"),
    /// so namesakes may well have it too.
    pub named_emails: u32,
    /// End offset of each field in `text`.
    ends: [u16; FIELDS],
    /// Length of the first given name (the start of the given names).
    given_first_len: u16,
    /// The text fields back to back.
    text: Box<str>,
    /// Identifiers as (index into the identifier-name table, folded value); empty for most records.
    identifiers: Box<[(u16, Box<str>)]>,
}

impl Features {
    fn field(&self, field: Field) -> &str {
        let i = field as usize;
        self.text.get(usize::from(field_start(&self.ends, i))..usize::from(self.ends[i])).unwrap_or_default()
    }

    /// True when a field has text; reads only the header (the comparison loops ask this of every record they
    /// touch before reading any text).
    fn has(&self, field: Field) -> bool {
        let i = field as usize;
        self.ends[i] > field_start(&self.ends, i)
    }

    /// True when the record has a given name.
    pub fn has_given(&self) -> bool {
        self.has(Field::Given)
    }

    /// True when the record has initials.
    pub fn has_initials(&self) -> bool {
        self.has(Field::Initials)
    }

    /// True when the record has a family name.
    pub fn has_family(&self) -> bool {
        self.has(Field::Family)
    }

    /// True when the record has a postcode, street or city.
    pub fn has_address(&self) -> bool {
        self.has(Field::Postcode) || self.has(Field::Street) || self.has(Field::City)
    }

    /// True when the record has an organisation.
    pub fn has_organisation(&self) -> bool {
        self.has(Field::Organisation)
    }

    /// All given names, folded: "anna maria".
    pub fn given(&self) -> &str {
        self.field(Field::Given)
    }

    /// First given name, folded: "anna".
    pub fn given_first(&self) -> &str {
        self.text.get(..usize::from(self.given_first_len)).unwrap_or_default()
    }

    /// Initials, lower case: "am".
    pub fn initials(&self) -> &str {
        self.field(Field::Initials)
    }

    /// Family name without prefix, folded, spaces removed: "broekjansen".
    pub fn family(&self) -> &str {
        self.field(Field::Family)
    }

    /// Double Metaphone code of the first given name.
    pub fn given_sound(&self) -> &str {
        self.field(Field::GivenSound)
    }

    /// Double Metaphone code of the family name.
    pub fn family_sound(&self) -> &str {
        self.field(Field::FamilySound)
    }

    /// Email addresses.
    pub fn emails(&self) -> impl Iterator<Item = &str> + '_ {
        split_at_byte(self.field(Field::Emails), SEPARATOR)
    }

    /// True when the record has an email address.
    pub fn has_email(&self) -> bool {
        self.has(Field::Emails)
    }

    /// Phone numbers in E.164.
    pub fn phones(&self) -> impl Iterator<Item = &str> + '_ {
        split_at_byte(self.field(Field::Phones), SEPARATOR)
    }

    /// True when the record has a phone number.
    pub fn has_phone(&self) -> bool {
        self.has(Field::Phones)
    }

    /// Street, folded.
    pub fn street(&self) -> &str {
        self.field(Field::Street)
    }

    /// House number digits.
    pub fn house(&self) -> &str {
        self.field(Field::House)
    }

    /// House-number addition, folded.
    pub fn addition(&self) -> &str {
        self.field(Field::Addition)
    }

    /// Postcode without spaces, folded.
    pub fn postcode(&self) -> &str {
        self.field(Field::Postcode)
    }

    /// City, folded.
    pub fn city(&self) -> &str {
        self.field(Field::City)
    }

    /// Organisation, folded.
    pub fn organisation(&self) -> &str {
        self.field(Field::Organisation)
    }

    /// True when the record has a birth date.
    pub fn has_birth(&self) -> bool {
        self.birth != 0
    }

    /// The value of identifier `name_index`, or "".
    pub fn identifier(&self, name_index: u16) -> &str {
        self.identifiers.iter().find(|(i, _)| *i == name_index).map_or("", |(_, v)| v)
    }
}

/// The features of a record as separate values: how tests and callers without a [`CleanRecord`] describe one.
/// [`FeatureValues::pack`] lays them out as [`Features`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FeatureValues {
    /// See [`Features::source`].
    pub source: u32,
    /// All given names, folded.
    pub given: String,
    /// Initials, lower case.
    pub initials: String,
    /// Family name, folded, no spaces.
    pub family: String,
    /// Double Metaphone of the first given name.
    pub given_sound: String,
    /// Double Metaphone of the family name.
    pub family_sound: String,
    /// Birth date as YYYYMMDD, 0 when missing.
    pub birth: u32,
    /// Email addresses.
    pub emails: Vec<String>,
    /// See [`Features::named_emails`].
    pub named_emails: u32,
    /// Phone numbers.
    pub phones: Vec<String>,
    /// Street, folded.
    pub street: String,
    /// House number.
    pub house: String,
    /// House-number addition.
    pub addition: String,
    /// Postcode, folded, no spaces.
    pub postcode: String,
    /// City, folded.
    pub city: String,
    /// Organisation, folded.
    pub organisation: String,
    /// Identifiers as (index into the identifier-name table, value).
    pub identifiers: Vec<(u16, String)>,
}

impl FeatureValues {
    /// Lays the values out as [`Features`].
    pub fn pack(self) -> Features {
        let mut packer = Packer::default();
        for value in [&self.given, &self.initials, &self.family, &self.given_sound, &self.family_sound] {
            packer.text.push_str(value);
            packer.end_field();
        }
        packer.push_all(&self.emails);
        packer.push_all(&self.phones);
        for value in [&self.street, &self.house, &self.addition, &self.postcode, &self.city, &self.organisation] {
            packer.text.push_str(value);
            packer.end_field();
        }
        Features {
            source: self.source,
            birth: self.birth,
            named_emails: self.named_emails,
            given_first_len: first_word_len(&packer.text[..usize::from(packer.ends[0])]),
            ends: packer.ends,
            text: packer.text.into_boxed_str(),
            identifiers: self.identifiers.into_iter().map(|(i, v)| (i, v.into_boxed_str())).collect(),
        }
    }
}

/// The pieces of `text` between the ASCII byte `at` (none after a last `at`, as `str::split_terminator`), found
/// byte by byte: for the short fields compared this is faster than the `memchr` of a `char` pattern or the UTF-8
/// decoding of a closure pattern.
pub fn split_at_byte(text: &str, at: u8) -> impl Iterator<Item = &str> {
    debug_assert!(at.is_ascii());
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (piece, after) = match rest.bytes().position(|b| b == at) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        rest = after;
        Some(piece)
    })
}

/// Length of the first word of `text` (the given names come first in the buffer, so this is also the end offset
/// of the first given name).
fn first_word_len(text: &str) -> u16 {
    text.find(' ').unwrap_or(text.len()) as u16
}

/// Where field `i` starts in the text: where the field before it ends.
fn field_start(ends: &[u16; FIELDS], i: usize) -> u16 {
    if i == 0 { 0 } else { ends[i - 1] }
}

/// Appends fields to one buffer and records where each ends.
#[derive(Default)]
struct Packer {
    text: String,
    ends: [u16; FIELDS],
    next: usize,
}

impl Packer {
    /// Ends the current field at the end of the text; a field that overflows the 64 KiB offsets is dropped.
    fn end_field(&mut self) {
        let start = usize::from(field_start(&self.ends, self.next));
        if self.text.len() > usize::from(u16::MAX) {
            self.text.truncate(start);
        }
        self.ends[self.next] = self.text.len() as u16;
        self.next += 1;
    }

    /// Appends a multi-valued field.
    fn push_all(&mut self, values: &[String]) {
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.text.push(char::from(SEPARATOR));
            }
            self.text.push_str(v);
        }
        self.end_field();
    }

    /// The text of the field that ended last.
    fn last(&self) -> &str {
        let i = self.next - 1;
        &self.text[usize::from(field_start(&self.ends, i))..usize::from(self.ends[i])]
    }

    /// Appends `value` folded, with its spaces removed when `squash`.
    fn fold(&mut self, value: Option<&str>, squash: bool) {
        let start = self.text.len();
        fold_into(value.unwrap_or_default(), &mut self.text);
        if squash && self.text[start..].contains(' ') {
            let squashed = self.text[start..].replace(' ', "");
            self.text.truncate(start);
            self.text.push_str(&squashed);
        }
        self.end_field();
    }
}

/// Builds features. Shared read-only, so records can be folded in parallel.
#[derive(Debug, Default)]
pub struct FeatureBuilder {
    metaphone: DoubleMetaphone,
    /// Identifier names; `Features::identifiers` index into this table. Other identifiers are not compared.
    pub identifier_names: Vec<String>,
}

/// Names whose sound codes a thread remembers (about 5 MB at most).
const SOUNDS_REMEMBERED: usize = 65_536;

thread_local! {
    /// Double Metaphone codes by folded name (every builder uses the default encoder).
    static SOUNDS: std::cell::RefCell<std::collections::HashMap<Box<str>, Box<str>, foldhash::fast::FixedState>> =
        std::cell::RefCell::new(std::collections::HashMap::default());
    /// The text a record's features are packed into, and its first given and family name, reused: each record's
    /// text is then allocated once, at its size (a fresh buffer per record, shrunk to size afterwards, took three
    /// blocks of fresh memory for each of a million records).
    static SCRATCH: std::cell::RefCell<(String, String)> = const { std::cell::RefCell::new((String::new(), String::new())) };
}

/// The identifier names used by any of the records, sorted.
pub fn identifier_names<'a>(records: impl Iterator<Item = &'a CleanRecord>) -> Vec<String> {
    let mut names: Vec<String> = records.flat_map(|r| r.identifiers.keys().cloned()).collect();
    names.sort();
    names.dedup();
    names
}

impl FeatureBuilder {
    /// A builder that compares these identifier names (e.g. from [`identifier_names`] or a stored model).
    pub fn new(identifier_names: Vec<String>) -> Self {
        FeatureBuilder { metaphone: DoubleMetaphone::default(), identifier_names }
    }

    /// Appends the Double Metaphone code of a folded name. Names repeat (a million customers share tens of
    /// thousands of them), so each thread remembers the codes it made, up to [`SOUNDS_REMEMBERED`] names.
    fn sound_into(&self, name: &str, out: &mut String) {
        SOUNDS.with_borrow_mut(|sounds| {
            if let Some(code) = sounds.get(name) {
                out.push_str(code);
                return;
            }
            let code = self.metaphone.encode(name);
            out.push_str(&code);
            if sounds.len() >= SOUNDS_REMEMBERED {
                sounds.clear();
            }
            sounds.insert(name.into(), code.into_boxed_str());
        });
    }

    /// Folds one clean record into its features.
    pub fn build(&self, source: u32, rec: &CleanRecord) -> Features {
        SCRATCH.with_borrow_mut(|(text, names)| {
            text.clear();
            names.clear();
            let mut p = Packer { text: std::mem::take(text), ..Packer::default() };
            let features = self.build_into(&mut p, names, source, rec);
            *text = p.text;
            features
        })
    }

    /// [`Self::build`] with the scratch buffers: `p` packs the text, `names` holds the first given and the family
    /// name while their sounds are added.
    fn build_into(&self, p: &mut Packer, names: &mut String, source: u32, rec: &CleanRecord) -> Features {
        p.fold(rec.name.given.as_deref(), false);
        let given_first_len = first_word_len(p.last());
        names.push_str(&p.text[..usize::from(given_first_len)]);
        for c in rec.name.initials.as_deref().unwrap_or_default().chars() {
            p.text.extend(c.to_lowercase());
        }
        p.end_field();
        p.fold(rec.name.family.as_deref(), true);
        names.push_str(p.last());
        let (given_first, family) = names.split_at(usize::from(given_first_len));
        for name in [given_first, family] {
            if !name.is_empty() {
                self.sound_into(name, &mut p.text);
            }
            p.end_field();
        }
        p.push_all(&rec.emails);
        p.push_all(&rec.phones);
        let a = &rec.address;
        p.fold(a.street.as_deref(), false);
        p.fold(a.house_number.as_deref(), true);
        p.fold(a.addition.as_deref(), true);
        p.fold(a.postcode.as_deref(), true);
        p.fold(a.city.as_deref(), false);
        p.fold(rec.organisation.as_deref(), false);
        let mut identifiers = Vec::with_capacity(rec.identifiers.len());
        for (name, value) in &rec.identifiers {
            let mut folded = String::with_capacity(value.len());
            fold_into(value, &mut folded);
            folded.retain(|c| c != ' ');
            if folded.is_empty() {
                continue;
            }
            if let Some(index) = self.identifier_names.iter().position(|n| n == name) {
                identifiers.push((index as u16, folded.into_boxed_str()));
            }
        }
        let birth =
            rec.birth_date.map_or(0, |d| u32::from(d.year) * 10_000 + u32::from(d.month) * 100 + u32::from(d.day));
        let mut features = Features {
            source,
            birth,
            named_emails: 0,
            given_first_len,
            ends: p.ends,
            text: Box::from(p.text.as_str()),
            identifiers: identifiers.into_boxed_slice(),
        };
        features.named_emails = named_emails(&features);
        features
    }
}

/// The [`Features::named_emails`] bits of a record.
fn named_emails(f: &Features) -> u32 {
    f.emails()
        .take(32)
        .enumerate()
        .filter(|(_, e)| {
            user_is_name(e.split('@').next().unwrap_or_default(), f.given_first(), f.initials(), f.family())
        })
        .fold(0u32, |bits, (i, _)| bits | 1 << i)
}

/// True when an email user name spells the person's name and nothing else: the family name, plus the first
/// given name or initials or nothing, plus at most a short family-name prefix ("hdevries", "anna.smit",
/// "smit_a"). Digits or other words make a user name distinctive.
pub fn user_is_name(user: &str, given_first: &str, initials: &str, family: &str) -> bool {
    // The user name's letters without separators, on the stack: this runs for every agreeing email pair.
    let mut buffer = [0u8; 64];
    let mut len = 0;
    for b in user.bytes().filter(|b| !matches!(b, b'.' | b'_' | b'-' | b'+')) {
        if !b.is_ascii_alphabetic() || len == buffer.len() {
            return false;
        }
        buffer[len] = b.to_ascii_lowercase();
        len += 1;
    }
    let letters = &buffer[..len];
    if letters.is_empty() {
        return false;
    }
    if !given_first.is_empty() && letters == given_first.as_bytes() {
        return true;
    }
    let family = family.as_bytes();
    let Some(at) = (!family.is_empty()).then(|| letters.windows(family.len()).position(|w| w == family)).flatten()
    else {
        return false;
    };
    let (before, after) = (&letters[..at], &letters[at + family.len()..]);
    let rest_len = before.len() + after.len();
    let first_initial = initials.get(..1).or_else(|| given_first.get(..1)).unwrap_or_default();
    // The rest (the letters around the family name) without a given name, initials or initial at either end.
    let rest_at = |i: usize| if i < before.len() { before[i] } else { after[i - before.len()] };
    let starts_with = |g: &[u8]| g.len() <= rest_len && g.iter().enumerate().all(|(i, c)| rest_at(i) == *c);
    let ends_with =
        |g: &[u8]| g.len() <= rest_len && g.iter().enumerate().all(|(i, c)| rest_at(rest_len - g.len() + i) == *c);
    let without_given = [given_first, initials, first_initial]
        .iter()
        .map(|g| g.as_bytes())
        .filter(|g| !g.is_empty())
        .find(|g| starts_with(g) || ends_with(g))
        .map_or(rest_len, |g| rest_len - g.len());
    without_given <= 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{BirthDate, PersonName};

    proptest::proptest! {
        #[test]
        fn split_at_byte_is_split_terminator(text in "[a ñ\n]{0,12}") {
            let ours: Vec<&str> = split_at_byte(&text, b'\n').collect();
            let std: Vec<&str> = text.split_terminator('\n').collect();
            proptest::prop_assert_eq!(ours, std);
        }
    }

    #[test]
    fn folds_names_and_codes() {
        let mut rec = CleanRecord {
            name: PersonName {
                given: Some("Anna Maria".into()),
                initials: Some("AM".into()),
                prefix: Some("van den".into()),
                family: Some("Broek-Jansen".into()),
            },
            ..CleanRecord::default()
        };
        rec.birth_date = Some(BirthDate { year: 1961, month: 4, day: 3 });
        rec.address.postcode = Some("6824 AB".into());
        rec.identifiers.insert("kvk".into(), " 1234 5678 ".into());
        let names = identifier_names(std::iter::once(&rec));
        let b = FeatureBuilder::new(names);
        let f = b.build(2, &rec);
        assert_eq!((f.given(), f.given_first(), f.initials()), ("anna maria", "anna", "am"));
        assert_eq!(f.family(), "broekjansen");
        assert_eq!(f.birth, 19610403);
        assert_eq!(f.postcode(), "6824ab");
        assert_eq!(f.identifier(0), "12345678");
        assert_eq!(b.identifier_names, vec!["kvk".to_string()]);
        assert!(!f.family_sound().is_empty());
        assert!(!f.has_email() && f.emails().next().is_none());
    }

    #[test]
    fn remembered_sounds_are_the_encoder_s() {
        let b = FeatureBuilder::new(Vec::new());
        let encoder = DoubleMetaphone::default();
        for family in ["Schmidt", "Smith", "Schmidt", "Vries", "Smith"] {
            let rec = CleanRecord {
                name: PersonName { given: Some("Anna".into()), family: Some(family.into()), ..PersonName::default() },
                ..CleanRecord::default()
            };
            let f = b.build(0, &rec);
            assert_eq!(f.family_sound(), encoder.encode(&family.to_lowercase()));
            assert_eq!(f.given_sound(), encoder.encode("anna"));
            assert_eq!(f, b.build(0, &rec), "built again from remembered codes");
        }
    }

    #[test]
    fn records_built_one_after_another_on_a_thread_keep_nothing_of_each_other() {
        let b = FeatureBuilder::new(Vec::new());
        let full = CleanRecord {
            name: PersonName {
                given: Some("Anna Maria".into()),
                initials: Some("AM".into()),
                prefix: None,
                family: Some("Broek-Jansen".into()),
            },
            emails: vec!["anna@broek.nl".into()],
            ..CleanRecord::default()
        };
        let sparse = CleanRecord {
            name: PersonName { family: Some("Vries".into()), ..PersonName::default() },
            ..CleanRecord::default()
        };
        let first = b.build(0, &full);
        let other = b.build(1, &sparse);
        assert_eq!((other.given(), other.given_sound(), other.family()), ("", "", "vries"));
        assert!(other.emails().next().is_none());
        assert_eq!(b.build(0, &full), first);
        let on_another_thread = std::thread::scope(|s| s.spawn(|| b.build(1, &sparse)).join().expect("thread"));
        assert_eq!(on_another_thread, other);
    }

    #[test]
    fn packs_every_field_and_multiple_values() {
        let values = FeatureValues {
            source: 3,
            given: "jan piet".into(),
            initials: "jp".into(),
            family: "vries".into(),
            given_sound: "JN".into(),
            family_sound: "FRS".into(),
            birth: 19700101,
            emails: vec!["jan@x.nl".into(), "jp@y.nl".into()],
            named_emails: 1,
            phones: vec!["+31612345678".into()],
            street: "velperbroek".into(),
            house: "46".into(),
            addition: "a".into(),
            postcode: "6824ab".into(),
            city: "arnhem".into(),
            organisation: "acme".into(),
            identifiers: vec![(1, "123".into())],
        };
        let f = values.pack();
        assert_eq!((f.source, f.birth, f.named_emails), (3, 19700101, 1));
        assert_eq!((f.given(), f.given_first(), f.initials(), f.family()), ("jan piet", "jan", "jp", "vries"));
        assert_eq!((f.given_sound(), f.family_sound()), ("JN", "FRS"));
        assert_eq!(f.emails().collect::<Vec<_>>(), ["jan@x.nl", "jp@y.nl"]);
        assert_eq!(f.phones().collect::<Vec<_>>(), ["+31612345678"]);
        assert_eq!((f.street(), f.house(), f.addition()), ("velperbroek", "46", "a"));
        assert_eq!((f.postcode(), f.city(), f.organisation()), ("6824ab", "arnhem", "acme"));
        assert_eq!((f.identifier(1), f.identifier(0)), ("123", ""));
    }

    #[test]
    fn a_field_past_64_kib_is_left_empty_and_the_rest_kept() {
        let values = FeatureValues {
            family: "vries".into(),
            organisation: "x".repeat(70_000),
            city: "arnhem".into(),
            ..FeatureValues::default()
        };
        let f = values.pack();
        assert_eq!((f.family(), f.city(), f.organisation()), ("vries", "arnhem", ""));
    }

    #[test]
    fn user_names_made_of_the_name() {
        assert!(user_is_name("anna.smit", "anna", "", "smit"));
        assert!(user_is_name("smit_a", "anna", "a", "smit"));
        assert!(user_is_name("h.devries", "henk", "h", "vries"));
        assert!(user_is_name("Henk", "henk", "", "vries"));
        assert!(user_is_name("smit", "", "", "smit"));
        assert!(!user_is_name("anna.smit85", "anna", "", "smit"));
        assert!(!user_is_name("smit.bakkerij", "anna", "", "smit"));
        assert!(!user_is_name("info", "anna", "", "smit"));
        assert!(!user_is_name("anna.smit", "anna", "", ""));
    }
}
