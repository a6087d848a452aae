//! Preparing one source record for the store, the same way for a file read in batch and a record pushed over
//! the API: map its columns onto the canonical schema, clean it, turn its issues into quarantine entries and
//! encode it.

use clean::{CleanContext, clean_record};
use connect::{ColumnSlots, Mapper, RowError};
use model::{BirthDate, CleanRecord, Field, Issue, Severity, SourceConfig, SourceRecord};
use store::{IncomingRecord, QuarantineEntry};

/// A source's mapping and cleaning settings, resolved once and applied to each of its records.
#[derive(Debug, Clone)]
pub struct SourceCleaner {
    source: String,
    mapper: Mapper,
    context: CleanContext,
    /// Raw fields stored compact ([`IncomingRecord::encode_compact`]): rows of a file laid out by its header.
    compact_raw: bool,
}

/// One record prepared for the store.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The record to store (raw fields, and the clean form unless quarantined); `None` when the row could not
    /// be read at all (it is only a quarantine entry).
    pub record: Option<IncomingRecord>,
    /// The clean form, when the record can be matched.
    pub clean: Option<CleanRecord>,
    /// Quarantine entries: the whole record (severity `record`) or values dropped from it (`value`).
    pub entries: Vec<QuarantineEntry>,
}

impl SourceCleaner {
    /// Resolves a source's mapping; `today` bounds birth dates. Fails when the mapping names an unknown field.
    pub fn new(source: &SourceConfig, today: BirthDate) -> Result<Self, model::ConfigError> {
        Ok(SourceCleaner {
            source: source.name.clone(),
            mapper: Mapper::new(source)?,
            context: CleanContext {
                country: source.country.clone(),
                month_first: source.month_first(),
                today,
                required: source.required.iter().filter_map(|r| r.parse::<Field>().ok()).collect(),
            },
            compact_raw: false,
        })
    }

    /// This cleaner for the rows of a file read by its header (CSV): their raw fields are stored compact, the
    /// column names once. Documents (JSON, records pushed over the API) keep theirs with each version, as their
    /// keys may hold data.
    pub fn for_header_rows(mut self) -> Self {
        self.compact_raw = true;
        self
    }

    /// The source's name.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Maps, cleans and encodes one item read from the source (or the reason it could not be read), at time
    /// `at` (seconds since the epoch).
    pub fn prepare(&self, item: &Result<SourceRecord, RowError>, at: i64) -> Result<Prepared, serde_json::Error> {
        self.prepare_with(&mut ColumnSlots::default(), item, at)
    }

    /// [`SourceCleaner::prepare`] for many items: `slots` keeps where the mapped columns lie in the last
    /// record's layout (the rows of a file share theirs), so they are not looked up by name for every row.
    pub fn prepare_with(
        &self,
        slots: &mut ColumnSlots,
        item: &Result<SourceRecord, RowError>,
        at: i64,
    ) -> Result<Prepared, serde_json::Error> {
        let record = match item {
            Ok(r) => r,
            Err(e) => {
                let entry = QuarantineEntry {
                    source: self.source.clone(),
                    source_id: e.source_id.clone(),
                    line: e.line,
                    severity: "record".into(),
                    field: None,
                    value: (!e.raw.is_empty()).then(|| e.raw.clone()),
                    reason: e.reason.clone(),
                    at,
                };
                return Ok(Prepared { record: None, clean: None, entries: vec![entry] });
            }
        };
        let (clean, issues) = clean_record(&self.mapper.map_with(slots, record), &self.context);
        let rejected = issues.iter().any(|i| i.severity == Severity::Record);
        let entries = issues
            .into_iter()
            .map(|i: Issue| QuarantineEntry {
                source: self.source.clone(),
                source_id: Some(record.key.source_id.clone()),
                line: record.line,
                severity: match i.severity {
                    Severity::Record => "record".into(),
                    Severity::Value => "value".into(),
                },
                field: i.field,
                value: i.value,
                reason: i.reason,
                at,
            })
            .collect::<Vec<_>>();
        let clean = (!rejected).then_some(clean);
        let encode = if self.compact_raw { IncomingRecord::encode_compact } else { IncomingRecord::encode };
        let mut incoming = encode(record.key.clone(), &record.fields, clean.as_ref())?;
        incoming.quarantine_reasons =
            entries.iter().filter(|e: &&QuarantineEntry| e.severity == "record").map(|e| e.reason.clone()).collect();
        Ok(Prepared { record: Some(incoming), clean, entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::{Config, RecordKey};

    fn config() -> Config {
        let text = r#"
            [[source]]
            name = "shop"
            format = "csv"
            path = "shop.csv"
            id = "id"
            country = "NL"
            required = ["family_name"]
            [source.fields]
            given_name = "first"
            family_name = "last"
            email = "mail"
            city = "town"
        "#;
        Config::parse(text, std::path::Path::new(".")).expect("config")
    }

    fn item(fields: &[(&str, &str)]) -> Result<SourceRecord, RowError> {
        Ok(SourceRecord {
            key: RecordKey::new("shop", "7"),
            line: 3,
            fields: fields.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        })
    }

    #[test]
    fn a_record_is_mapped_cleaned_and_encoded() {
        let config = config();
        let today = BirthDate { year: 2026, month: 11, day: 23 };
        let cleaner = SourceCleaner::new(&config.sources[0], today).expect("cleaner");
        let ok = cleaner
            .prepare(&item(&[("first", "Henk"), ("last", "de Vries"), ("mail", "nope"), ("town", "Arnhem")]), 5)
            .expect("ok");
        let clean = ok.clean.expect("usable");
        assert_eq!(clean.name.family.as_deref(), Some("Vries"));
        let record = ok.record.expect("stored");
        assert!(record.clean.is_some());
        assert_eq!(ok.entries.len(), 1, "the bad email is dropped with a value entry");
        assert_eq!((ok.entries[0].severity.as_str(), ok.entries[0].line), ("value", 3));

        let missing = cleaner.prepare(&item(&[("first", "Henk"), ("town", "Arnhem")]), 5).expect("ok");
        assert!(missing.clean.is_none(), "a required field is missing: quarantined");
        assert!(missing.record.expect("kept").clean.is_none());
        assert_eq!(missing.entries[0].severity, "record");

        let unreadable = Err(RowError { line: 9, source_id: None, raw: "x,y".into(), reason: "bad row".into() });
        let bad = cleaner.prepare(&unreadable, 5).expect("ok");
        assert!(bad.record.is_none());
        assert_eq!((bad.entries[0].reason.as_str(), bad.entries[0].line), ("bad row", 9));
    }
}
