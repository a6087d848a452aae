//! The Fellegi–Sunter match model: per comparison and level the m-probability (agreement among matches) and
//! u-probability (agreement among random pairs), term frequencies for names, and the prior. Scoring a pair is
//! a sum of log2 Bayes factors; the model serialises to JSON so it can be stored, printed and reused.

use crate::compare::{ComparisonKind, Levels};
use crate::features::Features;
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
    /// Term frequencies for the exact level, when the comparison uses them.
    pub tf: Option<TermFrequencies>,
}

/// How common each value is; an exact agreement on a rare value is stronger evidence than on a common one.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TermFrequencies {
    /// Frequency of values seen at least twice.
    pub values: HashMap<String, f64>,
    /// Frequency assumed for any other value (one in the number of records).
    pub default: f64,
}

impl TermFrequencies {
    /// Counts values; `values` yields each record's value (or "" when missing).
    pub fn count<'a>(values: impl Iterator<Item = &'a str>) -> Self {
        let mut counts: HashMap<&str, u32> = HashMap::new();
        let mut total = 0u32;
        for v in values.filter(|v| !v.is_empty()) {
            *counts.entry(v).or_default() += 1;
            total += 1;
        }
        let total = f64::from(total.max(1));
        TermFrequencies {
            values: counts.into_iter().filter(|(_, c)| *c > 1).map(|(v, c)| (v.to_string(), f64::from(c) / total)).collect(),
            default: 1.0 / total,
        }
    }

    /// Frequency of a value.
    pub fn of(&self, value: &str) -> f64 {
        self.values.get(value).copied().unwrap_or(self.default)
    }
}

/// The trained model.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MatchModel {
    /// Comparisons in scoring order.
    pub comparisons: Vec<ComparisonParams>,
    /// Probability that two random records are the same customer.
    pub prior: f64,
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

    /// log2 of the prior odds.
    pub fn prior_weight(&self) -> f64 {
        (self.prior / (1.0 - self.prior)).log2()
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
                tf.of(va).max(tf.of(vb))
            }
            _ => p.u[l],
        };
        (p.m[l] / u.max(1e-12)).log2()
    }

    /// Sum of the comparison weights (without the prior).
    pub fn weight(&self, levels: &Levels, a: &Features, b: &Features) -> f64 {
        (0..self.comparisons.len()).map(|c| self.level_weight(c, levels[c], a, b)).sum()
    }

    /// Posterior match probability of a pair.
    pub fn probability(&self, levels: &Levels, a: &Features, b: &Features) -> f64 {
        probability_of(self.prior_weight() + self.weight(levels, a, b))
    }

    /// A readable table of the parameters.
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "Fellegi-Sunter model: {} records, {} random pairs for u", self.records, self.u_pairs);
        let _ = writeln!(out, "prior match probability {:.3e} (weight {:+.2})", self.prior, self.prior_weight());
        let _ = writeln!(out, "m estimated by EM for: {}", self.em_estimated.join(", "));
        for p in &self.comparisons {
            let tf = if p.tf.is_some() { "  (term-frequency adjusted when exact)" } else { "" };
            let _ = writeln!(out, "\n{}{}", p.name, tf);
            for (i, label) in p.kind.level_labels().iter().enumerate() {
                let l = i + 1;
                let w = (p.m[l] / p.u[l]).log2();
                let _ = writeln!(out, "  {label:<52} m={:.4}  u={:.6}  weight={w:+.2}", p.m[l], p.u[l]);
            }
        }
        out
    }
}

/// The values term frequencies are looked up for.
fn tf_values<'a>(kind: ComparisonKind, a: &'a Features, b: &'a Features) -> (&'a str, &'a str) {
    match kind {
        ComparisonKind::GivenName => (&a.given_first, &b.given_first),
        ComparisonKind::FamilyName => (&a.family, &b.family),
        _ => ("", ""),
    }
}

/// Converts a log2-odds weight into a probability.
pub fn probability_of(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probability_of_weights() {
        assert!((probability_of(0.0) - 0.5).abs() < 1e-12);
        assert!(probability_of(20.0) > 0.999_99);
        assert!(probability_of(-20.0) < 0.000_01);
    }

    #[test]
    fn term_frequencies() {
        let tf = TermFrequencies::count(["smith", "smith", "jones", ""].into_iter());
        assert!((tf.of("smith") - 2.0 / 3.0).abs() < 1e-12);
        assert!((tf.of("jones") - 1.0 / 3.0).abs() < 1e-12);
    }
}
