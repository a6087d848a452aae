//! The stored form of a golden record: a compact binary encoding, about half the size of the JSON earlier versions
//! wrote (which still reads). A database holds one per entity, and writing them is most of a batch resolution's
//! store time, so their size is time.
//!
//! Layout: the tag byte [`TAG`], the entity id as LEB128, the member records the values come from (a LEB128 count,
//! then each record's source and id as texts), then the values (a LEB128 count, then each value's attribute as a
//! name, the value as a text, the LEB128 index of its record in the list before, and its rule as a name). A text is
//! a LEB128 length and its UTF-8 bytes; a name is one byte, its position in [`ATTRIBUTE_CODES`] or [`RULE_CODES`],
//! or [`NAMED`] followed by the name as a text (extra attributes, custom rules).

use crate::binary_form::{ReadError, Reader, put_text, put_varint};
use model::{EntityId, Golden, GoldenValue, GoldenView, RecordKey};

/// First byte of the binary form (JSON starts with `{`; stored clean forms use 0xC1 and 0xC2).
const TAG: u8 = 0xC3;

/// A name byte saying the name itself follows as a text.
const NAMED: u8 = 0xFF;

/// Attribute names stored as their position here. Append only: stored golden records refer to the positions.
const ATTRIBUTE_CODES: &[&str] = &[
    "given_name",
    "initials",
    "name_prefix",
    "family_name",
    "birth_date",
    "email",
    "phone",
    "organisation",
    "country",
    "street",
    "house_number",
    "house_number_addition",
    "postcode",
    "city",
];

/// Survivorship rule names stored as their position here. Append only.
const RULE_CODES: &[&str] = &["trust", "recent", "complete", "frequent", "restrictive"];

/// Why a stored golden record could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The bytes end before the record does, or a length points past them.
    #[error("golden record truncated")]
    Truncated,
    /// A text is not UTF-8.
    #[error("golden record holds a text that is not UTF-8")]
    NotUtf8,
    /// The first byte is neither the binary tag nor `{`.
    #[error("unknown golden record form (first byte {0:#04x})")]
    UnknownFormat(u8),
    /// Bytes are left after the record.
    #[error("golden record has {0} trailing bytes")]
    Trailing(usize),
    /// A name's code is not in its table.
    #[error("golden record {entity}: unknown name code {code}")]
    UnknownCode {
        /// The entity whose record it is.
        entity: u64,
        /// The code.
        code: usize,
    },
    /// A value names a member record the list does not have.
    #[error("golden record {entity}: value source {index} is not listed")]
    UnlistedSource {
        /// The entity whose record it is.
        entity: u64,
        /// The index the value gave.
        index: usize,
    },
    /// A JSON form (written by an earlier version) did not parse.
    #[error("golden record JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// Appends the binary form of `g` to `out`.
pub fn encode_into(g: &GoldenView<'_>, out: &mut Vec<u8>) {
    out.push(TAG);
    put_varint(out, g.entity.0);
    // The member records in the order their first value names them; values refer to them by index.
    let mut from: Vec<&RecordKey> = Vec::with_capacity(8);
    let mut index = Vec::with_capacity(g.values.len());
    for v in &g.values {
        let i = from.iter().position(|k| std::ptr::eq(*k, v.from) || *k == v.from).unwrap_or_else(|| {
            from.push(v.from);
            from.len() - 1
        });
        index.push(i);
    }
    put_varint(out, from.len() as u64);
    for key in &from {
        put_text(out, &key.source);
        put_text(out, &key.source_id);
    }
    put_varint(out, g.values.len() as u64);
    for (v, i) in g.values.iter().zip(index) {
        put_name(out, &v.attribute, ATTRIBUTE_CODES);
        put_text(out, &v.value);
        put_varint(out, i as u64);
        put_name(out, v.rule, RULE_CODES);
    }
}

/// The binary form of `g`.
pub fn encode(g: &GoldenView<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(160);
    encode_into(g, &mut out);
    out
}

/// Decodes a stored golden record: the binary form, or JSON as earlier versions wrote it.
pub fn decode(bytes: &[u8]) -> Result<Golden, DecodeError> {
    match bytes.split_first() {
        Some((&TAG, body)) => decode_binary(body),
        Some((b'{', _)) => json::decode(bytes),
        Some((other, _)) => Err(DecodeError::UnknownFormat(*other)),
        None => Err(DecodeError::Truncated),
    }
}

fn decode_binary(bytes: &[u8]) -> Result<Golden, DecodeError> {
    let mut r = Reader { bytes };
    let entity = r.varint()?;
    let members = r.count()?;
    let mut from = Vec::with_capacity(members);
    for _ in 0..members {
        let source = r.text()?;
        from.push(RecordKey::new(source, r.text()?));
    }
    let count = r.count()?;
    let mut values = Vec::with_capacity(count);
    for _ in 0..count {
        let attribute = read_name(&mut r, ATTRIBUTE_CODES, entity)?;
        let value = r.text()?.to_owned();
        let index = r.varint()? as usize;
        let source = from.get(index).ok_or(DecodeError::UnlistedSource { entity, index })?;
        values.push(GoldenValue {
            attribute,
            value,
            from: source.clone(),
            rule: read_name(&mut r, RULE_CODES, entity)?,
        });
    }
    match r.bytes.len() {
        0 => Ok(Golden { entity: EntityId(entity), values }),
        n => Err(DecodeError::Trailing(n)),
    }
}

/// A name: its code in `table`, or [`NAMED`] and the name as a text.
fn read_name(r: &mut Reader<'_>, table: &[&str], entity: u64) -> Result<String, DecodeError> {
    match r.byte()? {
        NAMED => Ok(r.text()?.to_owned()),
        code => table
            .get(usize::from(code))
            .map(|n| n.to_string())
            .ok_or(DecodeError::UnknownCode { entity, code: usize::from(code) }),
    }
}

/// Appends a name: its code in `table`, or [`NAMED`] and the name as a text.
fn put_name(out: &mut Vec<u8>, name: &str, table: &[&str]) {
    match table.iter().position(|n| *n == name) {
        Some(code) => out.push(code as u8),
        None => {
            out.push(NAMED);
            put_text(out, name);
        }
    }
}

impl From<ReadError> for DecodeError {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::Truncated => DecodeError::Truncated,
            ReadError::NotUtf8 => DecodeError::NotUtf8,
        }
    }
}

/// The JSON forms earlier versions stored: the member records listed once, each value as `[attribute, value,
/// index into from, rule]` with built-in names as their code (or written out), and before that the source and id
/// in every value (`[attribute, value, source, source_id, rule]`).
mod json {
    use super::{ATTRIBUTE_CODES, DecodeError, RULE_CODES};
    use model::{EntityId, Golden, GoldenValue, RecordKey};

    /// A stored name read back: its code in a table, or the name itself.
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum StoredName {
        Code(usize),
        Text(String),
    }

    impl StoredName {
        fn resolve(self, table: &[&str], entity: u64) -> Result<String, DecodeError> {
            match self {
                StoredName::Text(name) => Ok(name),
                StoredName::Code(code) => {
                    table.get(code).map(|n| n.to_string()).ok_or(DecodeError::UnknownCode { entity, code })
                }
            }
        }
    }

    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Stored {
        Coded { entity: u64, from: Vec<(String, String)>, values: Vec<(StoredName, String, usize, StoredName)> },
        Spelled { entity: u64, values: Vec<(String, String, String, String, String)> },
    }

    pub(super) fn decode(bytes: &[u8]) -> Result<Golden, DecodeError> {
        let (entity, values) = match serde_json::from_slice(bytes)? {
            Stored::Coded { entity, from, values } => {
                let values = values
                    .into_iter()
                    .map(|(attribute, value, index, rule)| {
                        let (source, source_id) =
                            from.get(index).cloned().ok_or(DecodeError::UnlistedSource { entity, index })?;
                        Ok(GoldenValue {
                            attribute: attribute.resolve(ATTRIBUTE_CODES, entity)?,
                            value,
                            from: RecordKey::new(source, source_id),
                            rule: rule.resolve(RULE_CODES, entity)?,
                        })
                    })
                    .collect::<Result<Vec<_>, DecodeError>>()?;
                (entity, values)
            }
            Stored::Spelled { entity, values } => {
                let values = values
                    .into_iter()
                    .map(|(attribute, value, source, source_id, rule)| GoldenValue {
                        attribute,
                        value,
                        from: RecordKey::new(source, source_id),
                        rule,
                    })
                    .collect();
                (entity, values)
            }
        };
        Ok(Golden { entity: EntityId(entity), values })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn value(attribute: &str, value: &str, from: (&str, &str), rule: &str) -> GoldenValue {
        GoldenValue {
            attribute: attribute.into(),
            value: value.into(),
            from: RecordKey::new(from.0, from.1),
            rule: rule.into(),
        }
    }

    fn henk() -> Golden {
        Golden {
            entity: EntityId(7),
            values: vec![
                value("given_name", "Henk", ("crm", "1"), "trust"),
                value("family_name", "Vries", ("crm", "1"), "trust"),
                value("email", "h@x.nl", ("shop", "9"), "recent"),
                value("attribute.tier", "gold", ("crm", "1"), "custom"),
            ],
        }
    }

    #[test]
    fn round_trips_and_is_smaller_than_the_json_form() {
        let g = henk();
        let bytes = encode(&g.view());
        assert_eq!(decode(&bytes).expect("decode"), g);
        let text = String::from_utf8_lossy(&bytes);
        assert_eq!(text.matches("crm").count(), 1, "each member record is listed once");
        assert!(!text.contains("family_name") && !text.contains("trust"), "built-in names are coded");
        assert!(text.contains("attribute.tier") && text.contains("custom"), "other names are written out");
        let json = r#"{"entity":7,"from":[["crm","1"],["shop","9"]],"values":[[0,"Henk",0,0],[3,"Vries",0,0],[5,"h@x.nl",1,1],["attribute.tier","gold",0,"custom"]]}"#;
        assert_eq!(decode(json.as_bytes()).expect("decode json"), g);
        assert!(bytes.len() * 2 < json.len() + 20, "{} bytes against {}", bytes.len(), json.len());
    }

    #[test]
    fn the_tag_is_not_the_mark_of_a_sealed_value() {
        // Plain and sealed values share the column; reads tell them apart by the first byte.
        assert_ne!(TAG, govern::cipher::SEALED);
        assert!(!govern::cipher::is_sealed(&encode(&henk().view())));
    }

    #[test]
    fn reads_the_json_forms_of_earlier_versions() {
        let vries = Golden { entity: EntityId(7), values: vec![value("family_name", "Vries", ("crm", "1"), "trust")] };
        let named = r#"{"entity":7,"from":[["crm","1"]],"values":[["family_name","Vries",0,"trust"]]}"#;
        assert_eq!(decode(named.as_bytes()).expect("decode named"), vries);
        let earlier = r#"{"entity":7,"values":[["family_name","Vries","crm","1","trust"]]}"#;
        assert_eq!(decode(earlier.as_bytes()).expect("decode earlier"), vries);
        let broken = r#"{"entity":7,"from":[],"values":[["family_name","Vries",3,"trust"]]}"#;
        assert!(matches!(decode(broken.as_bytes()), Err(DecodeError::UnlistedSource { entity: 7, index: 3 })));
        let unknown = r#"{"entity":7,"from":[["crm","1"]],"values":[[99,"Vries",0,0]]}"#;
        assert!(decode(unknown.as_bytes()).expect_err("unknown code").to_string().contains("code 99"));
    }

    #[test]
    fn rejects_damaged_forms_with_reasons() {
        let bytes = encode(&henk().view());
        assert!(matches!(decode(&bytes[..bytes.len() - 1]), Err(DecodeError::Truncated)));
        assert!(matches!(decode(&[bytes.as_slice(), &[0]].concat()), Err(DecodeError::Trailing(1))));
        assert!(matches!(decode(b""), Err(DecodeError::Truncated)));
        assert!(matches!(decode(b"x"), Err(DecodeError::UnknownFormat(b'x'))));
        // Entity 7, one member ("a", "b"), one value whose attribute code is past the table.
        let unknown = [TAG, 7, 1, 1, b'a', 1, b'b', 1, 99, 0, 0, 0];
        assert!(matches!(decode(&unknown), Err(DecodeError::UnknownCode { entity: 7, code: 99 })));
        let unlisted = [TAG, 7, 1, 1, b'a', 1, b'b', 1, 0, 0, 4, 0];
        assert!(matches!(decode(&unlisted), Err(DecodeError::UnlistedSource { entity: 7, index: 4 })));
    }

    fn golden() -> impl Strategy<Value = Golden> {
        let name = prop_oneof![
            proptest::sample::select(ATTRIBUTE_CODES.iter().map(|n| n.to_string()).collect::<Vec<_>>()),
            "\\PC{0,10}"
        ];
        let rule = prop_oneof![
            proptest::sample::select(RULE_CODES.iter().map(|n| n.to_string()).collect::<Vec<_>>()),
            "\\PC{0,6}"
        ];
        let key = ("[a-z]{0,4}", "\\PC{0,6}").prop_map(|(s, i)| RecordKey::new(s, i));
        let value = (name, "\\PC{0,20}", key, rule).prop_map(|(attribute, value, from, rule)| GoldenValue {
            attribute,
            value,
            from,
            rule,
        });
        (any::<u64>(), proptest::collection::vec(value, 0..12))
            .prop_map(|(entity, values)| Golden { entity: EntityId(entity), values })
    }

    proptest! {
        #[test]
        fn any_golden_record_round_trips(g in golden()) {
            prop_assert_eq!(decode(&encode(&g.view())).expect("decode"), g);
        }

        #[test]
        fn any_bytes_decode_or_fail_cleanly(mut bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Some(first) = bytes.first_mut() {
                *first = TAG;
            }
            let _ = decode(&bytes);
        }
    }
}
