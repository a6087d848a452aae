//! Explanations: why two records do or do not match — each comparison's level, the values compared, the
//! weight it added, and the final probability.

use crate::compare::{ComparisonKind, compare_all};
use crate::features::Features;
use crate::match_model::{MatchModel, probability_of};
use serde::Serialize;
use std::fmt;

/// One comparison's contribution.
#[derive(Debug, Clone, Serialize)]
pub struct FieldExplanation {
    /// Comparison name.
    pub comparison: String,
    /// Level reached (0 = missing).
    pub level: u8,
    /// What the level means.
    pub label: String,
    /// log2 Bayes factor added.
    pub weight: f64,
    /// The first record's value, as compared.
    pub a: String,
    /// The second record's value, as compared.
    pub b: String,
}

/// The whole explanation of one pair.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// Per comparison.
    pub fields: Vec<FieldExplanation>,
    /// log2 prior odds.
    pub prior_weight: f64,
    /// Prior plus all comparison weights.
    pub total_weight: f64,
    /// Posterior match probability.
    pub probability: f64,
}

/// Explains the score of a pair under a model.
pub fn explain(model: &MatchModel, a: &Features, b: &Features) -> Explanation {
    let kinds = model.kinds();
    let levels = compare_all(&kinds, a, b);
    let fields: Vec<FieldExplanation> = kinds
        .iter()
        .enumerate()
        .map(|(c, kind)| {
            let level = levels[c];
            let label = match level {
                0 => "missing".to_string(),
                l => kind.level_labels()[usize::from(l) - 1].to_string(),
            };
            FieldExplanation {
                comparison: model.comparisons[c].name.clone(),
                level,
                label,
                weight: model.level_weight(c, level, a, b),
                a: shown(*kind, a),
                b: shown(*kind, b),
            }
        })
        .collect();
    let prior_weight = model.prior_weight();
    let total_weight = prior_weight + fields.iter().map(|f| f.weight).sum::<f64>();
    Explanation { fields, prior_weight, total_weight, probability: probability_of(total_weight) }
}

/// The compared value of a record, for display.
fn shown(kind: ComparisonKind, f: &Features) -> String {
    match kind {
        ComparisonKind::GivenName if f.given.is_empty() => f.initials.to_string(),
        ComparisonKind::GivenName => f.given.to_string(),
        ComparisonKind::FamilyName => f.family.to_string(),
        ComparisonKind::BirthDate if f.birth == 0 => String::new(),
        ComparisonKind::BirthDate => format!("{:04}-{:02}-{:02}", f.birth / 10_000, f.birth / 100 % 100, f.birth % 100),
        ComparisonKind::Address => {
            let parts = [&f.street, &f.house, &f.addition, &f.postcode, &f.city];
            parts.iter().filter(|p| !p.is_empty()).map(|p| p.to_string()).collect::<Vec<_>>().join(" ")
        }
        ComparisonKind::Email => f.emails.join(", "),
        ComparisonKind::Phone => f.phones.join(", "),
        ComparisonKind::Organisation => f.organisation.to_string(),
        ComparisonKind::Identifier(i) => f.identifier(i).to_string(),
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(out, "{:<16} {:<34} {:>8}   values", "comparison", "level", "weight")?;
        for f in &self.fields {
            writeln!(out, "{:<16} {:<34} {:>+8.2}   {:?} vs {:?}", f.comparison, f.label, f.weight, f.a, f.b)?;
        }
        writeln!(out, "{:<16} {:<34} {:>+8.2}", "prior", "", self.prior_weight)?;
        writeln!(out, "{:<16} {:<34} {:>+8.2}", "total", "", self.total_weight)?;
        write!(out, "match probability {:.6}", self.probability)
    }
}
