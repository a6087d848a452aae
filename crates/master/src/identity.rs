//! Stable entity ids. When clusters are made anew (a batch resolve, or one record re-matched in real time), each
//! previous id goes to the cluster that holds most of its former records, oldest id first: on a merge the
//! oldest id survives and the others are retired (redirecting to the survivor); on a split the larger part keeps
//! the id and the part split off gets a new one.

use std::collections::BTreeMap;

/// The ids chosen for a set of clusters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct IdAssignment {
    /// Per cluster: the previous id it keeps, or `None` for a new id.
    pub kept: Vec<Option<u64>>,
    /// Previous ids no cluster kept, each with the cluster that holds most of its former records (its successor).
    pub retired: Vec<(u64, Option<usize>)>,
}

impl IdAssignment {
    /// Every cluster's id: the one it keeps, or a new one numbered from `next` in cluster order.
    pub fn ids(&self, next: u64) -> Vec<u64> {
        let mut next = next;
        self.kept
            .iter()
            .map(|kept| {
                kept.unwrap_or_else(|| {
                    next += 1;
                    next - 1
                })
            })
            .collect()
    }
}

/// Chooses ids for `clusters`, given each member's previous entity (`previous[c][k]` for member `k` of cluster
/// `c`; `None` for a record that had none). Ids are handed out in increasing order, so a smaller id is older.
/// Ties go to the cluster listed first. Deterministic.
pub fn assign_ids(previous: &[Vec<Option<u64>>]) -> IdAssignment {
    // Former records of each previous id, per cluster.
    let mut holders: BTreeMap<u64, BTreeMap<usize, usize>> = BTreeMap::new();
    for (c, members) in previous.iter().enumerate() {
        for id in members.iter().flatten() {
            *holders.entry(*id).or_default().entry(c).or_default() += 1;
        }
    }
    let mut kept: Vec<Option<u64>> = vec![None; previous.len()];
    let mut retired = Vec::new();
    for (id, by_cluster) in &holders {
        let mut ranked: Vec<(usize, usize)> = by_cluster.iter().map(|(c, n)| (*c, *n)).collect();
        // Most former records first; among equals, the cluster listed first.
        ranked.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        match ranked.iter().find(|(c, _)| kept[*c].is_none()) {
            Some((c, _)) => kept[*c] = Some(*id),
            None => retired.push((*id, ranked.first().map(|(c, _)| *c))),
        }
    }
    IdAssignment { kept, retired }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_a_merge_the_oldest_id_survives() {
        let a = assign_ids(&[vec![Some(9), Some(4), Some(9), None]]);
        assert_eq!(a.kept, vec![Some(4)]);
        assert_eq!(a.retired, vec![(9, Some(0))]);
    }

    #[test]
    fn on_a_split_the_larger_part_keeps_the_id() {
        let a = assign_ids(&[vec![Some(3)], vec![Some(3), Some(3)], vec![None]]);
        assert_eq!(a.kept, vec![None, Some(3), None]);
        assert!(a.retired.is_empty());
    }

    #[test]
    fn an_id_that_loses_its_place_goes_to_the_next_holder_or_retires() {
        // Cluster 0 holds most of both 1 and 2; 1 is older and takes it, 2 goes to cluster 1 where it also was.
        let a = assign_ids(&[vec![Some(1), Some(2), Some(2)], vec![Some(2)]]);
        assert_eq!(a.kept, vec![Some(1), Some(2)]);
        // Same, but 2 has no other holder: retired into cluster 0.
        let b = assign_ids(&[vec![Some(1), Some(2), Some(2)], vec![None]]);
        assert_eq!(b.kept, vec![Some(1), None]);
        assert_eq!(b.retired, vec![(2, Some(0))]);
    }

    #[test]
    fn new_records_get_new_ids() {
        assert_eq!(assign_ids(&[vec![None], vec![None, None]]).kept, vec![None, None]);
        assert_eq!(assign_ids(&[vec![None], vec![Some(3)], vec![None]]).ids(10), vec![10, 3, 11]);
        assert_eq!(assign_ids(&[]), IdAssignment::default());
    }
}
