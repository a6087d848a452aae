//! Unsupervised training: u-probabilities from random record pairs, m-probabilities by expectation
//! maximisation on the pairs each blocking rule finds (with that rule's own comparisons held out, because
//! blocking made them agree), and the prior from the candidate pairs. No labels needed.

use crate::block::{PackedPair, unpack};
use crate::compare::{ComparisonKind, Levels, compare_all};
use crate::features::Features;
use crate::keys::KeyRule;
use crate::match_model::{ComparisonParams, MatchModel, PROBABILITY_FLOOR, TermFrequencies, probability_of};
use rayon::prelude::*;

/// Training knobs.
#[derive(Debug, Clone)]
pub struct TrainSettings {
    /// Random pairs for u.
    pub u_pairs: usize,
    /// Candidate pairs per rule for EM.
    pub em_pairs: usize,
    /// Compare records of the same source.
    pub within_source: bool,
    /// Seed of the pair sampler (training is deterministic for a given seed).
    pub seed: u64,
}

/// The pairs a training rule contributes: its blocked pairs and the comparisons it must not learn from.
pub struct TrainingBlock<'a> {
    /// The rule.
    pub rule: &'a KeyRule,
    /// Pairs it blocked.
    pub pairs: Vec<PackedPair>,
}

/// Trains a model.
pub fn train(
    features: &[Features],
    kinds: &[ComparisonKind],
    identifier_names: &[String],
    blocks: &[TrainingBlock<'_>],
    candidates: &[PackedPair],
    settings: &TrainSettings,
) -> MatchModel {
    let random = random_pairs(features, settings);
    let random_levels = levels_of(features, kinds, &random);
    let mut model = MatchModel {
        comparisons: kinds
            .iter()
            .map(|k| ComparisonParams {
                kind: *k,
                name: k.name(identifier_names),
                m: default_m(*k),
                u: estimate_u(&random_levels, kinds, *k, None),
                tf: tf_for(*k, features),
            })
            .collect(),
        prior: 1e-4,
        identifier_names: identifier_names.to_vec(),
        records: features.len() as u64,
        u_pairs: random.len() as u64,
        em_estimated: Vec::new(),
    };
    let block_levels: Vec<(Vec<bool>, Vec<Levels>)> = blocks
        .iter()
        .map(|b| {
            let excluded_kinds: Vec<ComparisonKind> =
                b.rule.keys.iter().flat_map(|k| k.comparisons(identifier_names)).collect();
            let excluded = kinds.iter().map(|k| excluded_kinds.contains(k)).collect();
            let sample = sample(&b.pairs, settings.em_pairs);
            (excluded, levels_of(features, kinds, &sample))
        })
        .collect();
    let observed = observed_levels(&random_levels, &block_levels, kinds);
    // Two rounds: the second re-estimates u without the true matches hiding among the random pairs.
    for round in 0..2 {
        estimate_m(&mut model, &block_levels);
        model.prior = estimate_prior(&model, features, candidates, settings.within_source);
        if round == 0 {
            let weights: Vec<f64> = random_levels
                .par_iter()
                .zip(random.par_iter())
                .map(|(levels, p)| {
                    let (a, b) = unpack(*p);
                    1.0 - model.probability(levels, &features[a as usize], &features[b as usize])
                })
                .collect();
            for (i, k) in kinds.iter().enumerate() {
                model.comparisons[i].u = estimate_u(&random_levels, kinds, *k, Some(&weights));
            }
        }
        neutralise_unobserved(&mut model, &observed);
    }
    model
}

/// Which levels occur at all, in the random pairs or the training pairs.
fn observed_levels(random: &[Levels], blocks: &[(Vec<bool>, Vec<Levels>)], kinds: &[ComparisonKind]) -> Vec<Vec<bool>> {
    let mut seen: Vec<Vec<bool>> = kinds.iter().map(|k| vec![false; k.n_levels()]).collect();
    for levels in random.iter().chain(blocks.iter().flat_map(|(_, l)| l.iter())) {
        for (c, row) in seen.iter_mut().enumerate() {
            row[usize::from(levels[c])] = true;
        }
    }
    seen
}

/// A level the data never shows carries no evidence: its weight is set to zero instead of whatever the
/// probability floors would imply (e.g. "initials compatible" in data without initials).
fn neutralise_unobserved(model: &mut MatchModel, observed: &[Vec<bool>]) {
    for (p, seen) in model.comparisons.iter_mut().zip(observed) {
        for l in 1..p.m.len() {
            if !seen[l] {
                p.u[l] = p.m[l];
            }
        }
    }
}

/// Pseudo-counts of the parameter priors: how many random pairs the default u is worth, and how many matched
/// pairs the default m is worth. Large data sets swamp them; tiny ones fall back on them.
const U_PRIOR_PAIRS: f64 = 100.0;
const M_PRIOR_PAIRS: f64 = 20.0;

/// The default m of a comparison, indexed by level (index 0 unused).
fn default_m(kind: ComparisonKind) -> Vec<f64> {
    std::iter::once(0.0).chain(kind.default_m().iter().copied()).collect()
}

fn tf_for(kind: ComparisonKind, features: &[Features]) -> Option<TermFrequencies> {
    match kind {
        ComparisonKind::GivenName => Some(TermFrequencies::count(features.iter().map(|f| &*f.given_first))),
        ComparisonKind::FamilyName => Some(TermFrequencies::count(features.iter().map(|f| &*f.family))),
        _ => None,
    }
}

/// Uniform random pairs (all pairs when there are fewer than asked for).
fn random_pairs(features: &[Features], settings: &TrainSettings) -> Vec<PackedPair> {
    let n = features.len() as u64;
    let allowed = |a: u64, b: u64| settings.within_source || features[a as usize].source != features[b as usize].source;
    let total = n * n.saturating_sub(1) / 2;
    if total <= settings.u_pairs as u64 {
        return (0..n)
            .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
            .filter(|(a, b)| allowed(*a, *b))
            .map(|(a, b)| crate::block::pack(a as u32, b as u32))
            .collect();
    }
    let chunks = 64u64;
    let per_chunk = settings.u_pairs as u64 / chunks + 1;
    (0..chunks)
        .into_par_iter()
        .flat_map_iter(|c| {
            let mut rng = SplitMix(settings.seed ^ (c + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut out = Vec::with_capacity(per_chunk as usize);
            let mut tries = 0;
            while (out.len() as u64) < per_chunk && tries < per_chunk * 20 {
                tries += 1;
                let (a, b) = (rng.below(n), rng.below(n));
                if a != b && allowed(a, b) {
                    out.push(crate::block::pack(a as u32, b as u32));
                }
            }
            out
        })
        .collect()
}

/// Every `len / max`-th pair, so the sample spreads over all blocks.
fn sample(pairs: &[PackedPair], max: usize) -> Vec<PackedPair> {
    if pairs.len() <= max {
        return pairs.to_vec();
    }
    let step = pairs.len() as f64 / max as f64;
    (0..max).map(|i| pairs[(i as f64 * step) as usize]).collect()
}

fn levels_of(features: &[Features], kinds: &[ComparisonKind], pairs: &[PackedPair]) -> Vec<Levels> {
    pairs
        .par_iter()
        .map(|p| {
            let (a, b) = unpack(*p);
            compare_all(kinds, &features[a as usize], &features[b as usize])
        })
        .collect()
}

/// u per level: the (optionally weighted) share of non-missing random pairs at each level, shrunk towards the
/// default u by its pseudo-count.
fn estimate_u(levels: &[Levels], kinds: &[ComparisonKind], kind: ComparisonKind, weights: Option<&[f64]>) -> Vec<f64> {
    let c = kinds.iter().position(|k| *k == kind).unwrap_or(0);
    let n = kind.n_levels();
    let mut counts = vec![0.0; n];
    for (i, l) in levels.iter().enumerate() {
        counts[usize::from(l[c])] += weights.map_or(1.0, |w| w[i]);
    }
    let present: f64 = counts[1..].iter().sum();
    let prior = kind.default_u();
    let mut u = vec![0.0; n];
    for l in 1..n {
        u[l] = ((counts[l] + U_PRIOR_PAIRS * prior[l - 1]) / (present + U_PRIOR_PAIRS)).max(1e-9);
    }
    u
}

/// EM per training block; each comparison's m is the mean over the blocks that could estimate it.
fn estimate_m(model: &mut MatchModel, blocks: &[(Vec<bool>, Vec<Levels>)]) {
    let n_comp = model.comparisons.len();
    let mut sums: Vec<Vec<f64>> = model.comparisons.iter().map(|p| vec![0.0; p.m.len()]).collect();
    let mut counts = vec![0usize; n_comp];
    for (excluded, levels) in blocks {
        if levels.len() < 10 {
            continue;
        }
        let mut m: Vec<Vec<f64>> = model.comparisons.iter().map(|p| default_m(p.kind)).collect();
        let u: Vec<Vec<f64>> = model.comparisons.iter().map(|p| p.u.clone()).collect();
        let priors: Vec<Vec<f64>> = model.comparisons.iter().map(|p| default_m(p.kind)).collect();
        let learned = em(levels, excluded, &mut m, &u, &priors);
        for c in 0..n_comp {
            if learned[c] {
                counts[c] += 1;
                sums[c].iter_mut().zip(&m[c]).for_each(|(s, v)| *s += v);
            }
        }
    }
    model.em_estimated.clear();
    for c in 0..n_comp {
        if counts[c] > 0 {
            let p = &mut model.comparisons[c];
            p.m = sums[c].iter().map(|s| s / counts[c] as f64).collect();
            model.em_estimated.push(p.name.clone());
        }
    }
}

/// Expectation maximisation of m and the match share with u fixed; m is shrunk towards `priors` by their
/// pseudo-count. Returns which comparisons were learned.
fn em(levels: &[Levels], excluded: &[bool], m: &mut [Vec<f64>], u: &[Vec<f64>], priors: &[Vec<f64>]) -> Vec<bool> {
    let n_comp = m.len();
    let mut lambda = 0.3f64;
    let mut seen = vec![false; n_comp];
    for _ in 0..60 {
        let weights: Vec<Vec<f64>> = (0..n_comp)
            .map(|c| (0..m[c].len()).map(|l| if l == 0 { 0.0 } else { (m[c][l] / u[c][l]).log2() }).collect())
            .collect();
        let prior = (lambda / (1.0 - lambda)).log2();
        let (num, total, p_sum) = levels
            .par_iter()
            .fold(
                || (m.iter().map(|x| vec![0.0; x.len()]).collect::<Vec<_>>(), vec![0.0; n_comp], 0.0),
                |(mut num, mut total, mut p_sum), l| {
                    let w: f64 = (0..n_comp).filter(|c| !excluded[*c]).map(|c| weights[c][usize::from(l[c])]).sum();
                    let p = probability_of(prior + w);
                    p_sum += p;
                    for c in 0..n_comp {
                        let level = usize::from(l[c]);
                        if level != 0 {
                            num[c][level] += p;
                            total[c] += p;
                        }
                    }
                    (num, total, p_sum)
                },
            )
            .reduce(
                || (m.iter().map(|x| vec![0.0; x.len()]).collect::<Vec<_>>(), vec![0.0; n_comp], 0.0),
                |(mut na, mut ta, pa), (nb, tb, pb)| {
                    for c in 0..n_comp {
                        na[c].iter_mut().zip(&nb[c]).for_each(|(x, y)| *x += y);
                        ta[c] += tb[c];
                    }
                    (na, ta, pa + pb)
                },
            );
        let mut change = 0.0f64;
        for c in 0..n_comp {
            if excluded[c] || total[c] < 1.0 {
                continue;
            }
            seen[c] = true;
            for l in 1..m[c].len() {
                let new = ((num[c][l] + M_PRIOR_PAIRS * priors[c][l]) / (total[c] + M_PRIOR_PAIRS)).max(PROBABILITY_FLOOR);
                change = change.max((new - m[c][l]).abs());
                m[c][l] = new;
            }
            let s: f64 = m[c][1..].iter().sum();
            m[c][1..].iter_mut().for_each(|v| *v /= s);
        }
        lambda = (p_sum / levels.len() as f64).clamp(1e-6, 1.0 - 1e-6);
        if change < 1e-5 {
            break;
        }
    }
    seen
}

/// The prior for a random pair: the share of matches among the candidates (fixed point of the posterior
/// mean), spread over all possible pairs.
fn estimate_prior(model: &MatchModel, features: &[Features], candidates: &[PackedPair], within_source: bool) -> f64 {
    let n = features.len() as f64;
    let total_pairs = if within_source {
        n * (n - 1.0) / 2.0
    } else {
        let mut per_source = std::collections::HashMap::<u32, f64>::new();
        features.iter().for_each(|f| *per_source.entry(f.source).or_default() += 1.0);
        let same: f64 = per_source.values().map(|c| c * (c - 1.0) / 2.0).sum();
        n * (n - 1.0) / 2.0 - same
    };
    if candidates.is_empty() || total_pairs < 1.0 {
        return 1e-6;
    }
    let kinds = model.kinds();
    let weights: Vec<f64> = candidates
        .par_iter()
        .map(|p| {
            let (a, b) = unpack(*p);
            let (fa, fb) = (&features[a as usize], &features[b as usize]);
            model.weight(&compare_all(&kinds, fa, fb), fa, fb)
        })
        .collect();
    let mut lambda = 0.1f64;
    for _ in 0..30 {
        let prior = (lambda / (1.0 - lambda)).log2();
        let mean = weights.par_iter().map(|w| probability_of(prior + w)).sum::<f64>() / weights.len() as f64;
        lambda = mean.clamp(1e-9, 1.0 - 1e-9);
    }
    (lambda * candidates.len() as f64 / total_pairs).clamp(1e-12, 0.5)
}

/// A small, fast, seedable generator (SplitMix64), enough for sampling pairs.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(n)) >> 64) as u64
    }
}
