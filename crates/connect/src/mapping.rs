//! Maps a source record's columns onto the canonical schema, as the source's configuration declares.

use model::{CustomerRecord, Field, SourceConfig, SourceRecord};

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
        let mut out = CustomerRecord::default();
        for (field, columns) in &self.fields {
            for column in columns {
                for value in values_at(record, column) {
                    out.push(*field, value);
                }
            }
        }
        for (name, column) in &self.identifiers {
            if let Some(v) = values_at(record, column).next().map(str::trim).filter(|v| !v.is_empty()) {
                out.identifiers.push((name, v));
            }
        }
        for (name, column) in &self.attributes {
            if let Some(v) = values_at(record, column).next().map(str::trim).filter(|v| !v.is_empty()) {
                out.attributes.push((name, v));
            }
        }
        for (purpose, column) in &self.consent {
            if let Some(v) = values_at(record, column).next().map(str::trim).filter(|v| !v.is_empty()) {
                out.consent.push((purpose, v));
            }
        }
        out
    }
}

/// The value at `column`, or the items of an array flattened below it.
fn values_at<'a>(record: &'a SourceRecord, column: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    let exact = record.fields.get(column.trim());
    let items = exact.is_none().then(|| {
        let prefix = format!("{}.", column.trim());
        record
            .fields
            .starting_with(&prefix)
            .filter(|(k, _)| k.rsplit('.').next().is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit())))
            .map(|(_, v)| v)
            .collect::<Vec<_>>()
    });
    exact.into_iter().chain(items.into_iter().flatten())
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Config, RecordKey};
    use std::collections::BTreeMap;
    use std::path::Path;

    #[test]
    fn maps_columns_arrays_identifiers_and_attributes() {
        let config = Config::parse(
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
            Path::new("."),
        )
        .expect("config");
        let mapper = Mapper::new(&config.sources[0]).expect("mapper");
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
}
