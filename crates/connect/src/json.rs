//! NDJSON (one object per line, streamed) and JSON arrays of objects. Nested objects flatten to dotted paths
//! (`address.line1`), arrays to indexed paths (`phones.0`, `phones.1`).

use crate::{Error, RecordStream, Result, RowError};
use model::{RecordKey, SourceConfig, SourceRecord};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Streams an NDJSON file line by line; blank lines are skipped.
pub fn open_ndjson(config: &SourceConfig, path: &Path) -> Result<RecordStream> {
    let file = File::open(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let mut reader = BufReader::new(file);
    let (source, id_path) = (config.name.clone(), config.id.trim().to_string());
    let mut line_no = 0u64;
    let iter = std::iter::from_fn(move || {
        loop {
            let mut bytes = Vec::new();
            line_no += 1;
            match reader.read_until(b'\n', &mut bytes) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(RowError::new(line_no, "", format!("read error: {e}")))),
            }
            let text = match std::str::from_utf8(&bytes) {
                Ok(t) => t.trim(),
                Err(e) => {
                    let raw = String::from_utf8_lossy(&bytes);
                    return Some(Err(RowError::new(
                        line_no,
                        &raw,
                        format!("invalid UTF-8 at byte {}", e.valid_up_to()),
                    )));
                }
            };
            if text.is_empty() {
                continue;
            }
            let parsed = serde_json::from_str::<Value>(text)
                .map_err(|e| RowError::new(line_no, text, format!("not valid JSON: {e}")));
            return Some(parsed.and_then(|v| to_record(&source, &id_path, v, line_no, text)));
        }
    });
    Ok(Box::new(iter))
}

/// Reads a file holding one JSON array of objects.
pub fn open_array(config: &SourceConfig, path: &Path) -> Result<RecordStream> {
    let file = File::open(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })?;
    let json_error = |message: String| Error::Json { path: path.to_path_buf(), message };
    let value: Value = serde_json::from_reader(BufReader::new(file)).map_err(|e| json_error(e.to_string()))?;
    let Value::Array(items) = value else {
        return Err(json_error(
            "expected a JSON array of objects; use format = \"ndjson\" for one object per line".into(),
        ));
    };
    let (source, id_path) = (config.name.clone(), config.id.trim().to_string());
    let iter = items.into_iter().enumerate().map(move |(i, item)| {
        let raw = item.to_string();
        to_record(&source, &id_path, item, i as u64 + 1, &raw)
    });
    Ok(Box::new(iter))
}

/// A source record from one JSON document (pushed over the API, or read from a file): nested values flattened
/// into dotted paths, the id taken from `id_path`.
pub fn to_record(
    source: &str,
    id_path: &str,
    value: Value,
    line: u64,
    raw: &str,
) -> std::result::Result<SourceRecord, RowError> {
    if !value.is_object() {
        return Err(RowError::new(line, raw, "expected a JSON object"));
    }
    let mut fields = BTreeMap::new();
    flatten("", &value, &mut fields);
    let id = fields.get(id_path).map(|v| v.trim().to_string()).unwrap_or_default();
    if id.is_empty() {
        return Err(RowError::new(line, raw, format!("the id field `{id_path}` is missing or empty")));
    }
    Ok(SourceRecord { key: RecordKey::new(source, id), line, fields: fields.into() })
}

/// Flattens nested JSON into dotted paths; `null` becomes absent, scalars become text.
pub fn flatten(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    let join = |key: &str| {
        if prefix.is_empty() { key.to_string() } else { format!("{prefix}.{key}") }
    };
    match value {
        Value::Null => {}
        Value::Object(map) => map.iter().for_each(|(k, v)| flatten(&join(k), v, out)),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, v)| flatten(&join(&i.to_string()), v, out)),
        Value::String(s) => {
            out.insert(prefix.to_string(), s.clone());
        }
        other => {
            out.insert(prefix.to_string(), other.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattens_nested_documents() {
        let v: Value = serde_json::json!({"id": 7, "name": "Henk", "address": {"line1": "Velperbroek 46"},
            "phones": ["0612345678", "026 1234567"], "note": null});
        let mut out = BTreeMap::new();
        flatten("", &v, &mut out);
        assert_eq!(out.get("id").map(String::as_str), Some("7"));
        assert_eq!(out.get("address.line1").map(String::as_str), Some("Velperbroek 46"));
        assert_eq!(out.get("phones.1").map(String::as_str), Some("026 1234567"));
        assert!(!out.contains_key("note"));
    }
}
