//! The `raw_layouts` table: the column names of compact raw versions, once per layout (see `raw_form`).

use crate::raw_form::{self, StoredLayout, StoredRaw};
use crate::{Error, Result};
use model::{RawFields, RawLayout};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;

/// Layouts looked up or stored through one connection, kept for the next record.
#[derive(Default)]
pub(super) struct RawLayouts {
    known: HashMap<i64, Known>,
}

/// A stored layout: its names, and how rows are laid out by them.
struct Known {
    names: Arc<[String]>,
    layout: RawLayout,
}

impl RawLayouts {
    /// Makes sure the table holds `layout`. False when its id is already taken by other names (a hash collision):
    /// the version must then be stored as a JSON object.
    pub(super) fn ensure(&mut self, conn: &Connection, layout: &StoredLayout) -> Result<bool> {
        if let Some(known) = self.known.get(&layout.id)
            && Arc::ptr_eq(&known.names, &layout.names)
        {
            return Ok(true);
        }
        match self.load(conn, layout.id)? {
            Some(known) if known.names[..] != layout.names[..] => return Ok(false),
            Some(_) => {}
            None => {
                let names = serde_json::to_string(&layout.names[..])?;
                conn.prepare_cached("INSERT INTO raw_layouts (id, names) VALUES (?1, ?2)")?
                    .execute(params![layout.id, names])?;
            }
        }
        // Kept under the caller's names: the rows that follow share them, and compare by pointer.
        self.known.insert(layout.id, Known { names: layout.names.clone(), layout: RawLayout::new(&layout.names) });
        Ok(true)
    }

    /// The fields of a stored raw form; `None` for a version that marks a record deleted at its source.
    pub(super) fn read(&mut self, conn: &Connection, text: &str) -> Result<Option<RawFields>> {
        match raw_form::parse(text)? {
            StoredRaw::Deleted => Ok(None),
            StoredRaw::Object(fields) => Ok(Some(fields)),
            StoredRaw::Compact(id, values) => {
                let Known { layout, .. } = self.load(conn, id)?.ok_or_else(|| {
                    Error::Invalid(format!("a raw version refers to layout {id}, which is not stored"))
                })?;
                raw_form::fields_of(layout, &values).map(Some).ok_or_else(|| {
                    Error::Invalid(format!(
                        "a raw version has {} values for the {} names of its layout",
                        values.len(),
                        layout.columns()
                    ))
                })
            }
        }
    }

    fn load(&mut self, conn: &Connection, id: i64) -> Result<Option<&Known>> {
        let vacant = match self.known.entry(id) {
            Entry::Occupied(known) => return Ok(Some(known.into_mut())),
            Entry::Vacant(vacant) => vacant,
        };
        let names: Option<String> = conn
            .prepare_cached("SELECT names FROM raw_layouts WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        let Some(names) = names else { return Ok(None) };
        let names: Arc<[String]> = serde_json::from_str::<Vec<String>>(&names)?.into();
        let layout = RawLayout::new(&names);
        Ok(Some(vacant.insert(Known { names, layout })))
    }
}

/// The JSON object of a stored raw form that a record whose layout id was taken (see [`RawLayouts::ensure`])
/// is stored as instead.
pub(super) fn as_object(raw: &str, layout: &StoredLayout) -> Result<String> {
    match raw_form::parse(raw)? {
        StoredRaw::Compact(_, values) => {
            let fields = raw_form::fields_of(&RawLayout::new(&layout.names), &values)
                .ok_or_else(|| Error::Invalid("a raw form does not match its own layout".into()))?;
            Ok(serde_json::to_string(&fields)?)
        }
        _ => Ok(raw.to_string()),
    }
}
