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
    /// The layout of `fields`. The rows of one file share their names: the id of the names seen last is
    /// remembered (per thread), not worked out again for every row.
    pub fn of(fields: &RawFields) -> Self {
        thread_local! {
            static LAST: std::cell::RefCell<Option<StoredLayout>> = const { std::cell::RefCell::new(None) };
        }
        LAST.with_borrow_mut(|last| match last {
            Some(layout) if Arc::ptr_eq(&layout.names, fields.names()) => layout.clone(),
            _ => last.insert(StoredLayout { id: layout_id(fields.names()), names: fields.names().clone() }).clone(),
        })
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

/// A row's stored form, and the content hash of its values as one JSON object.
pub struct Encoded {
    /// `[id,["v1",…]]`.
    pub compact: String,
    /// [`content_hash`] of `{"name1":"v1",…}`, the row as `serde_json` writes it.
    pub content_hash: i64,
}

/// A stable 64-bit hash of a record's raw values as a JSON object: an unchanged record is recognised by it,
/// however it came (compact or as a document).
pub fn content_hash(object: &[u8]) -> i64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = foldhash::fast::FixedState::with_seed(7).build_hasher();
    h.write(object);
    h.finish() as i64
}

/// The names of a layout as they open each member of a JSON object (`"name":`), back to back, and where each
/// one ends.
struct ObjectKeys {
    names: Arc<[String]>,
    text: Vec<u8>,
    ends: Vec<usize>,
}

impl ObjectKeys {
    fn of(names: &Arc<[String]>) -> Result<Self, serde_json::Error> {
        let mut keys = ObjectKeys { names: names.clone(), text: Vec::new(), ends: Vec::with_capacity(names.len()) };
        for name in names.iter() {
            serde_json::to_writer(&mut keys.text, name)?;
            keys.text.push(b':');
            keys.ends.push(keys.text.len());
        }
        Ok(keys)
    }

    fn key(&self, slot: usize) -> &[u8] {
        &self.text[slot.checked_sub(1).map_or(0, |before| self.ends[before])..self.ends[slot]]
    }
}

thread_local! {
    /// The object keys of the layout seen last (a file's rows share one), and the object being hashed.
    static OBJECT: std::cell::RefCell<(Option<ObjectKeys>, Vec<u8>)> = const { std::cell::RefCell::new((None, Vec::new())) };
}

/// Both forms of `fields` at once, each value escaped once; the JSON object is only hashed, in a reused buffer.
pub fn encode(fields: &RawFields, id: i64) -> Result<Encoded, serde_json::Error> {
    OBJECT.with_borrow_mut(|(keys, object)| {
        let keys = match keys {
            Some(k) if Arc::ptr_eq(&k.names, fields.names()) => k,
            _ => keys.insert(ObjectKeys::of(fields.names())?),
        };
        let mut compact = Vec::with_capacity(24 + fields.len() * 16);
        compact.push(b'[');
        serde_json::to_writer(&mut compact, &id)?;
        compact.extend_from_slice(b",[");
        object.clear();
        object.push(b'{');
        for (slot, (_, value)) in fields.iter().enumerate() {
            if slot > 0 {
                compact.push(b',');
                object.push(b',');
            }
            object.extend_from_slice(keys.key(slot));
            let start = compact.len();
            serde_json::to_writer(&mut compact, value)?;
            object.extend_from_slice(&compact[start..]);
        }
        compact.extend_from_slice(b"]]");
        object.push(b'}');
        // serde_json writes UTF-8 only.
        let compact = String::from_utf8(compact).map_err(|e| serde::ser::Error::custom(e.to_string()))?;
        Ok(Encoded { compact, content_hash: content_hash(object) })
    })
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
    fn rows_of_layouts_in_turn_each_get_their_own_names() {
        // The names and id of the layout seen last are remembered: rows of two files in turn must not mix them.
        let a = fields(&[("name", "Henk"), ("id", "7")]);
        let b = fields(&[("naam", "Henk"), ("id", "7")]);
        for _ in 0..2 {
            for row in [&a, &b] {
                let layout = StoredLayout::of(row);
                assert_eq!(layout.id, layout_id(row.names()));
                let encoded = encode(row, layout.id).expect("encode");
                let object = serde_json::to_string(row).expect("object");
                assert_eq!(encoded.content_hash, content_hash(object.as_bytes()), "{object}");
            }
        }
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
            let object = serde_json::to_string(&row).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(encoded.content_hash, content_hash(object.as_bytes()));
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
