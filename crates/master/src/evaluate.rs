//! Accuracy against a ground truth: pairwise precision, recall and F1 of the predicted pairs, and of the
//! pairs implied by the final clusters (what a golden record actually merges).

use serde::Serialize;
use std::collections::HashMap;
use std::hash::Hash;

/// Precision, recall and F1 of one set of predicted pairs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Scores {
    /// Predicted pairs that are true.
    pub true_positives: u64,
    /// Predicted pairs that are false.
    pub false_positives: u64,
    /// True pairs that were not predicted.
    pub false_negatives: u64,
    /// TP / (TP + FP).
    pub precision: f64,
    /// TP / (TP + FN).
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
}

impl Scores {
    /// Scores from counts: true positives, predicted pairs, actual (true) pairs.
    pub fn new(true_positives: u64, predicted: u64, actual: u64) -> Self {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let (precision, recall) = (ratio(true_positives, predicted), ratio(true_positives, actual));
        let f1 = if precision + recall == 0.0 { 0.0 } else { 2.0 * precision * recall / (precision + recall) };
        Scores {
            true_positives,
            false_positives: predicted.saturating_sub(true_positives),
            false_negatives: actual.saturating_sub(true_positives),
            precision,
            recall,
            f1,
        }
    }
}

/// Pairs among `n` records.
pub fn pairs_in(n: u64) -> u64 {
    n * n.saturating_sub(1) / 2
}

/// True pairs among the records: `labels` yields each record's true cluster.
pub fn true_pairs<T: Hash + Eq>(labels: impl Iterator<Item = T>) -> u64 {
    let mut sizes: HashMap<T, u64> = HashMap::new();
    labels.for_each(|t| *sizes.entry(t).or_default() += 1);
    sizes.values().map(|n| pairs_in(*n)).sum()
}

/// Cluster scores: `items` yields (predicted cluster, true cluster) for every evaluated record.
pub fn cluster_scores<P, T>(items: impl Iterator<Item = (P, T)>) -> Scores
where
    P: Hash + Eq + Clone,
    T: Hash + Eq + Clone,
{
    let mut predicted: HashMap<P, u64> = HashMap::new();
    let mut actual: HashMap<T, u64> = HashMap::new();
    let mut joint: HashMap<(P, T), u64> = HashMap::new();
    for (p, t) in items {
        *predicted.entry(p.clone()).or_default() += 1;
        *actual.entry(t.clone()).or_default() += 1;
        *joint.entry((p, t)).or_default() += 1;
    }
    let sum = |counts: &mut dyn Iterator<Item = &u64>| counts.map(|n| pairs_in(*n)).sum::<u64>();
    Scores::new(sum(&mut joint.values()), sum(&mut predicted.values()), sum(&mut actual.values()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_imperfect_clusterings() {
        let perfect = cluster_scores([(1, 'a'), (1, 'a'), (2, 'b')].into_iter());
        assert_eq!((perfect.precision, perfect.recall, perfect.f1), (1.0, 1.0, 1.0));
        // Predicted {0,1,2} {3}; truth {0,1} {2,3}: 3 predicted pairs, 1 true among them, 2 true pairs.
        let s = cluster_scores([(1, 'a'), (1, 'a'), (1, 'b'), (2, 'b')].into_iter());
        assert_eq!((s.true_positives, s.false_positives, s.false_negatives), (1, 2, 1));
        assert!((s.precision - 1.0 / 3.0).abs() < 1e-12 && (s.recall - 0.5).abs() < 1e-12);
        assert_eq!(true_pairs(['a', 'a', 'a', 'b'].into_iter()), 3);
        assert_eq!(Scores::new(0, 0, 0).f1, 0.0);
    }
}
