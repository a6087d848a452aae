//! What the hub keeps in memory about the stored records: the blocking index and every active record's match
//! features. Both follow each record change at once (later records of the same batch must find it), and both are
//! put back when the transaction the change was in fails.

use master::MasterError;
use master::block_index::BlockIndex;
use master::features::Features;
use master::incremental::{BlockMember, RecordKeys};

/// A record's match features and the index keys made from them.
pub(super) type Indexed = (Features, RecordKeys);

/// The blocking index and the features, with the changes of the transaction under way.
#[derive(Default)]
pub(super) struct Memory {
    index: BlockIndex,
    /// Features by record id (ids are dense row numbers, so a vector indexed by them is the compact map).
    known: Vec<Option<Features>>,
    /// (record, before, keys after) of each change since [`Memory::begin`], oldest first.
    journal: Vec<(i64, Option<Indexed>, Option<RecordKeys>)>,
}

impl Memory {
    /// The memory of these records, each with its features and keys.
    pub(super) fn build(records: Vec<(i64, Features, RecordKeys)>) -> Result<Self, MasterError> {
        let len = records.iter().filter_map(|(rid, _, _)| usize::try_from(*rid).ok()).max().map_or(0, |m| m + 1);
        let mut known = Vec::with_capacity(len);
        known.resize_with(len, || None);
        let mut keys = Vec::with_capacity(records.len());
        for (rid, features, k) in records {
            if let Ok(i) = usize::try_from(rid) {
                known[i] = Some(features);
            }
            keys.push((rid, k));
        }
        Ok(Memory { index: BlockIndex::build(keys)?, known, journal: Vec::new() })
    }

    /// A record's features, if it is active.
    pub(super) fn features(&self, rid: i64) -> Option<&Features> {
        usize::try_from(rid).ok().and_then(|i| self.known.get(i)).and_then(Option::as_ref)
    }

    /// The records under an index key (see [`BlockIndex::block`]).
    pub(super) fn block(&self, key: u64, except: i64, limit: usize) -> Vec<BlockMember> {
        self.index.block(key, except, limit)
    }

    /// Starts a transaction: the changes from here on can be rolled back.
    pub(super) fn begin(&mut self) {
        self.journal.clear();
    }

    /// Moves a record from what it was indexed as (`before`, if it was active) to what it is now (`after`, if it
    /// is still active).
    pub(super) fn reindex(
        &mut self,
        rid: i64,
        before: Option<Indexed>,
        after: Option<Indexed>,
    ) -> Result<(), MasterError> {
        let after_keys = after.as_ref().map(|(_, k)| k.clone());
        self.set(rid, before.as_ref().map(|(_, k)| k), after)?;
        self.journal.push((rid, before, after_keys));
        Ok(())
    }

    /// Undoes every change since [`Memory::begin`], newest first.
    pub(super) fn rollback(&mut self) -> Result<(), MasterError> {
        for (rid, before, after) in std::mem::take(&mut self.journal).into_iter().rev() {
            self.set(rid, after.as_ref(), before)?;
        }
        Ok(())
    }

    fn set(&mut self, rid: i64, from: Option<&RecordKeys>, to: Option<Indexed>) -> Result<(), MasterError> {
        if let Some(keys) = from {
            self.index.remove(rid, keys)?;
        }
        let slot = usize::try_from(rid).map_err(|_| MasterError::Rule(format!("record id {rid} is negative")))?;
        match to {
            Some((features, keys)) => {
                self.index.add(rid, &keys)?;
                if self.known.len() <= slot {
                    // Grown by an eighth at a time: doubling a table of millions would claim as much again at once.
                    let wanted = slot + 1 - self.known.len();
                    self.known.reserve_exact(wanted.max(self.known.len() / 8));
                    self.known.resize_with(slot + 1, || None);
                }
                self.known[slot] = Some(features);
            }
            None => {
                if let Some(old) = self.known.get_mut(slot) {
                    *old = None;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use master::features::FeatureValues;
    use master::incremental::IndexRules;
    use model::MasterConfig;

    fn person(given: &str, family: &str, city: &str) -> Indexed {
        let rules = IndexRules::new(&MasterConfig::default(), Vec::new()).expect("rules");
        let f = FeatureValues {
            given: given.into(),
            family: family.into(),
            city: city.into(),
            birth: 19_800_102,
            ..FeatureValues::default()
        }
        .pack();
        let keys = rules.keys(&f);
        (f, keys)
    }

    /// Every record under every key of these people, and which records have features.
    fn snapshot(memory: &Memory, people: &[Indexed]) -> (Vec<Vec<i64>>, Vec<bool>) {
        let mut blocks = Vec::new();
        for (_, keys) in people {
            for k in &keys.keys {
                let mut ids: Vec<i64> = memory.block(k.key, -1, usize::MAX).iter().map(|m| m.id).collect();
                ids.sort_unstable();
                blocks.push(ids);
            }
        }
        (blocks, (0..6).map(|rid| memory.features(rid).is_some()).collect())
    }

    #[test]
    fn a_rolled_back_transaction_leaves_no_trace_and_a_committed_one_stays() {
        let anna = person("anna", "vries", "arnhem");
        let bert = person("bert", "smit", "delft");
        let cora = person("cora", "jansen", "ede");
        let people = [anna.clone(), bert.clone(), cora.clone()];
        let mut memory = Memory::build(vec![(1, anna.0.clone(), anna.1.clone()), (2, bert.0.clone(), bert.1.clone())])
            .expect("build");
        let start = snapshot(&memory, &people);
        assert_eq!(start.1, [false, true, true, false, false, false]);

        // In one transaction: record 1 becomes Cora, record 2 is deleted, record 5 arrives as Anna.
        memory.begin();
        memory.reindex(1, Some(anna.clone()), Some(cora.clone())).expect("change");
        memory.reindex(2, Some(bert.clone()), None).expect("delete");
        memory.reindex(5, None, Some(anna.clone())).expect("insert");
        let during = snapshot(&memory, &people);
        assert_ne!(during, start);
        assert_eq!(during.1, [false, true, false, false, false, true]);
        let cora_key = cora.1.keys[0].key;
        assert_eq!(memory.block(cora_key, -1, usize::MAX).iter().map(|m| m.id).collect::<Vec<_>>(), [1]);
        // The transaction fails: everything is as before.
        memory.rollback().expect("rollback");
        assert_eq!(snapshot(&memory, &people), start);
        assert!(memory.block(cora_key, -1, usize::MAX).is_empty());

        // The same changes committed (the next transaction begins): they stay.
        memory.begin();
        memory.reindex(1, Some(anna), Some(cora)).expect("change");
        memory.reindex(2, Some(bert), None).expect("delete");
        memory.begin();
        memory.rollback().expect("nothing to undo");
        assert_eq!(snapshot(&memory, &people).1, [false, true, false, false, false, false]);
    }
}
