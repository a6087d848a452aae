//! The match model: Fellegi–Sunter with a third latent class. Per comparison and level it holds the
//! m-probability (agreement among matches), the u-probability (among unrelated random pairs) and the
//! h-probability (among related pairs: same household or family, different person — whose shared address,
//! phone and family name would otherwise pass for a match). Term frequencies adjust exact name agreement.
//! A pair's evidence is two sums of log2 Bayes factors (vs unrelated, vs related); the model serialises to
//! JSON so it can be stored, printed and reused.

use crate::compare::{ComparisonKind, Levels};
use crate::features::Features;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Parameters of one comparison.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ComparisonParams {
    /// What is compared.
    pub kind: ComparisonKind,
    /// Display name.
    pub name: String,
    /// m-probabilities, index = level (index 0, "missing", is unused).
    pub m: Vec<f64>,
    /// u-probabilities, index = level.
    pub u: Vec<f64>,
    /// h-probabilities (related, different person), index = level.
    pub h: Vec<f64>,
    /// Term frequencies for the exact level, when the comparison uses them.
    pub tf: Option<TermFrequencies>,
}

/// How common each value is; an exact agreement on a rare value is stronger evidence than on a common one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TermFrequencies {
    /// Frequency of values seen at least twice.
    pub values: HashMap<String, f64, foldhash::fast::FixedState>,
    /// Frequency assumed for any other value (one in the number of records).
    pub default: f64,
    /// Sum of squared frequencies over all values: the chance that two random records agree exactly.
    pub sum_squares: f64,
}

impl TermFrequencies {
    /// Counts values; `values` yields each record's value (or "" when missing).
    pub fn count<'a>(values: impl Iterator<Item = &'a str>) -> Self {
        let mut counts: HashMap<&str, u32, foldhash::fast::FixedState> = HashMap::default();
        let mut total = 0u32;
        for v in values.filter(|v| !v.is_empty()) {
            *counts.entry(v).or_default() += 1;
            total += 1;
        }
        let total = f64::from(total.max(1));
        let sum_squares = counts.values().map(|c| (f64::from(*c) / total).powi(2)).sum::<f64>().max(1e-12);
        TermFrequencies {
            values: counts
                .into_iter()
                .filter(|(_, c)| *c > 1)
                .map(|(v, c)| (v.to_string(), f64::from(c) / total))
                .collect(),
            default: 1.0 / total,
            sum_squares,
        }
    }

    /// Frequency of a value.
    pub fn of(&self, value: &str) -> f64 {
        self.values.get(value).copied().unwrap_or(self.default)
    }

    /// The u-probability of exact agreement on `value`: the level's u, shared out over values in proportion to
    /// their frequency, so that it averages to the level's u over random pairs (`u_exact · f / Σf²`).
    pub fn u_of(&self, value: &str, u_exact: f64) -> f64 {
        u_exact * self.of(value) / self.sum_squares
    }
}

/// The trained model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MatchModel {
    /// Comparisons in scoring order.
    pub comparisons: Vec<ComparisonParams>,
    /// Probability that two random records are the same customer.
    pub prior: f64,
    /// Probability that two random records are related (same household or family) but different people.
    pub prior_related: f64,
    /// Identifier names, indexed by `ComparisonKind::Identifier`.
    pub identifier_names: Vec<String>,
    /// Records the model was trained on.
    pub records: u64,
    /// Random pairs the u-probabilities were estimated from.
    pub u_pairs: u64,
    /// Comparisons whose m-probabilities EM estimated (the others kept their starting values).
    pub em_estimated: Vec<String>,
}

/// Smallest probability a parameter may take, so one field can never veto a match on its own.
pub const PROBABILITY_FLOOR: f64 = 1e-3;

impl MatchModel {
    /// The comparison kinds, in order.
    pub fn kinds(&self) -> Vec<ComparisonKind> {
        self.comparisons.iter().map(|c| c.kind).collect()
    }

    /// log2 of the prior odds of a match against an unrelated pair.
    pub fn prior_weight(&self) -> f64 {
        (self.prior / self.prior_unrelated()).log2()
    }

    /// log2 of the prior odds of a match against a related pair.
    pub fn prior_weight_related(&self) -> f64 {
        (self.prior / self.prior_related.max(1e-300)).log2()
    }

    fn prior_unrelated(&self) -> f64 {
        (1.0 - self.prior - self.prior_related).max(1e-12)
    }

    /// The match weight (log2 Bayes factor) of comparison `c` at `level` for this pair.
    pub fn level_weight(&self, c: usize, level: u8, a: &Features, b: &Features) -> f64 {
        let p = &self.comparisons[c];
        let l = usize::from(level);
        if l == 0 || l >= p.m.len() {
            return 0.0;
        }
        let u = match (&p.tf, level) {
            (Some(tf), 1) => {
                let (va, vb) = tf_values(p.kind, a, b);
                tf.u_of(va, p.u[1]).max(tf.u_of(vb, p.u[1]))
            }
            _ => p.u[l],
        };
        (p.m[l] / u.max(1e-12)).log2()
    }

    /// The weight (log2 m/h) of comparison `c` at `level` against the related class.
    pub fn level_weight_related(&self, c: usize, level: u8) -> f64 {
        let p = &self.comparisons[c];
        let l = usize::from(level);
        if l == 0 || l >= p.m.len() {
            return 0.0;
        }
        (p.m[l] / p.h[l].max(1e-12)).log2()
    }

    /// Sums of the comparison weights (without priors): against unrelated pairs, and against related pairs.
    pub fn weights(&self, levels: &Levels, a: &Features, b: &Features) -> (f64, f64) {
        (0..self.comparisons.len()).fold((0.0, 0.0), |(wu, wh), c| {
            (wu + self.level_weight(c, levels[c], a, b), wh + self.level_weight_related(c, levels[c]))
        })
    }

    /// The weights of every level precomputed, for scoring many pairs under one model state.
    pub fn weight_table(&self) -> WeightTable<'_> {
        let tables = self
            .comparisons
            .iter()
            .enumerate()
            .map(|(c, p)| {
                let levels = (0..p.m.len() as u8)
                    .map(|l| {
                        let u =
                            if l == 0 { 0.0 } else { (p.m[usize::from(l)] / p.u[usize::from(l)].max(1e-12)).log2() };
                        (u, self.level_weight_related(c, l))
                    })
                    .collect();
                // With term frequencies, exact agreement on value v weighs log2(m1 / (u1 · f(v) / Σf²)).
                let tf = p.tf.as_ref().map(|tf| (tf, (p.m[1] / p.u[1].max(1e-12)).log2() + tf.sum_squares.log2()));
                LevelTable { levels, tf }
            })
            .collect();
        WeightTable { model: self, tables }
    }

    /// Like [`Self::weights`] without term frequencies: every exact agreement weighs its level's average.
    pub fn level_weights(&self, levels: &Levels) -> (f64, f64) {
        self.comparisons.iter().enumerate().fold((0.0, 0.0), |(wu, wh), (c, p)| {
            let l = usize::from(levels[c]);
            if l == 0 || l >= p.m.len() {
                return (wu, wh);
            }
            (wu + (p.m[l] / p.u[l].max(1e-12)).log2(), wh + self.level_weight_related(c, levels[c]))
        })
    }

    /// Posterior match probability from the two weight sums.
    pub fn probability_from(&self, unrelated: f64, related: f64) -> f64 {
        probability_of(self.log_odds(unrelated, related))
    }

    /// log2 posterior odds of a match against both alternatives together.
    pub fn log_odds(&self, unrelated: f64, related: f64) -> f64 {
        combine(self.prior_weight() + unrelated, self.prior_weight_related() + related)
    }

    /// Posterior match probability of a pair.
    pub fn probability(&self, levels: &Levels, a: &Features, b: &Features) -> f64 {
        let (wu, wh) = self.weights(levels, a, b);
        self.probability_from(wu, wh)
    }

    /// A readable table of the parameters.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Fellegi-Sunter model: {} records, {} random pairs for u", self.records, self.u_pairs);
        let _ = writeln!(out, "prior match probability {:.3e} (weight {:+.2})", self.prior, self.prior_weight());
        let _ = writeln!(
            out,
            "prior related probability {:.3e} (same household or family, different person)",
            self.prior_related
        );
        let _ = writeln!(out, "m estimated by EM for: {}", self.em_estimated.join(", "));
        for p in &self.comparisons {
            let tf = if p.tf.is_some() { "  (term-frequency adjusted when exact)" } else { "" };
            let _ = writeln!(out, "\n{}{}", p.name, tf);
            for (i, label) in p.kind.level_labels().iter().enumerate() {
                let l = i + 1;
                let (w, wh) = ((p.m[l] / p.u[l]).log2(), (p.m[l] / p.h[l]).log2());
                let _ = writeln!(
                    out,
                    "  {label:<52} m={:.4}  u={:.6}  h={:.4}  weight {w:+.2} (vs related {wh:+.2})",
                    p.m[l], p.u[l], p.h[l]
                );
            }
        }
        out
    }
}

/// Precomputed level weights of one model state; [`WeightTable::weights_indexed`] equals [`MatchModel::weights`].
pub struct WeightTable<'a> {
    model: &'a MatchModel,
    tables: Vec<LevelTable<'a>>,
}

/// One comparison's precomputed weights.
struct LevelTable<'a> {
    /// (weight vs unrelated, weight vs related) per level.
    levels: Vec<(f64, f64)>,
    /// Term frequencies, with the constant part of the exact level's adjusted weight.
    tf: Option<(&'a TermFrequencies, f64)>,
}

impl WeightTable<'_> {
    /// For each comparison with term frequencies, every record's log2 frequency (the larger of the two records'
    /// frequencies decides an exact agreement): looked up once per record instead of once per pair.
    pub fn record_frequencies(&self, features: &[Features]) -> Vec<Option<Vec<f32>>> {
        self.tables
            .iter()
            .enumerate()
            .map(|(c, table)| {
                let (tf, _) = table.tf?;
                let kind = self.model.comparisons[c].kind;
                Some(features.par_iter().map(|f| tf.of(tf_values(kind, f, f).0).log2() as f32).collect())
            })
            .collect()
    }

    /// The two weight sums of pair (`a`, `b`) given [`Self::record_frequencies`] of all records.
    pub fn weights_indexed(&self, levels: &Levels, frequencies: &[Option<Vec<f32>>], a: usize, b: usize) -> (f64, f64) {
        let mut sums = (0.0, 0.0);
        for (c, table) in self.tables.iter().enumerate() {
            let level = levels[c];
            let Some(&(mut wu, wh)) = table.levels.get(usize::from(level)) else { continue };
            if let (1, Some((_, constant)), Some(Some(f))) = (level, table.tf, frequencies.get(c)) {
                wu = constant - f64::from(f[a].max(f[b]));
            }
            sums.0 += wu;
            sums.1 += wh;
        }
        sums
    }
}

/// The values term frequencies are looked up for.
fn tf_values<'a>(kind: ComparisonKind, a: &'a Features, b: &'a Features) -> (&'a str, &'a str) {
    match kind {
        ComparisonKind::GivenName => (a.given_first(), b.given_first()),
        ComparisonKind::FamilyName => (a.family(), b.family()),
        _ => ("", ""),
    }
}

/// Converts a log2-odds weight into a probability.
pub fn probability_of(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

/// Combines log2 odds against two alternatives into log2 odds against either: -log2(2^-x + 2^-y).
pub fn combine(x: f64, y: f64) -> f64 {
    let (lo, hi) = if x < y { (x, y) } else { (y, x) };
    lo - (1.0 + (lo - hi).exp2()).log2()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureValues;

    #[test]
    fn probability_of_weights() {
        assert!((probability_of(0.0) - 0.5).abs() < 1e-12);
        assert!(probability_of(20.0) > 0.999_99);
        assert!(probability_of(-20.0) < 0.000_01);
    }

    #[test]
    fn the_weight_table_agrees_with_the_model() {
        use crate::compare::{ComparisonKind, MAX_COMPARISONS};
        let tf = TermFrequencies::count(["henk", "henk", "piet", "jan"].into_iter());
        let params = |kind: ComparisonKind, tf: Option<TermFrequencies>| ComparisonParams {
            kind,
            name: String::new(),
            m: std::iter::once(0.0).chain(kind.default_m().iter().copied()).collect(),
            u: std::iter::once(0.0).chain(kind.default_u().iter().copied()).collect(),
            h: std::iter::once(0.0).chain(kind.default_h().iter().copied()).collect(),
            tf,
        };
        let model = MatchModel {
            comparisons: vec![params(ComparisonKind::GivenName, Some(tf)), params(ComparisonKind::BirthDate, None)],
            prior: 1e-4,
            prior_related: 1e-5,
            identifier_names: vec![],
            records: 4,
            u_pairs: 6,
            em_estimated: vec![],
        };
        let henk = FeatureValues { given: "henk".into(), ..FeatureValues::default() }.pack();
        let table = model.weight_table();
        let records = [henk.clone(), FeatureValues { given: "jan".into(), ..FeatureValues::default() }.pack()];
        let frequencies = table.record_frequencies(&records);
        for (g, d) in [(1, 1), (1, 4), (3, 0), (7, 2), (0, 0)] {
            let mut levels = [0u8; MAX_COMPARISONS];
            levels[0] = g;
            levels[1] = d;
            let x = model.weights(&levels, &henk, &henk);
            let z = table.weights_indexed(&levels, &frequencies, 0, 0);
            assert!((x.0 - z.0).abs() < 1e-5 && (x.1 - z.1).abs() < 1e-9, "{g}/{d}: {x:?} vs {z:?}");
            let (j, jz) =
                (model.weights(&levels, &henk, &records[1]), table.weights_indexed(&levels, &frequencies, 0, 1));
            assert!((j.0 - jz.0).abs() < 1e-5, "{g}/{d}: {j:?} vs {jz:?}");
        }
    }

    #[test]
    fn combining_alternatives() {
        // Strong evidence against both alternatives stays strong; weak evidence against one dominates.
        assert!((combine(30.0, 30.0) - 29.0).abs() < 1e-9);
        assert!((combine(30.0, -5.0) + 5.0).abs() < 1e-6);
        assert!(combine(f64::INFINITY, 3.0) == 3.0);
    }

    #[test]
    fn term_frequencies() {
        let tf = TermFrequencies::count(["smith", "smith", "jones", ""].into_iter());
        assert!((tf.of("smith") - 2.0 / 3.0).abs() < 1e-12);
        assert!((tf.of("jones") - 1.0 / 3.0).abs() < 1e-12);
        assert!((tf.sum_squares - 5.0 / 9.0).abs() < 1e-12);
        // Averaged over random pairs, the value-specific u equals the level's u.
        let average = tf.of("smith") * tf.u_of("smith", 0.1) + tf.of("jones") * tf.u_of("jones", 0.1);
        assert!((average - 0.1).abs() < 1e-12);
    }
}
