//! CSV and other delimited text with a header row: any one-byte delimiter (detected when not configured),
//! quoted fields, UTF-8 or Latin-1 (Windows-1252), streamed row by row.

use crate::{Error, RecordStream, Result, RowError};
use encoding_rs::WINDOWS_1252;
use model::{Encoding, RawLayout, RecordKey, SourceConfig, SourceRecord};
use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Opens a delimited file and checks its header against the configuration.
pub fn open(config: &SourceConfig, path: &Path) -> Result<RecordStream> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let delimiter = match config.delimiter_byte() {
        Ok(Some(d)) => d,
        Ok(None) => detect_delimiter(&mut BufReader::new(File::open(path).map_err(io)?)).map_err(io)?,
        Err(e) => {
            return Err(Error::Header { path: path.to_path_buf(), message: e.to_string() });
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(skip_bom(BufReader::new(File::open(path).map_err(io)?)).map_err(io)?);
    let mut header_row = csv::ByteRecord::new();
    let header_error = |message: String| Error::Header { path: path.to_path_buf(), message };
    match reader.read_byte_record(&mut header_row) {
        Ok(true) => {}
        Ok(false) => {
            return Err(header_error("the file is empty: a header row is required".into()));
        }
        Err(e) => return Err(header_error(format!("cannot read the header row: {e}"))),
    }
    let header: Vec<String> = header_row
        .iter()
        .map(|h| decode(h, config.encoding).map(|h| h.trim().to_string()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| header_error(format!("header row: {e}")))?;
    check_columns(config, path, &header)?;
    let id_index = header.iter().position(|h| h == config.id.trim()).unwrap_or(0);
    let layout = RawLayout::new(&header);
    Ok(Box::new(Rows {
        reader,
        header,
        layout,
        id_index,
        delimiter,
        encoding: config.encoding,
        source: config.name.clone(),
        row: csv::ByteRecord::new(),
    }))
}

/// Every column the configuration names must be in the header; the error lists what is there.
fn check_columns(config: &SourceConfig, path: &Path, header: &[String]) -> Result<()> {
    let mut wanted: Vec<&str> = vec![config.id.as_str()];
    for cols in config.fields.values() {
        wanted.extend(cols.columns());
    }
    wanted.extend(config.identifiers.values().map(String::as_str));
    wanted.extend(config.attributes.values().map(String::as_str));
    match wanted.into_iter().find(|w| !header.iter().any(|h| h == w.trim())) {
        None => Ok(()),
        Some(column) => Err(Error::MissingColumn {
            path: path.to_path_buf(),
            source_name: config.name.clone(),
            column: column.to_string(),
            columns: header.join(", "),
        }),
    }
}

struct Rows<R: Read> {
    reader: csv::Reader<R>,
    header: Vec<String>,
    layout: RawLayout,
    id_index: usize,
    delimiter: u8,
    encoding: Encoding,
    source: String,
    /// The row being read, reused: a fresh one per row grew its buffers from nothing every time.
    row: csv::ByteRecord,
}

impl<R: Read> Iterator for Rows<R> {
    type Item = std::result::Result<SourceRecord, RowError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.reader.read_byte_record(&mut self.row) {
            Ok(false) => None,
            Ok(true) => {
                let row = &self.row;
                let line = row.position().map_or(0, |p| p.line());
                if row.len() == 1 && row.get(0).is_some_and(|f| f.iter().all(u8::is_ascii_whitespace)) {
                    return self.next();
                }
                Some(self.to_record(row, line))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                Some(Err(RowError::new(line, "", format!("unreadable row: {e}"))))
            }
        }
    }
}

impl<R: Read> Rows<R> {
    fn to_record(&self, row: &csv::ByteRecord, line: u64) -> std::result::Result<SourceRecord, RowError> {
        let separator = (self.delimiter as char).to_string();
        let raw = || row.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect::<Vec<_>>().join(&separator);
        let id = || row.get(self.id_index).map(|f| String::from_utf8_lossy(f).trim().to_string());
        if row.len() != self.header.len() {
            let reason = format!("row has {} fields but the header has {}", row.len(), self.header.len());
            return Err(RowError::new(line, &raw(), reason).with_id(id()));
        }
        let mut values: Vec<Cow<'_, str>> = Vec::with_capacity(row.len());
        // The row's fields back to back, validated as UTF-8 once: each field is then a slice of it (when its ends
        // are character boundaries, as they are unless a character is split across two fields).
        let whole = match self.encoding {
            Encoding::Latin1 => None,
            Encoding::Utf8 | Encoding::Auto => std::str::from_utf8(row.as_slice()).ok(),
        };
        for (i, (name, value)) in self.header.iter().zip(row.iter()).enumerate() {
            if let Some(text) = whole.zip(row.range(i)).and_then(|(whole, range)| whole.get(range)) {
                values.push(Cow::Borrowed(text));
                continue;
            }
            let value = decode(value, self.encoding)
                .map_err(|e| RowError::new(line, &raw(), format!("{name}: {e}")).with_id(id()))?;
            values.push(value);
        }
        let fields = self.layout.row(|column| &values[column]);
        let id = values[self.id_index].trim().to_string();
        if id.is_empty() {
            let reason = format!("the id column `{}` is empty", self.header[self.id_index]);
            return Err(RowError::new(line, &raw(), reason));
        }
        Ok(SourceRecord { key: RecordKey::new(self.source.clone(), id), line, fields })
    }
}

/// Decodes one field. `Auto` takes UTF-8 when valid and Windows-1252 otherwise, field by field.
fn decode(bytes: &[u8], encoding: Encoding) -> std::result::Result<Cow<'_, str>, String> {
    match (encoding, std::str::from_utf8(bytes)) {
        (Encoding::Latin1, _) => Ok(WINDOWS_1252.decode_without_bom_handling(bytes).0),
        (_, Ok(text)) => Ok(Cow::Borrowed(text)),
        (Encoding::Auto, Err(_)) => Ok(WINDOWS_1252.decode_without_bom_handling(bytes).0),
        (Encoding::Utf8, Err(e)) => Err(format!(
            "invalid UTF-8 at byte {}; set `encoding = \"latin1\"` if the file is Latin-1",
            e.valid_up_to()
        )),
    }
}

/// Picks the delimiter that occurs most often (outside quotes) in the first line: `,` `;` tab or `|`.
fn detect_delimiter(reader: &mut impl BufRead) -> std::io::Result<u8> {
    let mut first = Vec::new();
    reader.take(64 * 1024).read_until(b'\n', &mut first)?;
    let mut counts = [0usize; 4];
    let candidates = [b',', b';', b'\t', b'|'];
    let mut quoted = false;
    for b in first {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(i) = candidates.iter().position(|c| *c == b) {
            counts[i] += 1;
        }
    }
    let best = (0..4).max_by_key(|i| (counts[*i], std::cmp::Reverse(*i))).unwrap_or(0);
    Ok(candidates[best])
}

/// Skips a UTF-8 byte-order mark at the start of the file.
fn skip_bom<R: BufRead>(mut reader: R) -> std::io::Result<R> {
    let buf = reader.fill_buf()?;
    if buf.starts_with(&[0xEF, 0xBB, 0xBF]) {
        reader.consume(3);
    }
    Ok(reader)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_delimiters() {
        let check = |line: &str, d: u8| assert_eq!(detect_delimiter(&mut line.as_bytes()).ok(), Some(d), "{line}");
        check("a,b,c\n", b',');
        check("a;b;\"c,d,e\"\n", b';');
        check("a\tb\n", b'\t');
        check("single\n", b',');
    }

    #[test]
    fn decodes_latin1_and_auto() {
        assert_eq!(decode(b"Andr\xe9", Encoding::Latin1), Ok("André".into()));
        assert_eq!(decode(b"Andr\xe9", Encoding::Auto), Ok("André".into()));
        assert_eq!(decode("André".as_bytes(), Encoding::Auto), Ok("André".into()));
        assert!(decode(b"Andr\xe9", Encoding::Utf8).expect_err("should be rejected").contains("latin1"));
    }

    /// The rows of a file's bytes after its header, as `open` would read them.
    fn rows_of(bytes: &'static [u8], encoding: Encoding) -> Vec<std::result::Result<SourceRecord, RowError>> {
        let header: Vec<String> = ["id", "a", "b"].map(String::from).to_vec();
        let reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(bytes);
        let layout = RawLayout::new(&header);
        let rows = Rows {
            reader,
            header,
            layout,
            id_index: 0,
            delimiter: b',',
            encoding,
            source: "s".into(),
            row: csv::ByteRecord::new(),
        };
        rows.collect()
    }

    #[test]
    fn fields_are_decoded_one_by_one_where_a_character_is_split_between_them() {
        // "é" is C3 A9: whole, in one field, or its two bytes in two fields (each Windows-1252 on its own).
        let rows = rows_of(b"1,Andr\xc3\xa9,x\n2,\xc3,\xa9\n3,Andr\xe9,y\n", Encoding::Auto);
        let fields = |i: usize| -> (String, String) {
            let record = rows[i].as_ref().expect("row");
            (record.fields.get("a").unwrap_or_default().into(), record.fields.get("b").unwrap_or_default().into())
        };
        assert_eq!(fields(0), ("André".into(), "x".into()));
        assert_eq!(fields(1), ("Ã".into(), "©".into()));
        assert_eq!(fields(2), ("André".into(), "y".into()));
        let strict = rows_of(b"2,\xc3,\xa9\n", Encoding::Utf8);
        assert!(strict[0].is_err(), "half a character is not UTF-8");
        let latin1 = rows_of(b"1,Andr\xc3\xa9,x\n", Encoding::Latin1);
        let record = latin1[0].as_ref().expect("row");
        assert_eq!(record.fields.get("a"), Some("AndrÃ©"), "Latin-1 even where the bytes would be UTF-8");
    }
}
