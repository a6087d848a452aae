//! The blocking index of a real-time hub, in memory: which records hold each blocking (and deterministic-rule)
//! key, and each record's birth-year and city sub-block values. It is derived from the stored records (built when
//! the hub opens) and changed with them; nothing of it is written per change.
//!
//! Layout: a compact base (distinct keys sorted, one offset each, record ids as `u32`) built in one pass, plus the
//! changes since — keys added per record, base entries removed — folded into a new base when they grow past a
//! quarter of it. A million records with twelve keys each take about 150 MB.

use crate::incremental::{BlockMember, RecordKeys};
use crate::resolve::MasterError;
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};

/// Record ids are kept as `u32`.
fn compact_id(rid: i64) -> Result<u32, MasterError> {
    u32::try_from(rid).map_err(|_| MasterError::Rule(format!("record id {rid} is beyond the blocking index's range")))
}

/// Birth-year and city sub-block values of one record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct SubBlocks {
    year: u64,
    city: u64,
}

/// Which records hold each key.
#[derive(Debug, Default)]
pub struct BlockIndex {
    /// Distinct keys of the base, ascending.
    keys: Vec<u64>,
    /// `starts[i]..starts[i + 1]` are the positions of `keys[i]`'s records in `records`.
    starts: Vec<u32>,
    /// Record ids of the base, grouped by key.
    records: Vec<u32>,
    /// Entries added since the base was built.
    added: HashMap<u64, Vec<u32>>,
    /// Base entries removed since.
    removed: HashSet<(u64, u32)>,
    /// Entries in `added`.
    added_len: usize,
    /// Sub-block values by record id.
    sub_blocks: Vec<SubBlocks>,
}

impl BlockIndex {
    /// An index of `records`: each record id with everything it is indexed under.
    pub fn build(records: Vec<(i64, RecordKeys)>) -> Result<Self, MasterError> {
        let mut sub_blocks = Vec::new();
        let mut entries: Vec<(u64, u32)> = Vec::with_capacity(records.iter().map(|(_, k)| k.keys.len()).sum());
        for (rid, keys) in &records {
            let id = compact_id(*rid)?;
            set_sub_blocks(&mut sub_blocks, id, keys);
            entries.extend(keys.keys.iter().map(|k| (k.key, id)));
        }
        drop(records);
        let mut index = BlockIndex { sub_blocks, ..BlockIndex::default() };
        index.set_base(entries);
        Ok(index)
    }

    /// Entries in the index.
    pub fn len(&self) -> usize {
        self.records.len() - self.removed.len() + self.added_len
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Indexes a record under its keys (a record is indexed once: remove its old keys first).
    pub fn add(&mut self, rid: i64, keys: &RecordKeys) -> Result<(), MasterError> {
        let id = compact_id(rid)?;
        set_sub_blocks(&mut self.sub_blocks, id, keys);
        for k in &keys.keys {
            if !self.removed.remove(&(k.key, id)) {
                self.added.entry(k.key).or_default().push(id);
                self.added_len += 1;
            }
        }
        if self.added_len + self.removed.len() > (self.records.len() / 4).max(100_000) {
            self.compact();
        }
        Ok(())
    }

    /// Takes a record out from under the keys it was indexed with.
    pub fn remove(&mut self, rid: i64, keys: &RecordKeys) -> Result<(), MasterError> {
        let id = compact_id(rid)?;
        for k in &keys.keys {
            let from_added = match self.added.get_mut(&k.key) {
                Some(ids) => match ids.iter().position(|i| *i == id) {
                    Some(at) => {
                        ids.swap_remove(at);
                        if ids.is_empty() {
                            self.added.remove(&k.key);
                        }
                        self.added_len -= 1;
                        true
                    }
                    None => false,
                },
                None => false,
            };
            if !from_added && self.base_block(k.key).contains(&id) {
                self.removed.insert((k.key, id));
            }
        }
        Ok(())
    }

    /// The records under `key`, but `except`, with their sub-block values; at most `limit` of them (a block that
    /// reaches the limit is too large to use whole, see [`crate::incremental::IndexRules::lookup_limit`]).
    pub fn block(&self, key: u64, except: i64, limit: usize) -> Vec<BlockMember> {
        let base =
            self.base_block(key).iter().filter(|id| self.removed.is_empty() || !self.removed.contains(&(key, **id)));
        let added = self.added.get(&key).into_iter().flatten();
        base.chain(added)
            .filter(|id| i64::from(**id) != except)
            .take(limit)
            .map(|id| {
                let s = self.sub_blocks.get(*id as usize).copied().unwrap_or_default();
                BlockMember { id: i64::from(*id), year: s.year, city: s.city }
            })
            .collect()
    }

    fn base_block(&self, key: u64) -> &[u32] {
        match self.position(key) {
            Some(i) => &self.records[self.starts[i] as usize..self.starts[i + 1] as usize],
            None => &[],
        }
    }

    /// Where `key` is among the base's keys. The keys are hashes, spread evenly over `u64`, so the key's share of
    /// the range predicts its position closely: the search starts there and widens a window until it brackets the
    /// key (a plain binary search over millions of keys missed the cache at every step).
    fn position(&self, key: u64) -> Option<usize> {
        let n = self.keys.len();
        if n == 0 {
            return None;
        }
        let guess = ((u128::from(key) * n as u128) >> 64) as usize;
        let (mut lo, mut hi) = (guess, guess + 1);
        let mut step = 16;
        while lo > 0 && self.keys[lo] > key {
            lo = lo.saturating_sub(step);
            step *= 2;
        }
        step = 16;
        while hi < n && self.keys[hi - 1] < key {
            hi = (hi + step).min(n);
            step *= 2;
        }
        self.keys[lo..hi].binary_search(&key).ok().map(|i| lo + i)
    }

    /// Folds the changes into a new base.
    fn compact(&mut self) {
        let mut entries: Vec<(u64, u32)> = Vec::with_capacity(self.len());
        for (i, key) in self.keys.iter().enumerate() {
            let ids = &self.records[self.starts[i] as usize..self.starts[i + 1] as usize];
            entries.extend(ids.iter().filter(|id| !self.removed.contains(&(*key, **id))).map(|id| (*key, *id)));
        }
        for (key, ids) in self.added.drain() {
            entries.extend(ids.into_iter().map(|id| (key, id)));
        }
        self.removed.clear();
        self.added_len = 0;
        self.set_base(entries);
    }

    fn set_base(&mut self, mut entries: Vec<(u64, u32)>) {
        entries.par_sort_unstable();
        entries.dedup();
        self.keys.clear();
        self.starts.clear();
        self.records.clear();
        self.records.reserve_exact(entries.len());
        for (key, id) in entries {
            if self.keys.last() != Some(&key) {
                self.keys.push(key);
                self.starts.push(self.records.len() as u32);
            }
            self.records.push(id);
        }
        self.starts.push(self.records.len() as u32);
        self.keys.shrink_to_fit();
        self.starts.shrink_to_fit();
    }
}

fn set_sub_blocks(sub_blocks: &mut Vec<SubBlocks>, id: u32, keys: &RecordKeys) {
    let at = id as usize;
    if sub_blocks.len() <= at {
        sub_blocks.resize(at + 1, SubBlocks::default());
    }
    sub_blocks[at] = SubBlocks { year: keys.year, city: keys.city };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incremental::IndexKey;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    fn keys(values: &[u64], year: u64, city: u64) -> RecordKeys {
        RecordKeys { keys: values.iter().map(|k| IndexKey { key: *k, rule: 0 }).collect(), year, city }
    }

    fn ids(members: Vec<BlockMember>) -> Vec<i64> {
        let mut ids: Vec<i64> = members.into_iter().map(|m| m.id).collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn blocks_follow_adds_and_removes() {
        let mut index =
            BlockIndex::build(vec![(1, keys(&[10, 20], 7, 8)), (2, keys(&[10], 5, 6)), (3, keys(&[30], 0, 0))])
                .expect("build");
        assert_eq!(index.len(), 4);
        assert_eq!(ids(index.block(10, 0, usize::MAX)), [1, 2]);
        assert_eq!(index.block(10, 1, usize::MAX), [BlockMember { id: 2, year: 5, city: 6 }]);
        assert!(index.block(99, 0, usize::MAX).is_empty());
        assert_eq!(index.block(10, 0, 1).len(), 1, "at most the limit");
        // Record 1 changes: off 20, onto 30, new sub-blocks.
        index.remove(1, &keys(&[10, 20], 7, 8)).expect("remove");
        index.add(1, &keys(&[10, 30], 9, 9)).expect("add");
        assert_eq!(ids(index.block(10, 0, usize::MAX)), [1, 2]);
        assert!(index.block(20, 0, usize::MAX).is_empty());
        assert_eq!(ids(index.block(30, 0, usize::MAX)), [1, 3]);
        assert_eq!(index.block(30, 3, usize::MAX), [BlockMember { id: 1, year: 9, city: 9 }]);
        // A new record, then deleted again.
        index.add(4, &keys(&[20], 1, 1)).expect("add");
        assert_eq!(ids(index.block(20, 0, usize::MAX)), [4]);
        index.remove(4, &keys(&[20], 1, 1)).expect("remove");
        assert!(index.block(20, 0, usize::MAX).is_empty());
        assert_eq!(index.len(), 4);
        // Folding the changes in changes no answer.
        index.compact();
        assert_eq!(
            (ids(index.block(10, 0, usize::MAX)), ids(index.block(30, 0, usize::MAX))),
            (vec![1, 2], vec![1, 3])
        );
        assert!(index.block(20, 0, usize::MAX).is_empty());
        assert!(BlockIndex::build(vec![(i64::from(u32::MAX) + 1, keys(&[1], 0, 0))]).is_err());
    }

    #[test]
    fn finds_every_key_of_a_large_base() {
        // Hash-like keys, and the extremes of the range.
        let mut values: Vec<u64> = (1..50_000u64).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15)).collect();
        values.extend([0, 1, u64::MAX - 1, u64::MAX]);
        let records = values.iter().enumerate().map(|(i, v)| (i as i64, keys(&[*v], 0, 0))).collect();
        let index = BlockIndex::build(records).expect("build");
        for (i, v) in values.iter().enumerate() {
            assert_eq!(ids(index.block(*v, -1, usize::MAX)), [i as i64], "key {v}");
        }
        for absent in [2, 12_345, u64::MAX - 2] {
            assert!(index.block(absent, -1, usize::MAX).is_empty());
        }
    }

    proptest! {
        /// Any sequence of record changes leaves the index answering as a plain map of the current keys would.
        #[test]
        fn matches_a_plain_map(
            initial in prop::collection::vec(prop::collection::vec(0u64..12, 0..4), 0..20),
            changes in prop::collection::vec((0i64..30, prop::collection::vec(0u64..12, 0..4), any::<bool>()), 0..200),
        ) {
            let mut current: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
            let mut start = Vec::new();
            for (rid, mut k) in initial.into_iter().enumerate() {
                k.sort_unstable();
                k.dedup();
                current.insert(rid as i64, k.clone());
                start.push((rid as i64, keys(&k, rid as u64, 0)));
            }
            let mut index = BlockIndex::build(start).expect("build");
            for (rid, mut k, delete) in changes {
                k.sort_unstable();
                k.dedup();
                if let Some(old) = current.remove(&rid) {
                    index.remove(rid, &keys(&old, 0, 0)).expect("remove");
                }
                if !delete {
                    index.add(rid, &keys(&k, rid as u64 + 100, 0)).expect("add");
                    current.insert(rid, k);
                }
                if rid % 7 == 0 {
                    index.compact();
                }
            }
            for key in 0..12u64 {
                let expected: Vec<i64> =
                    current.iter().filter(|(_, k)| k.contains(&key)).map(|(rid, _)| *rid).collect();
                prop_assert_eq!(ids(index.block(key, -1, usize::MAX)), expected);
            }
            prop_assert_eq!(index.len(), current.values().map(Vec::len).sum::<usize>());
        }
    }
}
