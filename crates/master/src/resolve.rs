//! Batch resolution: block → train → score → cluster over all records at once, in parallel. Entity ids and
//! golden records are the caller's (they need the store); this returns clusters, scored pairs and the model.

use crate::block::{BlockLimits, PackedPair, RuleReport, pairs_for_rule, union, unpack};
use crate::cluster::{Edge, EdgeOutcome, cluster};
use crate::compare::{ComparisonKind, MAX_COMPARISONS, compare_all};
use crate::features::Features;
use crate::keys::KeyRule;
use crate::match_model::MatchModel;
use crate::train::{TrainSettings, TrainingBlock, sample, train};
use model::MasterConfig;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// The built-in blocking rules, for customer data of any shape; identifier rules are added per identifier.
/// Each must add pairs the others miss: `given_initial + birth_date` was dropped because its blocks grow with the
/// square of the records per birth date (a quarter of all candidates at 1M records) while the two sound rules
/// with the birth date already find its matches (cluster F1 unchanged on FEBRL-3/4 and gen_people, ±0.0005 on
/// generated multi-source data).
pub const DEFAULT_BLOCKING: &[&[&str]] = &[
    &["email"],
    &["phone"],
    &["name_pair"],
    &["postcode", "house_number"],
    &["street", "house_number", "city"],
    &["family_sound", "birth_date"],
    &["given_sound", "birth_date"],
    &["family_sound", "given_initial", "city"],
    &["birth_date", "postcode"],
];

/// A configuration the matcher cannot use.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MasterError {
    /// A blocking or deterministic rule names an unknown key.
    #[error("master: {0}")]
    Rule(String),
    /// More identifiers than the model can compare.
    #[error("master: at most {0} comparisons are supported; the data has more identifier kinds")]
    TooManyComparisons(usize),
}

/// What became of a scored pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Merged into one entity.
    Match,
    /// Uncertain: for a data steward.
    Review,
    /// Above the threshold, but joining would have chained contradicting records; for review.
    Vetoed,
}

/// A pair worth keeping: matched, or to be reviewed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoredPair {
    /// First record index.
    pub a: u32,
    /// Second record index.
    pub b: u32,
    /// Match probability (1 for deterministic rules).
    pub probability: f64,
    /// The deterministic rule that matched the pair, if one did.
    pub rule: Option<String>,
    /// The outcome.
    pub decision: Decision,
}

/// Where the time went and how many pairs each stage handled.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ResolveReport {
    /// Records resolved.
    pub records: u64,
    /// Distinct candidate pairs after blocking.
    pub candidate_pairs: u64,
    /// Per blocking rule.
    pub rules: Vec<RuleReport>,
    /// Pairs merged.
    pub matched_pairs: u64,
    /// Pairs sent to review (including vetoed ones).
    pub review_pairs: u64,
    /// Joins the anti-chaining guard vetoed.
    pub vetoed_pairs: u64,
    /// Seconds per stage, in order.
    pub timings: Vec<(String, f64)>,
}

/// The outcome of a batch resolution.
#[derive(Debug, Clone)]
pub struct Resolution {
    /// The trained model.
    pub model: MatchModel,
    /// Cluster number per record.
    pub cluster_of: Vec<u32>,
    /// Number of clusters.
    pub n_clusters: usize,
    /// Pairs at or above the review threshold, with their decisions.
    pub pairs: Vec<ScoredPair>,
    /// Counts and timings.
    pub report: ResolveReport,
}

/// Decisions stewards pinned, by record index: pairs that must be one entity and pairs that must not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pins {
    /// Must-link: always joined (as a forced edge), unless something pins them apart.
    pub together: Vec<(u32, u32)>,
    /// Cannot-link: never in one entity; wins over every rule.
    pub apart: Vec<(u32, u32)>,
}

/// The rule name lineage shows for a pair a steward pinned together.
pub const PINNED_RULE: &str = "steward pin";

/// Parses the configured (or default) blocking rules, adding one rule per identifier in the data.
pub fn blocking_rules(config: &MasterConfig, identifier_names: &[String]) -> Result<Vec<KeyRule>, MasterError> {
    let mut rules: Vec<KeyRule> = match &config.blocking {
        Some(custom) => custom.iter().map(|r| KeyRule::parse(&r.0)).collect::<Result<_, _>>(),
        None => DEFAULT_BLOCKING
            .iter()
            .map(|r| KeyRule::parse(&r.iter().map(|k| k.to_string()).collect::<Vec<_>>()))
            .collect::<Result<_, _>>(),
    }
    .map_err(MasterError::Rule)?;
    if config.blocking.is_none() {
        for name in identifier_names {
            rules.push(KeyRule::parse(&[format!("identifier:{name}")]).map_err(MasterError::Rule)?);
        }
    }
    Ok(rules)
}

/// The comparisons worth making: those with a value in at least two records.
pub fn comparisons_for(features: &[Features], identifier_names: &[String]) -> Result<Vec<ComparisonKind>, MasterError> {
    use ComparisonKind as C;
    let mut kinds = vec![C::GivenName, C::FamilyName, C::BirthDate, C::Address, C::Email, C::Phone, C::Organisation];
    kinds.extend((0..identifier_names.len()).map(|i| C::Identifier(i as u16)));
    let kinds: Vec<ComparisonKind> =
        kinds.into_iter().filter(|k| features.iter().filter(|f| k.present(f)).take(2).count() == 2).collect();
    if kinds.len() > MAX_COMPARISONS {
        return Err(MasterError::TooManyComparisons(MAX_COMPARISONS));
    }
    Ok(kinds)
}

/// Resolves all records: blocking, training, scoring, clustering, honouring the stewards' `pins`. `progress` is
/// told each stage's name.
pub fn resolve(
    features: &[Features],
    identifier_names: &[String],
    config: &MasterConfig,
    pins: &Pins,
    progress: &(dyn Fn(&str) + Sync),
) -> Result<Resolution, MasterError> {
    let mut report = ResolveReport { records: features.len() as u64, ..ResolveReport::default() };
    let mut clock = Instant::now();
    let mut lap = |report: &mut ResolveReport, stage: &str| {
        report.timings.push((stage.to_string(), clock.elapsed().as_secs_f64()));
        clock = Instant::now();
    };
    let rules = blocking_rules(config, identifier_names)?;
    let deterministic: Vec<(String, KeyRule)> = config
        .rules
        .iter()
        .map(|r| KeyRule::parse(&r.keys).map(|k| (r.name.clone(), k)).map_err(MasterError::Rule))
        .collect::<Result<_, _>>()?;
    let kinds = comparisons_for(features, identifier_names)?;

    let limits = BlockLimits { sub_block_above: config.sub_block_above, max_block: config.max_block_size };
    progress("blocking");
    let per_rule: Vec<(Vec<PackedPair>, RuleReport)> =
        rules.par_iter().map(|r| pairs_for_rule(features, r, identifier_names, config.within_source, limits)).collect();
    let candidates = union(per_rule.iter().map(|(p, _)| p.as_slice()));
    // Training needs only a sample of each rule's pairs; keep that, not all of them, from here on.
    let per_rule: Vec<(Vec<PackedPair>, RuleReport)> =
        per_rule.into_iter().map(|(pairs, report)| (sample(&pairs, config.em_sample_pairs), report)).collect();
    report.candidate_pairs = candidates.len() as u64;
    lap(&mut report, "block");

    progress("training");
    let blocks: Vec<TrainingBlock<'_>> =
        rules.iter().zip(&per_rule).map(|(rule, (pairs, _))| TrainingBlock { rule, pairs }).collect();
    let settings = TrainSettings {
        u_pairs: config.u_sample_pairs,
        em_pairs: config.em_sample_pairs,
        within_source: config.within_source,
        seed: 42,
    };
    let trained = train(features, &kinds, identifier_names, &blocks, &candidates, &settings);
    let model = trained.model;
    drop(blocks);
    report.rules = per_rule.into_iter().map(|(_, r)| r).collect();
    lap(&mut report, "train");

    progress("scoring");
    let mut edges: Vec<Edge> = candidates
        .par_iter()
        .zip(trained.candidate_weights.par_iter())
        .filter_map(|(p, (wu, wh))| {
            let (a, b) = unpack(*p);
            let probability = model.probability_from(f64::from(*wu), f64::from(*wh));
            (probability >= config.review_threshold).then_some(Edge { a, b, probability, forced: false })
        })
        .collect();
    drop(trained.candidate_weights);
    drop(candidates);
    let mut rule_of_edge: Vec<Option<String>> = vec![None; edges.len()];
    for (name, rule) in &deterministic {
        // A rule the user wrote is applied as written: large blocks are capped, not split.
        let limits = BlockLimits { sub_block_above: usize::MAX, max_block: config.max_block_size };
        let (pairs, _) = pairs_for_rule(features, rule, identifier_names, config.within_source, limits);
        for p in pairs {
            let (a, b) = unpack(p);
            edges.push(Edge { a, b, probability: 1.0, forced: true });
            rule_of_edge.push(Some(name.clone()));
        }
    }
    for &(a, b) in &pins.together {
        edges.push(Edge { a, b, probability: 1.0, forced: true });
        rule_of_edge.push(Some(PINNED_RULE.to_string()));
    }
    lap(&mut report, "score");

    progress("clustering");
    let score = |x: u32, y: u32| {
        let (fa, fb) = (&features[x as usize], &features[y as usize]);
        model.probability(&compare_all(&kinds, fa, fb), fa, fb)
    };
    let clustering =
        cluster(features.len(), &edges, config.match_threshold, config.guard_threshold, &pins.apart, score);
    let pairs: Vec<ScoredPair> = edges
        .iter()
        .zip(rule_of_edge)
        .zip(&clustering.outcomes)
        .filter_map(|((e, rule), outcome)| {
            let decision = match outcome {
                EdgeOutcome::Accepted => Decision::Match,
                EdgeOutcome::Below => Decision::Review,
                EdgeOutcome::Vetoed => Decision::Vetoed,
                // A steward already decided this pair: not for review again.
                EdgeOutcome::Apart => return None,
            };
            Some(ScoredPair { a: e.a, b: e.b, probability: e.probability, rule, decision })
        })
        .collect();
    report.matched_pairs = pairs.iter().filter(|p| p.decision == Decision::Match).count() as u64;
    report.vetoed_pairs = pairs.iter().filter(|p| p.decision == Decision::Vetoed).count() as u64;
    report.review_pairs = pairs.len() as u64 - report.matched_pairs;
    lap(&mut report, "cluster");
    Ok(Resolution { model, cluster_of: clustering.cluster_of, n_clusters: clustering.n_clusters, pairs, report })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureValues;
    use model::DeterministicRule;

    fn person(given: &str, family: &str, kvk: &str) -> Features {
        FeatureValues {
            given: given.into(),
            family: family.into(),
            identifiers: vec![(0, kvk.into())],
            ..FeatureValues::default()
        }
        .pack()
    }

    #[test]
    fn deterministic_rules_merge_beside_the_model() {
        let features =
            vec![person("henk", "vries", "111"), person("piet", "bakker", "111"), person("anna", "bos", "222")];
        let names = vec!["kvk".to_string()];
        let quiet = |_: &str| {};
        let mut config = MasterConfig::default();
        let plain = resolve(&features, &names, &config, &Pins::default(), &quiet).expect("resolve");
        assert_eq!(plain.n_clusters, 3, "different names: the model alone keeps them apart");

        config.rules.push(DeterministicRule { name: "same_kvk".into(), keys: vec!["identifier:kvk".into()] });
        let ruled = resolve(&features, &names, &config, &Pins::default(), &quiet).expect("resolve");
        assert_eq!(ruled.n_clusters, 2);
        assert_eq!(ruled.cluster_of[0], ruled.cluster_of[1]);
        let pair = ruled.pairs.iter().find(|p| p.rule.is_some()).expect("rule pair");
        assert_eq!((pair.rule.as_deref(), pair.decision, pair.probability), (Some("same_kvk"), Decision::Match, 1.0));
    }

    /// A household: two people with different given names and birth dates, and a record with only the initial
    /// they share, at their address with their phone ("H. de Vries" between Henk and Hanna).
    fn household(n: usize) -> Vec<Features> {
        // Same initial, clearly different names (each pair compares as "different").
        const PAIRS: [(&str, &str); 10] = [
            ("henk", "hanna"),
            ("bas", "bianca"),
            ("dirk", "daphne"),
            ("mark", "monique"),
            ("tom", "tessa"),
            ("kees", "karin"),
            ("ruud", "rianne"),
            ("sjoerd", "sanne"),
            ("frank", "fleur"),
            ("lars", "lotte"),
        ];
        let (first, second) = PAIRS[n % PAIRS.len()];
        let family = format!("vries{n}");
        let home = |given: &str, birth: u32| {
            FeatureValues {
                given: given.into(),
                initials: first[..1].into(),
                family: family.clone(),
                birth,
                street: "velperbroek".into(),
                house: (40 + n).to_string(),
                postcode: format!("68{:02}ab", n),
                city: "arnhem".into(),
                phones: vec![format!("+312612345{:02}", n)],
                ..FeatureValues::default()
            }
            .pack()
        };
        // Birth dates spread over the calendar, as real ones are.
        let date = |k: u32| (1935 + k * 7 % 60) * 10_000 + (k * 5 % 12 + 1) * 100 + (k * 11 % 28 + 1);
        let n32 = n as u32;
        vec![home(first, date(2 * n32)), home("", 0), home(second, date(2 * n32 + 1))]
    }

    #[test]
    fn one_weak_link_cannot_chain_two_people() {
        // Forty households, and each person also appears once more, as a second record from another source.
        let mut features: Vec<Features> = (0..40).flat_map(household).collect();
        let copies: Vec<Features> = features
            .iter()
            .filter(|f| f.birth != 0)
            .map(|f| {
                let mut copy = f.clone();
                copy.source = 1;
                copy
            })
            .collect();
        features.extend(copies);
        let quiet = |_: &str| {};
        let r = resolve(&features, &[], &MasterConfig::default(), &Pins::default(), &quiet).expect("resolve");
        for h in 0..40 {
            let (henk, hanna) = (h * 3, h * 3 + 2);
            assert_ne!(r.cluster_of[henk], r.cluster_of[hanna], "household {h}: Henk and Hanna chained");
        }
        // Each person's two records are one entity.
        let copy_of = |i: usize| {
            features
                .iter()
                .skip(120)
                .position(|f| {
                    f.given() == features[i].given()
                        && f.family() == features[i].family()
                        && f.birth == features[i].birth
                })
                .map(|p| p + 120)
        };
        for i in [0, 2, 3, 5] {
            assert_eq!(Some(r.cluster_of[i]), copy_of(i).map(|c| r.cluster_of[c]), "record {i} and its copy");
        }
    }

    #[test]
    fn unknown_keys_in_rules_are_errors() {
        let config = MasterConfig {
            blocking: Some(vec![model::BlockingRule(vec!["shoe_size".into()])]),
            ..MasterConfig::default()
        };
        let err = resolve(&[], &[], &config, &Pins::default(), &|_| {}).expect_err("unknown key");
        assert!(err.to_string().contains("unknown match key `shoe_size`"), "{err}");
    }
}
