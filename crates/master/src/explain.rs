//! Explanations: why two records do or do not match — each comparison's level, the values compared, the
//! weight it added, and the final probability.

use crate::compare::{ComparisonKind, compare_all};
use crate::features::Features;
use crate::match_model::{MatchModel, combine, probability_of};
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
    /// log2 Bayes factor against an unrelated pair (m/u).
    pub weight: f64,
    /// log2 Bayes factor against a related pair — same household, different person (m/h).
    pub weight_vs_related: f64,
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
    /// log2 prior odds against an unrelated pair.
    pub prior_weight: f64,
    /// log2 prior odds against a related pair.
    pub prior_weight_related: f64,
    /// Prior plus all comparison weights, against an unrelated pair.
    pub total_weight: f64,
    /// Prior plus all comparison weights, against a related pair.
    pub total_weight_related: f64,
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
                weight_vs_related: model.level_weight_related(c, level),
                a: shown(*kind, a),
                b: shown(*kind, b),
            }
        })
        .collect();
    let (prior_weight, prior_weight_related) = (model.prior_weight(), model.prior_weight_related());
    let total_weight = prior_weight + fields.iter().map(|f| f.weight).sum::<f64>();
    let total_weight_related = prior_weight_related + fields.iter().map(|f| f.weight_vs_related).sum::<f64>();
    let probability = probability_of(combine(total_weight, total_weight_related));
    Explanation { fields, prior_weight, prior_weight_related, total_weight, total_weight_related, probability }
}

/// The compared value of a record, for display.
fn shown(kind: ComparisonKind, f: &Features) -> String {
    match kind {
        ComparisonKind::GivenName if f.given().is_empty() => f.initials().to_string(),
        ComparisonKind::GivenName => f.given().to_string(),
        ComparisonKind::FamilyName => f.family().to_string(),
        ComparisonKind::BirthDate if f.birth == 0 => String::new(),
        ComparisonKind::BirthDate => format!("{:04}-{:02}-{:02}", f.birth / 10_000, f.birth / 100 % 100, f.birth % 100),
        ComparisonKind::Address => {
            let parts = [f.street(), f.house(), f.addition(), f.postcode(), f.city()];
            parts.iter().filter(|p| !p.is_empty()).map(|p| p.to_string()).collect::<Vec<_>>().join(" ")
        }
        ComparisonKind::Email => f.emails().collect::<Vec<_>>().join(", "),
        ComparisonKind::Phone => f.phones().collect::<Vec<_>>().join(", "),
        ComparisonKind::Organisation => f.organisation().to_string(),
        ComparisonKind::Identifier(i) => f.identifier(i).to_string(),
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(out, "weights are log2 Bayes factors for \"same person\" against an unrelated record, and against a")?;
        writeln!(out, "related one (same household or family, different person); both must be high for a match.")?;
        writeln!(out, "{:<24} {:<52} {:>10} {:>11}   values", "comparison", "level", "unrelated", "related")?;
        for f in &self.fields {
            writeln!(
                out,
                "{:<24} {:<52} {:>+10.2} {:>+11.2}   {:?} vs {:?}",
                f.comparison, f.label, f.weight, f.weight_vs_related, f.a, f.b
            )?;
        }
        writeln!(out, "{:<24} {:<52} {:>+10.2} {:>+11.2}", "prior", "", self.prior_weight, self.prior_weight_related)?;
        writeln!(out, "{:<24} {:<52} {:>+10.2} {:>+11.2}", "total", "", self.total_weight, self.total_weight_related)?;
        write!(out, "match probability {:.6}", self.probability)
    }
}
