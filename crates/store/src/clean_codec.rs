//! The stored form of a clean record: a compact binary encoding, about a third of its JSON, that decodes
//! without parsing text. Records stored as JSON by earlier versions are still read.
//!
//! Layout (version 1): the tag byte [`TAG`], a little-endian `u16` of which optional parts are present (bits 0–10
//! the texts in the order of `texts`, then identifiers-and-attributes, birth date, updated-at, emails, phones),
//! then each present part in that order: a text as a LEB128 length and its UTF-8 bytes; the birth date as year (`u16` LE), month, day;
//! updated-at as a zig-zag LEB128 integer; a list as a LEB128 count and its texts; a map as a count and
//! key-value texts in key order.
//!
//! A record with consent answers is written with the tag [`TAG_CONSENT`] instead: the same layout, then the
//! consent as a LEB128 count and, in purpose order, each purpose's text and a byte (1 granted, 0 refused).

use crate::binary_form::{ReadError, Reader, put_text, put_varint};
use model::{BirthDate, CleanRecord};
use std::collections::BTreeMap;

/// First byte of the binary form (JSON starts with `{`).
const TAG: u8 = 0xC1;

/// First byte of the binary form followed by consent answers.
const TAG_CONSENT: u8 = 0xC2;

/// Optional texts, bits 0–10 in stored order.
const TEXTS: usize = 11;
/// Identifiers and attributes (both maps follow, each with its count).
const MAPS: u16 = 1 << 11;
const BIRTH: u16 = 1 << 12;
const UPDATED: u16 = 1 << 13;
const EMAILS: u16 = 1 << 14;
const PHONES: u16 = 1 << 15;

/// Why a stored clean form could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The bytes end before the record does, or a length points past them.
    #[error("clean form truncated")]
    Truncated,
    /// A text is not UTF-8.
    #[error("clean form holds a text that is not UTF-8")]
    NotUtf8,
    /// The first byte is neither the binary tag nor `{`.
    #[error("unknown clean form (first byte {0:#04x})")]
    UnknownFormat(u8),
    /// Bytes are left after the record.
    #[error("clean form has {0} trailing bytes")]
    Trailing(usize),
    /// A JSON form (written by an earlier version) did not parse.
    #[error("clean form JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The record's optional texts, in stored order.
fn texts(r: &CleanRecord) -> [&Option<String>; TEXTS] {
    let (n, a) = (&r.name, &r.address);
    [
        &n.given,
        &n.initials,
        &n.prefix,
        &n.family,
        &a.street,
        &a.house_number,
        &a.addition,
        &a.postcode,
        &a.city,
        &a.country,
        &r.organisation,
    ]
}

fn texts_mut(r: &mut CleanRecord) -> [&mut Option<String>; TEXTS] {
    let (n, a) = (&mut r.name, &mut r.address);
    [
        &mut n.given,
        &mut n.initials,
        &mut n.prefix,
        &mut n.family,
        &mut a.street,
        &mut a.house_number,
        &mut a.addition,
        &mut a.postcode,
        &mut a.city,
        &mut a.country,
        &mut r.organisation,
    ]
}

/// Encodes a clean record in the compact binary form.
pub fn encode(record: &CleanRecord) -> Vec<u8> {
    let mut out = Vec::with_capacity(128);
    encode_into(record, &mut out);
    out
}

/// Appends the compact binary form of `record` to `out`.
pub fn encode_into(record: &CleanRecord, out: &mut Vec<u8>) {
    let mut present = 0u16;
    for (i, t) in texts(record).iter().enumerate() {
        if t.is_some() {
            present |= 1 << i;
        }
    }
    for (bit, on) in [
        (MAPS, !record.identifiers.is_empty() || !record.attributes.is_empty()),
        (BIRTH, record.birth_date.is_some()),
        (UPDATED, record.updated_at.is_some()),
        (EMAILS, !record.emails.is_empty()),
        (PHONES, !record.phones.is_empty()),
    ] {
        if on {
            present |= bit;
        }
    }
    out.push(if record.consent.is_empty() { TAG } else { TAG_CONSENT });
    out.extend_from_slice(&present.to_le_bytes());
    for t in texts(record).iter().copied().flatten() {
        put_text(out, t);
    }
    if let Some(d) = record.birth_date {
        out.extend_from_slice(&d.year.to_le_bytes());
        out.extend([d.month, d.day]);
    }
    if let Some(at) = record.updated_at {
        put_varint(out, ((at << 1) ^ (at >> 63)) as u64);
    }
    for list in [&record.emails, &record.phones] {
        if !list.is_empty() {
            put_varint(out, list.len() as u64);
            list.iter().for_each(|t| put_text(out, t));
        }
    }
    if present & MAPS != 0 {
        for map in [&record.identifiers, &record.attributes] {
            put_varint(out, map.len() as u64);
            for (k, v) in map {
                put_text(out, k);
                put_text(out, v);
            }
        }
    }
    if !record.consent.is_empty() {
        put_varint(out, record.consent.len() as u64);
        for (purpose, granted) in &record.consent {
            put_text(out, purpose);
            out.push(u8::from(*granted));
        }
    }
}

/// Decodes a stored clean form: the binary form, or JSON as earlier versions wrote it.
pub fn decode(bytes: &[u8]) -> Result<CleanRecord, DecodeError> {
    let mut record = CleanRecord::default();
    decode_into(bytes, &mut record)?;
    Ok(record)
}

/// Decodes a stored clean form into `record`, reusing its strings' memory: a caller decoding many records one
/// after another into the same one allocates almost nothing. On an error `record` holds part of the form.
pub fn decode_into(bytes: &[u8], record: &mut CleanRecord) -> Result<(), DecodeError> {
    match bytes.first() {
        Some(&TAG) => decode_binary(&bytes[1..], false, record),
        Some(&TAG_CONSENT) => decode_binary(&bytes[1..], true, record),
        Some(b'{') => {
            *record = serde_json::from_slice(bytes)?;
            Ok(())
        }
        Some(other) => Err(DecodeError::UnknownFormat(*other)),
        None => Err(DecodeError::Truncated),
    }
}

/// False when a stored form surely has no identifiers or attributes (from the binary form's header; a JSON form
/// may have any).
pub fn may_have_identifiers(bytes: &[u8]) -> bool {
    match bytes {
        [TAG | TAG_CONSENT, low, high, ..] => u16::from_le_bytes([*low, *high]) & MAPS != 0,
        _ => true,
    }
}

fn decode_binary(bytes: &[u8], with_consent: bool, record: &mut CleanRecord) -> Result<(), DecodeError> {
    let mut r = Reader { bytes };
    let present = u16::from_le_bytes([r.byte()?, r.byte()?]);
    for (i, slot) in texts_mut(record).into_iter().enumerate() {
        if present & (1 << i) != 0 {
            let text = r.text()?;
            let kept = slot.get_or_insert_with(String::new);
            kept.clear();
            kept.push_str(text);
        } else {
            *slot = None;
        }
    }
    record.birth_date = None;
    if present & BIRTH != 0 {
        let year = u16::from_le_bytes([r.byte()?, r.byte()?]);
        record.birth_date = Some(BirthDate { year, month: r.byte()?, day: r.byte()? });
    }
    record.updated_at = None;
    if present & UPDATED != 0 {
        let z = r.varint()?;
        record.updated_at = Some(((z >> 1) as i64) ^ -((z & 1) as i64));
    }
    for (bit, list) in [(EMAILS, &mut record.emails), (PHONES, &mut record.phones)] {
        let n = if present & bit != 0 { r.count()? } else { 0 };
        list.truncate(n);
        for i in 0..n {
            let text = r.text()?;
            match list.get_mut(i) {
                Some(old) => {
                    old.clear();
                    old.push_str(text);
                }
                None => list.push(text.to_owned()),
            }
        }
    }
    record.identifiers.clear();
    record.attributes.clear();
    if present & MAPS != 0 {
        record.identifiers = read_map(&mut r)?;
        record.attributes = read_map(&mut r)?;
    }
    record.consent.clear();
    if with_consent {
        for _ in 0..r.count()? {
            let purpose = r.text()?.to_owned();
            let granted = r.byte()? != 0;
            record.consent.insert(purpose, granted);
        }
    }
    match r.bytes.len() {
        0 => Ok(()),
        n => Err(DecodeError::Trailing(n)),
    }
}

/// A map: its count, then each key and value as texts.
fn read_map(r: &mut Reader<'_>) -> Result<BTreeMap<String, String>, DecodeError> {
    let n = r.count()?;
    let mut map = BTreeMap::new();
    for _ in 0..n {
        let k = r.text()?.to_owned();
        map.insert(k, r.text()?.to_owned());
    }
    Ok(map)
}

impl From<ReadError> for DecodeError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Truncated => DecodeError::Truncated,
            ReadError::NotUtf8 => DecodeError::NotUtf8,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{CleanAddress, PersonName};
    use proptest::prelude::*;

    fn henk() -> CleanRecord {
        CleanRecord {
            name: PersonName {
                given: Some("Henk".into()),
                initials: Some("H".into()),
                prefix: Some("de".into()),
                family: Some("Vries".into()),
            },
            birth_date: Some(BirthDate { year: 1961, month: 4, day: 30 }),
            emails: vec!["henk@ziggo.nl".into()],
            phones: vec!["+31612345678".into(), "+31263512345".into()],
            address: CleanAddress {
                street: Some("Velperbroek".into()),
                house_number: Some("46".into()),
                postcode: Some("6824 AB".into()),
                city: Some("Arnhem".into()),
                country: Some("NL".into()),
                ..CleanAddress::default()
            },
            identifiers: [("kvk".to_string(), "09123456".to_string())].into(),
            updated_at: Some(1_700_000_000),
            consent: [("email_marketing".to_string(), false), ("profiling".to_string(), true)].into(),
            ..CleanRecord::default()
        }
    }

    #[test]
    fn round_trips_and_is_smaller_than_json() {
        let record = henk();
        let bytes = encode(&record);
        assert_eq!(decode(&bytes).expect("decode"), record);
        assert!(may_have_identifiers(&bytes));
        assert!(!may_have_identifiers(&encode(&CleanRecord::default())));
        let json = serde_json::to_vec(&record).expect("json");
        assert!(bytes.len() * 2 < json.len(), "{} bytes vs {} of JSON", bytes.len(), json.len());
    }

    #[test]
    fn reads_json_written_by_earlier_versions() {
        let record = henk();
        let json = serde_json::to_vec(&record).expect("json");
        assert_eq!(decode(&json).expect("decode"), record);
        assert_eq!(decode(b"{}").expect("empty"), CleanRecord::default());
    }

    #[test]
    fn rejects_damaged_bytes_without_panicking() {
        let bytes = encode(&henk());
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(decode(&longer), Err(DecodeError::Trailing(1))));
        assert!(matches!(decode(b"x"), Err(DecodeError::UnknownFormat(b'x'))));
        let mut bad = encode(&CleanRecord { organisation: Some("é".into()), ..CleanRecord::default() });
        let last = bad.len() - 1;
        bad[last] = 0xFF;
        assert!(matches!(decode(&bad), Err(DecodeError::NotUtf8)));
    }

    fn text() -> impl Strategy<Value = Option<String>> {
        proptest::option::of("\\PC{0,12}")
    }

    fn record() -> impl Strategy<Value = CleanRecord> {
        let names = (text(), text(), text(), text());
        let address = (text(), text(), text(), text(), text(), text());
        let date = proptest::option::of((0u16..10_000, 1u8..13, 1u8..32));
        let lists = (proptest::collection::vec("\\PC{0,8}", 0..3), proptest::collection::vec("\\PC{0,8}", 0..3));
        let maps = (
            proptest::collection::btree_map("\\PC{0,5}", "\\PC{0,5}", 0..3),
            proptest::collection::btree_map("\\PC{0,5}", "\\PC{0,5}", 0..3),
        );
        let consent = proptest::collection::btree_map("[a-z_]{1,12}", any::<bool>(), 0..3);
        (names, address, date, lists, maps, text(), proptest::option::of(any::<i64>()), consent).prop_map(
            |(n, a, date, (emails, phones), (identifiers, attributes), organisation, updated_at, consent)| {
                CleanRecord {
                    name: PersonName { given: n.0, initials: n.1, prefix: n.2, family: n.3 },
                    birth_date: date.map(|(year, month, day)| BirthDate { year, month, day }),
                    emails,
                    phones,
                    address: CleanAddress {
                        street: a.0,
                        house_number: a.1,
                        addition: a.2,
                        postcode: a.3,
                        city: a.4,
                        country: a.5,
                    },
                    organisation,
                    identifiers,
                    attributes,
                    updated_at,
                    consent,
                }
            },
        )
    }

    proptest! {
        #[test]
        fn any_record_round_trips(record in record()) {
            prop_assert_eq!(decode(&encode(&record)).expect("decode"), record);
        }

        #[test]
        fn any_bytes_decode_or_fail_cleanly(mut bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Some(first) = bytes.first_mut() {
                *first = TAG;
            }
            let _ = decode(&bytes);
        }

        #[test]
        fn records_decoded_into_one_another_are_each_as_stored(
            records in proptest::collection::vec(record(), 1..6),
        ) {
            // Fields a record lacks must not keep the previous record's values, nor lists its extra items.
            let mut reused = henk();
            for record in records {
                decode_into(&encode(&record), &mut reused).expect("decode");
                prop_assert_eq!(&reused, &record);
            }
            let json = serde_json::to_vec(&henk()).expect("json");
            decode_into(&json, &mut reused).expect("decode json");
            prop_assert_eq!(reused, henk());
        }
    }
}
