//! Streaming exports: one golden record per row (CSV) or line (NDJSON), and one membership per row.

use crate::{Error, Result};
use model::Golden;
use std::io::Write;
use store::Store;

/// Output formats of `export`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Comma-separated, one column per canonical attribute plus `extra` (identifiers and attributes as JSON).
    Csv,
    /// One JSON document per line, with every value's provenance.
    Ndjson,
}

/// The canonical attribute columns of a CSV export, in order.
pub const CSV_COLUMNS: &[&str] = &[
    "given_name",
    "initials",
    "name_prefix",
    "family_name",
    "birth_date",
    "email",
    "phone",
    "street",
    "house_number",
    "house_number_addition",
    "postcode",
    "city",
    "country",
    "organisation",
];

/// True when the golden record's consent for `purpose` is granted (see `master::survive`: the most restrictive
/// answer of the members wins; no answer is no consent).
pub fn consents_to(golden: &Golden, purpose: &str) -> bool {
    golden.values.iter().any(|v| v.attribute.strip_prefix("consent.") == Some(purpose) && v.value == "granted")
}

/// Writes every golden record — or, with `consent`, only those whose consent for that purpose is granted;
/// returns how many.
pub fn export_golden(
    store: &dyn Store,
    format: ExportFormat,
    consent: Option<&str>,
    out: &mut dyn Write,
) -> Result<u64> {
    let wanted = |g: &Golden| consent.is_none_or(|purpose| consents_to(g, purpose));
    match format {
        ExportFormat::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            let mut header = vec!["entity_id"];
            header.extend_from_slice(CSV_COLUMNS);
            header.push("extra");
            writer.write_record(&header)?;
            let count = each_golden(store, wanted, |g| Ok(writer.write_record(csv_row(g))?))?;
            writer.flush()?;
            Ok(count)
        }
        ExportFormat::Ndjson => each_golden(store, wanted, |g| {
            serde_json::to_writer(&mut *out, g)?;
            Ok(out.write_all(b"\n")?)
        }),
    }
}

/// Calls `write` with every golden record that is `wanted`; returns how many.
fn each_golden(
    store: &dyn Store,
    wanted: impl Fn(&Golden) -> bool,
    mut write: impl FnMut(&Golden) -> Result<()>,
) -> Result<u64> {
    walk(|visit| store.for_each_golden(&mut |g| if wanted(g) { visit(write(g)) } else { Ok(()) }))
}

/// Runs a store walk whose visits may fail with a write error: the walk is stopped at the first failure and that
/// error is returned as it is (not as the store's "stopped"). Returns how many visits succeeded.
fn walk(run: impl FnOnce(&mut dyn FnMut(Result<()>) -> store::Result<()>) -> store::Result<()>) -> Result<u64> {
    let mut count = 0u64;
    let mut failure: Option<Error> = None;
    let outcome = run(&mut |written| match written {
        Ok(()) => {
            count += 1;
            Ok(())
        }
        Err(e) => {
            failure = Some(e);
            Err(store::Error::Invalid("export stopped".into()))
        }
    });
    outcome.map_err(|e| failure.take().unwrap_or(Error::Store(e)))?;
    Ok(count)
}

/// One CSV row: the entity, the canonical attributes, and identifiers and attributes as JSON in `extra`.
fn csv_row(g: &Golden) -> Vec<String> {
    let mut row = vec![g.entity.to_string()];
    row.extend(CSV_COLUMNS.iter().map(|c| g.get(c).unwrap_or_default().to_string()));
    let extra: serde_json::Map<String, serde_json::Value> = g
        .values
        .iter()
        .filter(|v| v.attribute.contains('.'))
        .map(|v| (v.attribute.clone(), v.value.clone().into()))
        .collect();
    row.push(if extra.is_empty() { String::new() } else { serde_json::Value::Object(extra).to_string() });
    row
}

/// Writes `source,source_id,entity_id` for every matched record; returns how many.
pub fn export_members(store: &dyn Store, out: &mut dyn Write) -> Result<u64> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(["source", "source_id", "entity_id"])?;
    let count = walk(|visit| {
        store.for_each_membership(&mut |key, id| {
            visit(
                writer
                    .write_record([key.source.as_str(), key.source_id.as_str(), &id.to_string()])
                    .map_err(Error::from),
            )
        })
    })?;
    writer.flush()?;
    Ok(count)
}
