//! The stored form of a record version's raw fields. A version is stored compact, as the id of its column names
//! (its layout) and its values in name order, `[id,["v1","v2",…]]`, the names themselves stored once per layout:
//! about half the bytes of a JSON object that repeats every column name in every row. Versions written by earlier
//! versions of cdihub hold that JSON object, and the last version of a record deleted at its source holds `null`;
//! both are still read.

use model::{RawFields, RawLayout};
use std::sync::Arc;

/// The column names a compact raw form refers to, with their id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredLayout {
    /// A stable 64-bit hash of the names ([`layout_id`]).
    pub id: i64,
    /// The column names, sorted and unique (as [`RawFields::names`] holds them).
    pub names: Arc<[String]>,
}

impl StoredLayout {
    /// The layout of `fields`.
    pub fn of(fields: &RawFields) -> Self {
        StoredLayout { id: layout_id(fields.names()), names: fields.names().clone() }
    }
}

/// A stable id of a list of column names: the same names give the same id in every run and on every machine.
pub fn layout_id(names: &[String]) -> i64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = foldhash::fast::FixedState::with_seed(0x6c61_796f_7574).build_hasher();
    h.write_usize(names.len());
    for name in names {
        h.write_usize(name.len());
        h.write(name.as_bytes());
    }
    h.finish() as i64
}

/// A row's stored form, and its values as one JSON object (the text its content hash is taken of).
pub struct Encoded {
    /// `[id,["v1",…]]`.
    pub compact: String,
    /// `{"name1":"v1",…}`, as `serde_json` writes the row.
    pub object: String,
}

/// Both forms of `fields` at once, each value escaped once.
pub fn encode(fields: &RawFields, id: i64) -> Result<Encoded, serde_json::Error> {
    let mut compact = Vec::with_capacity(24 + fields.len() * 16);
    let mut object = Vec::with_capacity(2 + fields.len() * 28);
    serde_json::to_writer(&mut compact, &id)?;
    compact.insert(0, b'[');
    compact.extend_from_slice(b",[");
    object.push(b'{');
    for (slot, (name, value)) in fields.iter().enumerate() {
        if slot > 0 {
            compact.push(b',');
            object.push(b',');
        }
        serde_json::to_writer(&mut object, name)?;
        object.push(b':');
        let start = compact.len();
        serde_json::to_writer(&mut compact, value)?;
        object.extend_from_slice(&compact[start..]);
    }
    compact.extend_from_slice(b"]]");
    object.push(b'}');
    // serde_json writes UTF-8 only.
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).map_err(|e| serde::ser::Error::custom(e.to_string()));
    Ok(Encoded { compact: text(compact)?, object: text(object)? })
}

/// What a stored raw form holds.
#[derive(Debug, PartialEq, Eq)]
pub enum StoredRaw {
    /// Values in name order of the layout with this id.
    Compact(i64, Vec<String>),
    /// Fields as a JSON object (written by earlier versions).
    Object(RawFields),
    /// No fields: the record was deleted at its source.
    Deleted,
}

/// Reads a stored raw form.
pub fn parse(text: &str) -> Result<StoredRaw, serde_json::Error> {
    match text.trim_start().as_bytes().first() {
        Some(b'[') => {
            let (id, values): (i64, Vec<String>) = serde_json::from_str(text)?;
            Ok(StoredRaw::Compact(id, values))
        }
        Some(b'n') => serde_json::from_str::<()>(text).map(|()| StoredRaw::Deleted),
        _ => serde_json::from_str(text).map(StoredRaw::Object),
    }
}

/// Lays `values` out by a layout's names (one value per name, in name order); `None` when their counts differ.
pub fn fields_of(layout: &RawLayout, values: &[String]) -> Option<RawFields> {
    (layout.columns() == values.len()).then(|| layout.row(|column| values[column].as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fields(pairs: &[(&str, &str)]) -> RawFields {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_compact_form_is_the_values_after_the_layout_id() {
        let f = fields(&[("name", "Henk \"de\" Vries"), ("id", "7"), ("email", "")]);
        let layout = StoredLayout::of(&f);
        let text = encode(&f, layout.id).expect("compact").compact;
        assert_eq!(text, format!(r#"[{},["","7","Henk \"de\" Vries"]]"#, layout.id));
        let StoredRaw::Compact(id, values) = parse(&text).expect("parse") else { panic!("not compact: {text}") };
        assert_eq!(id, layout.id);
        let names = RawLayout::new(&layout.names);
        assert_eq!(fields_of(&names, &values), Some(f));
        assert_eq!(fields_of(&names, &values[1..]), None, "a value short");
    }

    #[test]
    fn earlier_forms_are_still_read() {
        assert_eq!(
            parse(r#"{"b":"2","a":"1"}"#).expect("object"),
            StoredRaw::Object(fields(&[("a", "1"), ("b", "2")]))
        );
        assert_eq!(parse("null").expect("deleted"), StoredRaw::Deleted);
        assert!(parse("[1,2]").is_err());
        assert!(parse("nonsense").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn layout_ids_tell_name_lists_apart() {
        let names = |n: &[&str]| -> Vec<String> { n.iter().map(|s| s.to_string()).collect() };
        let ids = [
            layout_id(&names(&["a", "b"])),
            layout_id(&names(&["ab"])),
            layout_id(&names(&["a", "b", ""])),
            layout_id(&names(&[])),
            layout_id(&names(&["", "ab"])),
        ];
        for (i, a) in ids.iter().enumerate() {
            assert!(ids[i + 1..].iter().all(|b| b != a), "{ids:?}");
        }
        assert_eq!(layout_id(&names(&["a", "b"])), ids[0], "stable");
    }

    proptest! {
        /// Any row survives the compact form: the values read back under the layout's names are the row.
        #[test]
        fn a_row_reads_back_from_its_compact_form(
            columns in proptest::collection::vec(("[a-c._]{0,4}", "\\PC{0,8}"), 0..10),
        ) {
            let row: RawFields = columns.into_iter().collect();
            let layout = StoredLayout::of(&row);
            let encoded = encode(&row, layout.id).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(Some(encoded.object), serde_json::to_string(&row).ok());
            let text = encoded.compact;
            match parse(&text) {
                Ok(StoredRaw::Compact(id, values)) => {
                    prop_assert_eq!(id, layout.id);
                    prop_assert_eq!(fields_of(&RawLayout::new(&layout.names), &values), Some(row));
                }
                other => prop_assert!(false, "{:?}", other),
            }
        }
    }
}
