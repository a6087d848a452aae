//! Maps a source record's columns onto the canonical schema, as the source's configuration declares.

use model::{CustomerRecord, Field, RawFields, SourceConfig, SourceRecord};
use std::sync::Arc;

/// The column mapping of one source, resolved once and applied to every record.
#[derive(Debug, Clone)]
pub struct Mapper {
    fields: Vec<(Field, Vec<String>)>,
    identifiers: Vec<(String, String)>,
    attributes: Vec<(String, String)>,
    consent: Vec<(String, String)>,
}

impl Mapper {
    /// Resolves a source's mapping; fails when it names an unknown canonical field.
    pub fn new(config: &SourceConfig) -> Result<Self, model::ConfigError> {
        let pairs = |m: &std::collections::BTreeMap<String, String>| {
            m.iter().map(|(k, v)| (k.clone(), v.trim().to_string())).collect()
        };
        Ok(Mapper {
            fields: config.mapping()?,
            identifiers: pairs(&config.identifiers),
            attributes: pairs(&config.attributes),
            consent: pairs(&config.consent),
        })
    }

    /// Applies the mapping. A column path also collects array items below it (`phones` → `phones.0`, …).
    pub fn map<'a>(&'a self, record: &'a SourceRecord) -> CustomerRecord<'a> {
        self.map_with(&mut ColumnSlots::default(), record)
    }

    /// [`Mapper::map`] for many records: `slots` remembers where the columns lie in the last record's layout,
    /// so the rows of one file (which share their header) are mapped without looking their columns up by name.
    pub fn map_with<'a>(&'a self, slots: &mut ColumnSlots, record: &'a SourceRecord) -> CustomerRecord<'a> {
        let fields = &record.fields;
        slots.fit(self, fields);
        let mut column = slots.slots.iter();
        let mut values = move || column.next().into_iter().flatten().filter_map(|slot| fields.value_at(*slot));
        let mut out = CustomerRecord::with_capacity(self.fields.len());
        for (field, columns) in &self.fields {
            for _ in columns {
                for value in values() {
                    out.push(*field, value);
                }
            }
        }
        let mut first = || values().next().map(str::trim).filter(|v| !v.is_empty());
        for (name, _) in &self.identifiers {
            if let Some(v) = first() {
                out.identifiers.push((name, v));
            }
        }
        for (name, _) in &self.attributes {
            if let Some(v) = first() {
                out.attributes.push((name, v));
            }
        }
        for (purpose, _) in &self.consent {
            if let Some(v) = first() {
                out.consent.push((purpose, v));
            }
        }
        out
    }

    /// Every column the mapping reads, in the order [`Mapper::map_with`] reads them.
    fn columns(&self) -> impl Iterator<Item = &str> {
        let named = [&self.identifiers, &self.attributes, &self.consent];
        (self.fields.iter().flat_map(|(_, columns)| columns.iter()))
            .chain(named.into_iter().flatten().map(|(_, column)| column))
            .map(|column| column.trim())
    }
}

/// Where a mapper's columns lie in one layout of raw fields (a file's header): worked out when the layout
/// changes and reused for each row of it, so mapping a row compares no column names.
#[derive(Debug, Default)]
pub struct ColumnSlots {
    /// The layout the slots are for (held, so no other layout can take its address while it is compared).
    names: Option<Arc<[String]>>,
    /// Per column the mapper reads, in its order: the slot of the column's value, or else the slots of the array
    /// items below it (`phones.0`, `phones.1`, … in name order).
    slots: Vec<Vec<usize>>,
}

impl ColumnSlots {
    /// Works the slots out again unless `fields` has the layout they are for.
    fn fit(&mut self, mapper: &Mapper, fields: &RawFields) {
        if self.names.as_ref().is_some_and(|names| Arc::ptr_eq(names, fields.names())) {
            return;
        }
        let names = fields.names();
        let columns = mapper.columns().count();
        self.slots.resize_with(columns, Vec::new);
        for (slots, column) in self.slots.iter_mut().zip(mapper.columns()) {
            slots.clear();
            match fields.slot_of(column) {
                Some(slot) => slots.push(slot),
                None => {
                    // Array items: `phones.0`, `phones.1`, … (the last part of the name a number).
                    let items = fields.slots_starting_with(&format!("{column}.")).filter(|slot| {
                        let last = names[*slot].rsplit('.').next();
                        last.is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit()))
                    });
                    slots.extend(items);
                }
            }
        }
        self.names = Some(names.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Config, RawLayout, RecordKey};
    use std::collections::BTreeMap;
    use std::path::Path;

    /// The mapper of the one source `toml` declares.
    fn mapper(toml: &str) -> Mapper {
        let config = Config::parse(toml, Path::new(".")).expect("config");
        Mapper::new(&config.sources[0]).expect("mapper")
    }

    #[test]
    fn maps_columns_arrays_identifiers_and_attributes() {
        let mapper = mapper(
            r#"[[source]]
            name = "shop"
            format = "ndjson"
            path = "x"
            id = "id"
            [source.fields]
            full_name = "name"
            phone = "phones"
            email = ["email", "alt_email"]
            address_line = "address.line1"
            [source.identifiers]
            shop_id = "id"
            [source.attributes]
            tier = "loyalty.tier"
            "#,
        );
        let fields: BTreeMap<String, String> = [
            ("id", "7"),
            ("name", "Henk de Vries"),
            ("phones.0", "0612345678"),
            ("phones.1", "0261234567"),
            ("email", "h@x.nl"),
            ("alt_email", " "),
            ("address.line1", "Velperbroek 46"),
            ("loyalty.tier", "gold"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let rec = SourceRecord { key: RecordKey::new("shop", "7"), line: 1, fields: fields.into() };
        let mapped = mapper.map(&rec);
        assert_eq!(mapped.all(Field::Phone).collect::<Vec<_>>(), ["0612345678", "0261234567"]);
        assert_eq!(mapped.all(Field::Email).collect::<Vec<_>>(), ["h@x.nl"]);
        assert_eq!(mapped.first(Field::AddressLine), Some("Velperbroek 46"));
        assert_eq!(mapped.identifiers, [("shop_id", "7")]);
        assert_eq!(mapped.attributes, [("tier", "gold")]);
    }

    #[test]
    fn slots_kept_between_rows_follow_each_rows_layout() {
        let mapper = mapper(
            r#"[[source]]
            name = "shop"
            format = "csv"
            path = "x"
            id = "id"
            [source.fields]
            full_name = " name "
            phone = "phones"
            email = ["email", "alt_email"]
            [source.identifiers]
            shop_id = "id"
            [source.consent]
            marketing = "opt_in"
            "#,
        );
        let header = |names: &[&str]| RawLayout::new(&names.iter().map(|n| n.to_string()).collect::<Vec<_>>());
        // Two files' headers: the same columns at other places, arrays in one, a column missing in the other.
        let first = header(&["id", "name", "phones.0", "phones.1", "email", "opt_in"]);
        let second = header(&["alt_email", "phones", "name", "id", "zzz"]);
        let row = |layout: &RawLayout, values: &[&str]| SourceRecord {
            key: RecordKey::new("shop", values[0]),
            line: 1,
            fields: layout.row(|c| values[c]),
        };
        let records = [
            row(&first, &["1", "Henk", "0612345678", "026 1234567", "h@x.nl", "yes"]),
            row(&first, &["2", "Anna", "", "0261111111", "a@x.nl", "no"]),
            row(&second, &["b@y.nl", "0687654321", "Bea", "3", "x"]),
            // A row with its own layout (as a pushed record or a JSON document has).
            SourceRecord {
                key: RecordKey::new("shop", "4"),
                line: 4,
                fields: [("id", "4"), ("name", "Cor"), ("phones.7", "0611"), ("phones.x", "no")]
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            },
            row(&first, &["5", "Dirk", "0622222222", "", "d@x.nl", ""]),
        ];
        let mut slots = ColumnSlots::default();
        for record in &records {
            assert_eq!(mapper.map_with(&mut slots, record), mapper.map(record), "record {}", record.key);
        }
        assert_eq!(mapper.map_with(&mut slots, &records[2]).identifiers, [("shop_id", "3")]);
        assert_eq!(mapper.map_with(&mut slots, &records[3]).all(Field::Phone).collect::<Vec<_>>(), ["0611"]);
        assert_eq!(mapper.map_with(&mut slots, &records[0]).consent, [("marketing", "yes")]);
    }
}
