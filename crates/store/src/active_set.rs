//! Every matchable record in compact form, for a batch resolution: record ids, keys, survivorship inputs and the
//! stored clean forms in a few flat buffers (one allocation per column, not a dozen per record), decoded one
//! record at a time when needed.

use crate::Result;
use crate::clean_codec;
use model::{CleanRecord, RecordKey};

/// The active records, ordered by record id. Index `i` addresses the same record in every accessor.
#[derive(Debug, Default)]
pub struct ActiveSet {
    rids: Vec<i64>,
    /// Distinct source names; records refer to them by index.
    sources: Vec<String>,
    source_of: Vec<u32>,
    trust: Vec<i32>,
    recency: Vec<i64>,
    /// Source ids back to back; record `i`'s ends at `id_ends[i]`.
    ids: String,
    id_ends: Vec<usize>,
    /// Stored clean forms back to back; record `i`'s ends at `clean_ends[i]`.
    clean: Vec<u8>,
    clean_ends: Vec<usize>,
}

impl ActiveSet {
    /// An empty set with room for `records` records whose stored clean forms take `clean_bytes` together.
    pub fn with_capacity(records: usize, clean_bytes: usize) -> Self {
        ActiveSet {
            rids: Vec::with_capacity(records),
            source_of: Vec::with_capacity(records),
            trust: Vec::with_capacity(records),
            recency: Vec::with_capacity(records),
            ids: String::with_capacity(records * 8),
            id_ends: Vec::with_capacity(records),
            clean: Vec::with_capacity(clean_bytes),
            clean_ends: Vec::with_capacity(records),
            ..ActiveSet::default()
        }
    }

    /// Adds a record (callers add them in record-id order). `clean` is the stored clean form.
    pub fn push(&mut self, rid: i64, source: &str, source_id: &str, trust: i32, recency: i64, clean: &[u8]) {
        let index = self.source_index(source);
        self.rids.push(rid);
        self.source_of.push(index);
        self.trust.push(trust);
        self.recency.push(recency);
        self.ids.push_str(source_id);
        self.id_ends.push(self.ids.len());
        self.clean.extend_from_slice(clean);
        self.clean_ends.push(self.clean.len());
    }

    /// Adds the records of `other` after these (callers keep record-id order: `other`'s ids are all higher).
    pub fn append(&mut self, other: ActiveSet) {
        let sources: Vec<u32> = other.sources.iter().map(|s| self.source_index(s)).collect();
        self.rids.extend_from_slice(&other.rids);
        self.source_of.extend(other.source_of.iter().map(|i| sources[*i as usize]));
        self.trust.extend_from_slice(&other.trust);
        self.recency.extend_from_slice(&other.recency);
        let base = self.ids.len();
        self.ids.push_str(&other.ids);
        self.id_ends.extend(other.id_ends.iter().map(|end| base + end));
        let base = self.clean.len();
        self.clean.extend_from_slice(&other.clean);
        self.clean_ends.extend(other.clean_ends.iter().map(|end| base + end));
    }

    /// The index of a source's name, added when new.
    fn source_index(&mut self, source: &str) -> u32 {
        match self.sources.iter().position(|s| s == source) {
            Some(i) => i as u32,
            None => {
                self.sources.push(source.to_string());
                (self.sources.len() - 1) as u32
            }
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.rids.len()
    }

    /// True when there are no records.
    pub fn is_empty(&self) -> bool {
        self.rids.is_empty()
    }

    /// Record ids, ascending.
    pub fn rids(&self) -> &[i64] {
        &self.rids
    }

    /// The distinct source names, in order of first appearance.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Record `i`'s source, as an index into [`ActiveSet::sources`].
    pub fn source_of(&self, i: usize) -> u32 {
        self.source_of[i]
    }

    /// Record `i`'s source name.
    pub fn source(&self, i: usize) -> &str {
        &self.sources[self.source_of[i] as usize]
    }

    /// Record `i`'s id in its source.
    pub fn source_id(&self, i: usize) -> &str {
        &self.ids[start(&self.id_ends, i)..self.id_ends[i]]
    }

    /// Record `i`'s key.
    pub fn key(&self, i: usize) -> RecordKey {
        RecordKey::new(self.source(i), self.source_id(i))
    }

    /// Trust rank of record `i`'s source.
    pub fn trust(&self, i: usize) -> i32 {
        self.trust[i]
    }

    /// When record `i` last changed (source time if known, else ingest time).
    pub fn recency(&self, i: usize) -> i64 {
        self.recency[i]
    }

    /// Record `i`'s clean form, decoded.
    pub fn clean(&self, i: usize) -> Result<CleanRecord> {
        Ok(clean_codec::decode(self.stored_clean(i))?)
    }

    /// Record `i`'s clean form decoded into `record`, reusing its memory (see [`clean_codec::decode_into`]).
    pub fn clean_into(&self, i: usize, record: &mut CleanRecord) -> Result<()> {
        Ok(clean_codec::decode_into(self.stored_clean(i), record)?)
    }

    /// Record `i`'s key written into `key`, reusing its memory.
    pub fn key_into(&self, i: usize, key: &mut RecordKey) {
        key.source.clear();
        key.source.push_str(self.source(i));
        key.source_id.clear();
        key.source_id.push_str(self.source_id(i));
    }

    /// False when record `i` surely has no source identifiers (read from the stored form's header alone).
    pub fn may_have_identifiers(&self, i: usize) -> bool {
        clean_codec::may_have_identifiers(self.stored_clean(i))
    }

    /// Record `i`'s stored clean form.
    fn stored_clean(&self, i: usize) -> &[u8] {
        &self.clean[start(&self.clean_ends, i)..self.clean_ends[i]]
    }
}

fn start(ends: &[usize], i: usize) -> usize {
    if i == 0 { 0 } else { ends[i - 1] }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::PersonName;

    #[test]
    fn records_read_back_by_index() {
        let mut set = ActiveSet::default();
        let clean = |family: &str| CleanRecord {
            name: PersonName { family: Some(family.into()), ..PersonName::default() },
            ..CleanRecord::default()
        };
        set.push(3, "crm", "c-1", 2, 100, &clean_codec::encode(&clean("Vries")));
        set.push(8, "shop", "", 0, 200, br#"{"name":{"family":"Bos"}}"#);
        set.push(9, "crm", "c-2", 2, 300, &clean_codec::encode(&clean("Smit")));
        assert_eq!((set.len(), set.rids()), (3, &[3, 8, 9][..]));
        assert_eq!(set.sources(), ["crm", "shop"]);
        assert_eq!((set.source_of(2), set.source(1), set.source_id(1)), (0, "shop", ""));
        assert_eq!(set.key(2), RecordKey::new("crm", "c-2"));
        assert_eq!((set.trust(0), set.recency(1)), (2, 200));
        let families: Vec<String> =
            (0..3).map(|i| set.clean(i).expect("decode").name.family.expect("family")).collect();
        assert_eq!(families, ["Vries", "Bos", "Smit"]);
        let (mut reused, mut key) = (CleanRecord::default(), RecordKey::new("", ""));
        for i in [2, 0, 1] {
            set.clean_into(i, &mut reused).expect("decode into");
            assert_eq!(reused, set.clean(i).expect("decode"));
            set.key_into(i, &mut key);
            assert_eq!(key, set.key(i));
        }
        assert!(!set.may_have_identifiers(0));
        assert!(set.may_have_identifiers(1), "a JSON form may have any field");
        // The same records in two parts, the second with its sources in another order, appended.
        let mut first = ActiveSet::default();
        first.push(3, "crm", "c-1", 2, 100, &clean_codec::encode(&clean("Vries")));
        let mut second = ActiveSet::with_capacity(2, 64);
        second.push(8, "shop", "", 0, 200, br#"{"name":{"family":"Bos"}}"#);
        second.push(9, "crm", "c-2", 2, 300, &clean_codec::encode(&clean("Smit")));
        first.append(second);
        assert_eq!((first.len(), first.rids(), first.sources()), (3, &[3, 8, 9][..], set.sources()));
        for i in 0..3 {
            assert_eq!((first.key(i), first.source_of(i)), (set.key(i), set.source_of(i)));
            assert_eq!((first.trust(i), first.recency(i)), (set.trust(i), set.recency(i)));
            assert_eq!(first.clean(i).expect("decode"), set.clean(i).expect("decode"));
        }
    }
}
