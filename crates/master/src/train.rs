//! Unsupervised training: u-probabilities from random record pairs; m- (match) and h- (related, different
//! person) probabilities by expectation maximisation of a three-class mixture on the pairs each blocking rule
//! finds (with that rule's own comparisons held out, because blocking made them agree); the priors from the
//! candidate pairs. No labels needed; parameter priors keep small data sets sensible.

use crate::block::{PackedPair, block_pairs, blocks_of, keyed_records, unpack};
use crate::compare::{ComparisonKind, Levels, compare_all};
use crate::features::Features;
use crate::keys::KeyRule;
use crate::match_model::{ComparisonParams, MatchModel, PROBABILITY_FLOOR, TermFrequencies};
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
    /// Pairs it blocked (or an even sample of them).
    pub pairs: &'a [PackedPair],
}

/// A trained model, and the evidence of every candidate pair under it (log2 weights against unrelated and
/// against related pairs, in candidate order), which scoring reuses instead of comparing the pairs again.
pub struct Trained {
    /// The model.
    pub model: MatchModel,
    /// (weight vs unrelated, weight vs related) per candidate pair.
    pub candidate_weights: Vec<(f32, f32)>,
}

/// Trains a model.
pub fn train(
    features: &[Features],
    kinds: &[ComparisonKind],
    identifier_names: &[String],
    blocks: &[TrainingBlock<'_>],
    candidates: &[PackedPair],
    settings: &TrainSettings,
) -> Trained {
    let random = random_pairs(features, settings);
    let random_levels = PackedLevels::compare(features, kinds, &random).patterns();
    let mut model = MatchModel {
        comparisons: kinds
            .iter()
            .map(|k| ComparisonParams {
                kind: *k,
                name: k.name(identifier_names),
                m: default_m(*k),
                u: estimate_u(&random_levels, kinds, *k, None),
                h: default_h(*k),
                tf: tf_for(*k, features),
            })
            .collect(),
        prior: 1e-4,
        prior_related: 1e-5,
        identifier_names: identifier_names.to_vec(),
        records: features.len() as u64,
        u_pairs: random.len() as u64,
        em_estimated: Vec::new(),
    };
    relate_identity_to_u(&mut model);
    let candidate_levels = PackedLevels::compare(features, kinds, candidates);
    let block_levels: Vec<(Vec<bool>, Patterns)> = blocks
        .iter()
        .map(|b| {
            let excluded_kinds: Vec<ComparisonKind> =
                b.rule.keys.iter().flat_map(|k| k.comparisons(identifier_names)).collect();
            let excluded = kinds.iter().map(|k| excluded_kinds.contains(k)).collect();
            let sample = sample(b.pairs, settings.em_pairs);
            (excluded, patterns(candidate_levels.lookup(features, kinds, candidates, &sample)))
        })
        .collect();
    let observed = observed_levels(&random_levels, &block_levels, kinds);
    // Two rounds: the second re-estimates u without the true matches hiding among the random pairs.
    for round in 0..2 {
        estimate_m(&mut model, &block_levels);
        // The shares of matches and related pairs among the candidates, from an even sample of them.
        let step = candidates.len().div_ceil(PRIOR_SAMPLE).max(1);
        let weights = weights_of(&model, features, candidates, &candidate_levels, step);
        (model.prior, model.prior_related) =
            estimate_priors(features, &weights, candidates.len(), settings.within_source);
        if round == 0 {
            // Term frequencies are left out here: a pattern stands for many pairs with different values.
            let weights: Vec<f64> = random_levels
                .iter()
                .map(|(levels, _)| {
                    let (wu, wh) = model.level_weights(levels);
                    1.0 - model.probability_from(wu, wh)
                })
                .collect();
            for (i, k) in kinds.iter().enumerate() {
                model.comparisons[i].u = estimate_u(&random_levels, kinds, *k, Some(&weights));
            }
            exact_birth_date_u(&mut model, features, settings.within_source);
            relate_identity_to_u(&mut model);
            let namesakes = PackedLevels::compare(features, kinds, &namesake_pairs(features, settings)).patterns();
            estimate_u_among_namesakes(&mut model, &namesakes);
        }
        neutralise_unobserved(&mut model, &observed);
    }
    // The last round changed m, h and u once more (unobserved levels): weigh the candidates under the final model.
    let candidate_weights = weights_of(&model, features, candidates, &candidate_levels, 1);
    Trained { model, candidate_weights }
}

/// Email levels whose user name is made of the person's name, and so agree for namesakes far more often than for
/// random pairs.
const NAME_MADE_EMAIL_LEVELS: [usize; 2] = [2, 4];

/// Candidate pairs weighed to estimate the priors while training (an even sample of them when there are more):
/// the shares of matches and related pairs among half a million are within a few tenths of a percent of the
/// shares among all, and the priors are re-estimated twice.
const PRIOR_SAMPLE: usize = 500_000;

/// Match probability below which the rest of the evidence shows a namesake pair to be two people.
const DIFFERENT_PEOPLE: f64 = 0.01;

/// u of the email levels made of the name is conditional on the names agreeing (they are only reached when the
/// user names spell the same name): the share of those levels among namesake pairs that the rest of the
/// evidence (without email) shows to be different people. Random pairs would make such an agreement look as
/// rare as a distinctive address, and count the name twice. Pairs with too little other evidence are left
/// out rather than weighed: they hold the matches that only email could confirm.
fn estimate_u_among_namesakes(model: &mut MatchModel, namesakes: &Patterns) {
    let Some(c) = model.comparisons.iter().position(|p| p.kind == ComparisonKind::Email) else {
        return;
    };
    let mut counts = vec![0.0; model.comparisons[c].u.len()];
    for (levels, n) in namesakes {
        let level = usize::from(levels[c]);
        if level == 0 {
            continue;
        }
        let mut others = *levels;
        others[c] = 0;
        let (wu, wh) = model.level_weights(&others);
        if model.probability_from(wu, wh) < DIFFERENT_PEOPLE {
            counts[level] += n;
        }
    }
    let present: f64 = counts[1..].iter().sum();
    if present < U_PRIOR_PAIRS {
        return;
    }
    let p = &mut model.comparisons[c];
    for l in NAME_MADE_EMAIL_LEVELS {
        if l < p.u.len() {
            p.u[l] = p.u[l].max((counts[l] + 1.0) / (present + 1.0));
        }
    }
}

/// u of an exact birth date from how often birth dates repeat, not from the random pairs. Different people share
/// a birth date about once in 30,000 pairs: among 300k random pairs, fewer still with both dates, that is a
/// handful, and after the likely matches among them are weighed out, u of the level could come out anywhere from
/// the true share to a thousandth of it (depending only on which pairs were drawn), and with it the weight of an
/// exact date. Counting every pair of records that agree (Σ c(c−1)/2 over the dates' counts) and taking off the
/// matches the model expects among them (prior × pairs × m) leaves the share among the others without sampling.
fn exact_birth_date_u(model: &mut MatchModel, features: &[Features], within_source: bool) {
    let Some(c) = model.comparisons.iter().position(|p| p.kind == ComparisonKind::BirthDate) else {
        return;
    };
    let (agreeing, pairs) =
        exact_agreements(features.iter().map(|f| (f.birth, f.source)).filter(|(b, _)| *b != 0), within_source);
    let p = &mut model.comparisons[c];
    if pairs < 1.0 || p.u.len() < 2 || p.m.len() < 2 {
        return;
    }
    let matching = model.prior * pairs * p.m[1];
    let others = pairs * (1.0 - model.prior - model.prior_related).max(1e-12);
    let exact = ((agreeing - matching).max(0.0) / others).clamp(1e-9, 0.5);
    // The other levels keep their shares of what is left.
    let rest: f64 = p.u[2..].iter().sum();
    if rest > 0.0 {
        let scale = (1.0 - exact) / rest;
        p.u[2..].iter_mut().for_each(|u| *u = (*u * scale).max(1e-9));
    }
    p.u[1] = exact;
}

/// Pairs of records that agree on a value, and all pairs, among `(value, source)` items; pairs within one source
/// are left out unless `within_source`.
fn exact_agreements(items: impl Iterator<Item = (u32, u32)>, within_source: bool) -> (f64, f64) {
    let mut items: Vec<(u32, u32)> = items.collect();
    items.par_sort_unstable();
    let pairs_of = |n: f64| n * (n - 1.0) / 2.0;
    // Pairs among each run of one value, or of one value from one source.
    let agreeing_within = |same_source: bool| -> f64 {
        let runs = items.chunk_by(|x, y| x.0 == y.0 && (!same_source || x.1 == y.1));
        runs.map(|run| pairs_of(run.len() as f64)).sum()
    };
    let agreeing = agreeing_within(false);
    let all = pairs_of(items.len() as f64);
    if within_source {
        return (agreeing, all);
    }
    let mut by_source = items.iter().map(|(_, s)| *s).collect::<Vec<_>>();
    by_source.par_sort_unstable();
    let same_source: f64 = by_source.chunk_by(|x, y| x == y).map(|run| pairs_of(run.len() as f64)).sum();
    (agreeing - agreeing_within(true), all - same_source)
}

/// Pairs of records with the same first given name and family name (up to a fifth of `u_pairs`, spread evenly
/// over the names): what different people who share a name look like. They estimate two levels only.
fn namesake_pairs(features: &[Features], settings: &TrainSettings) -> Vec<PackedPair> {
    let wanted = (settings.u_pairs / 5).max(1);
    let Ok(rule) = KeyRule::parse(&["given_name".into(), "family_name".into()]) else {
        return Vec::new();
    };
    let keyed = keyed_records(features, &rule, &[]);
    let total: usize = blocks_of(&keyed).map(|g| g.len() * (g.len() - 1) / 2).sum();
    let step = (total / wanted).max(1);
    blocks_of(&keyed).flat_map(|g| block_pairs(g, features, settings.within_source)).step_by(step).collect()
}

/// h of identity comparisons is not learned: a related person is a different person, so compared on who they
/// are, they look like a random person with a fixed lift of the odds per level (`default_h / default_u`: more often the same
/// initial, a birth date a few digits off). Deriving h from this data's u carries its particulars (how often
/// given names are initials only, the spread of birth dates) into the related class as well.
fn relate_identity_to_u(model: &mut MatchModel) {
    for p in model.comparisons.iter_mut().filter(|p| p.kind.is_identity()) {
        let (dh, du) = (p.kind.default_h(), p.kind.default_u());
        // The lift applies to the odds, so a common level (u near 1) cannot be lifted past certainty.
        let lifted = |l: usize, u: f64| {
            let odds = dh[l - 1] / du[l - 1] * u / (1.0 - u).max(1e-12);
            odds / (1.0 + odds)
        };
        let mut h: Vec<f64> = p.u.iter().enumerate().map(|(l, u)| if l == 0 { 0.0 } else { lifted(l, *u) }).collect();
        let total: f64 = h.iter().sum();
        h.iter_mut().for_each(|v| *v /= total);
        p.h = h;
    }
}

/// Most of the matches whose identity fields may disagree outright: given names through nicknames and typos,
/// birth dates and identifiers rarely.
fn max_disagreement(kind: ComparisonKind) -> f64 {
    match kind {
        ComparisonKind::GivenName => 0.25,
        _ => 0.1,
    }
}

/// Constrained EM (after Winkler): the match class is the same person, whose identity fields disagree only by
/// error. Capping m of the "different" level keeps EM from taking a more numerous class of related pairs
/// (a household: same address and phone, other given name and birth date) for the matches.
fn cap_disagreement(m: &mut [f64], cap: f64) {
    let last = m.len() - 1;
    if m[last] <= cap {
        return;
    }
    let rest: f64 = m[1..last].iter().sum();
    let scale = (1.0 - cap) / rest.max(1e-12);
    m[1..last].iter_mut().for_each(|v| *v *= scale);
    m[last] = cap;
}

/// Which levels occur at all, in the random pairs or the training pairs.
fn observed_levels(random: &Patterns, blocks: &[(Vec<bool>, Patterns)], kinds: &[ComparisonKind]) -> Vec<Vec<bool>> {
    let mut seen: Vec<Vec<bool>> = kinds.iter().map(|k| vec![false; k.n_levels()]).collect();
    for (levels, _) in random.iter().chain(blocks.iter().flat_map(|(_, l)| l.iter())) {
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
        for ((u, m), seen) in p.u.iter_mut().zip(&p.m).zip(seen).skip(1) {
            if !seen {
                *u = *m;
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

/// The default h of a comparison, indexed by level (index 0 unused).
fn default_h(kind: ComparisonKind) -> Vec<f64> {
    std::iter::once(0.0).chain(kind.default_h().iter().copied()).collect()
}

fn tf_for(kind: ComparisonKind, features: &[Features]) -> Option<TermFrequencies> {
    match kind {
        ComparisonKind::GivenName => Some(TermFrequencies::count(features.iter().map(|f| f.given_first()))),
        ComparisonKind::FamilyName => Some(TermFrequencies::count(features.iter().map(|f| f.family()))),
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
    let mut pairs: Vec<PackedPair> = (0..chunks)
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
        .collect();
    // In record order, so comparing them reads one side of each pair sequentially (the sample is the same).
    pairs.par_sort_unstable();
    pairs
}

/// Every `len / max`-th pair, so the sample spreads over all blocks.
pub fn sample(pairs: &[PackedPair], max: usize) -> Vec<PackedPair> {
    if pairs.len() <= max {
        return pairs.to_vec();
    }
    let step = pairs.len() as f64 / max as f64;
    (0..max).map(|i| pairs[(i as f64 * step) as usize]).collect()
}

/// The level vectors of many pairs, each stored in as many bytes as the model has comparisons (not 16).
struct PackedLevels {
    width: usize,
    bytes: Vec<u8>,
}

impl PackedLevels {
    /// Compares every pair.
    fn compare(features: &[Features], kinds: &[ComparisonKind], pairs: &[PackedPair]) -> Self {
        let width = kinds.len().max(1);
        let mut bytes = vec![0u8; pairs.len() * width];
        bytes.par_chunks_mut(width).zip(pairs.par_iter()).for_each(|(out, p)| {
            let (a, b) = unpack(*p);
            out.copy_from_slice(&compare_all(kinds, &features[a as usize], &features[b as usize])[..width]);
        });
        PackedLevels { width, bytes }
    }

    /// The levels of `pairs`, taken from the compared `candidates` (sorted) where they are among them, and
    /// compared afresh where not.
    fn lookup(
        &self,
        features: &[Features],
        kinds: &[ComparisonKind],
        candidates: &[PackedPair],
        pairs: &[PackedPair],
    ) -> Vec<Levels> {
        pairs
            .par_iter()
            .map(|p| match candidates.binary_search(p) {
                Ok(i) => self.get(i),
                Err(_) => {
                    let (a, b) = unpack(*p);
                    compare_all(kinds, &features[a as usize], &features[b as usize])
                }
            })
            .collect()
    }

    /// The distinct level vectors of all compared pairs, with counts.
    fn patterns(&self) -> Patterns {
        patterns((0..self.bytes.len() / self.width).map(|i| self.get(i)))
    }

    /// The levels of pair `i`.
    fn get(&self, i: usize) -> Levels {
        let mut levels = [0u8; crate::compare::MAX_COMPARISONS];
        levels[..self.width].copy_from_slice(&self.bytes[i * self.width..(i + 1) * self.width]);
        levels
    }
}

/// Distinct level vectors with how many pairs show each: EM and u need only these, and there are few.
type Patterns = Vec<(Levels, f64)>;

fn patterns(levels: impl IntoIterator<Item = Levels>) -> Patterns {
    let mut counts: std::collections::HashMap<Levels, f64, foldhash::fast::FixedState> = Default::default();
    for l in levels {
        *counts.entry(l).or_default() += 1.0;
    }
    let mut out: Patterns = counts.into_iter().collect();
    out.sort_by_key(|p| p.0);
    out
}

/// u per level: the (optionally weighted) share of non-missing random pairs at each level, shrunk towards the
/// default u by its pseudo-count.
fn estimate_u(levels: &Patterns, kinds: &[ComparisonKind], kind: ComparisonKind, weights: Option<&[f64]>) -> Vec<f64> {
    let c = kinds.iter().position(|k| *k == kind).unwrap_or(0);
    let n = kind.n_levels();
    let mut counts = vec![0.0; n];
    for (i, (l, count)) in levels.iter().enumerate() {
        counts[usize::from(l[c])] += count * weights.map_or(1.0, |w| w[i]);
    }
    let present: f64 = counts[1..].iter().sum();
    let prior = kind.default_u();
    let mut u = vec![0.0; n];
    for l in 1..n {
        u[l] = ((counts[l] + U_PRIOR_PAIRS * prior[l - 1]) / (present + U_PRIOR_PAIRS)).max(1e-9);
    }
    u
}

/// EM per training block; each comparison's m (and h) is the mean over the blocks that could estimate it.
fn estimate_m(model: &mut MatchModel, blocks: &[(Vec<bool>, Patterns)]) {
    let n_comp = model.comparisons.len();
    let zeros = |p: &crate::match_model::ComparisonParams| vec![0.0; p.m.len()];
    let mut m_sums: Vec<Vec<f64>> = model.comparisons.iter().map(zeros).collect();
    let mut h_sums: Vec<Vec<f64>> = model.comparisons.iter().map(zeros).collect();
    let (mut m_counts, mut h_counts) = (vec![0usize; n_comp], vec![0usize; n_comp]);
    let u: Vec<Vec<f64>> = model.comparisons.iter().map(|p| p.u.clone()).collect();
    let m_prior: Vec<Vec<f64>> = model.comparisons.iter().map(|p| default_m(p.kind)).collect();
    // Identity comparisons keep the h derived from u (see `relate_identity_to_u`); the others start from
    // and shrink towards the default.
    let h_prior: Vec<Vec<f64>> =
        model.comparisons.iter().map(|p| if p.kind.is_identity() { p.h.clone() } else { default_h(p.kind) }).collect();
    for (excluded, levels) in blocks {
        let pairs: f64 = levels.iter().map(|(_, n)| n).sum();
        if pairs < 10.0 {
            continue;
        }
        let mut params = Mixture { m: m_prior.clone(), h: h_prior.clone(), shares: [0.3, 0.1, 0.6] };
        let kinds: Vec<ComparisonKind> = model.comparisons.iter().map(|p| p.kind).collect();
        em(levels, excluded, &kinds, &mut params, &u, &m_prior, &h_prior);
        for c in (0..n_comp).filter(|c| !excluded[*c]) {
            m_counts[c] += 1;
            m_sums[c].iter_mut().zip(&params.m[c]).for_each(|(s, v)| *s += v);
            // A block in which hardly any pair is related says nothing about h.
            if params.shares[1] * pairs >= 5.0 && !kinds[c].is_identity() {
                h_counts[c] += 1;
                h_sums[c].iter_mut().zip(&params.h[c]).for_each(|(s, v)| *s += v);
            }
        }
    }
    model.em_estimated.clear();
    for c in 0..n_comp {
        let p = &mut model.comparisons[c];
        if m_counts[c] > 0 {
            p.m = m_sums[c].iter().map(|s| s / m_counts[c] as f64).collect();
            model.em_estimated.push(p.name.clone());
        }
        if h_counts[c] > 0 {
            p.h = h_sums[c].iter().map(|s| s / h_counts[c] as f64).collect();
        }
    }
}

/// Parameters of the three-class mixture during EM.
struct Mixture {
    m: Vec<Vec<f64>>,
    h: Vec<Vec<f64>>,
    /// Shares of match, related and unrelated pairs.
    shares: [f64; 3],
}

/// Per-thread sums of one E-step: responsibilities per class, comparison and level.
struct Tally {
    m: Vec<Vec<f64>>,
    h: Vec<Vec<f64>>,
    shares: [f64; 3],
}

impl Tally {
    fn new(shape: &[Vec<f64>]) -> Self {
        let zeros: Vec<Vec<f64>> = shape.iter().map(|x| vec![0.0; x.len()]).collect();
        Tally { m: zeros.clone(), h: zeros, shares: [0.0; 3] }
    }

    fn merge(mut self, other: Tally) -> Tally {
        for (a, b) in self.m.iter_mut().zip(&other.m).chain(self.h.iter_mut().zip(&other.h)) {
            a.iter_mut().zip(b).for_each(|(x, y)| *x += y);
        }
        (0..3).for_each(|k| self.shares[k] += other.shares[k]);
        self
    }
}

/// Expectation maximisation of m, h and the class shares with u fixed; m and h are shrunk towards their
/// priors by the pseudo-count. Comparisons marked `excluded` are neither used nor learned; h of identity
/// comparisons stays at its prior (the related class is a different person by definition).
fn em(
    levels: &Patterns,
    excluded: &[bool],
    kinds: &[ComparisonKind],
    p: &mut Mixture,
    u: &[Vec<f64>],
    m_prior: &[Vec<f64>],
    h_prior: &[Vec<f64>],
) {
    let n_comp = p.m.len();
    let log = |x: &Vec<Vec<f64>>| -> Vec<Vec<f64>> {
        x.iter().map(|r| r.iter().map(|v| v.max(1e-300).log2()).collect()).collect()
    };
    let log_u = log(&u.to_vec());
    for _ in 0..60 {
        let (log_m, log_h) = (log(&p.m), log(&p.h));
        let log_shares = p.shares.map(|s| s.max(1e-12).log2());
        let tally = levels
            .par_iter()
            .fold(
                || Tally::new(&p.m),
                |mut t, (l, count)| {
                    let mut score = log_shares;
                    for c in (0..n_comp).filter(|c| !excluded[*c]) {
                        let level = usize::from(l[c]);
                        if level != 0 {
                            score[0] += log_m[c][level];
                            score[1] += log_h[c][level];
                            score[2] += log_u[c][level];
                        }
                    }
                    let top = score[0].max(score[1]).max(score[2]);
                    let w = score.map(|s| (s - top).exp2());
                    let total = w[0] + w[1] + w[2];
                    let r = w.map(|x| x / total * count);
                    for (c, level) in l.iter().take(n_comp).map(|x| usize::from(*x)).enumerate() {
                        if level != 0 {
                            t.m[c][level] += r[0];
                            t.h[c][level] += r[1];
                        }
                    }
                    (0..3).for_each(|k| t.shares[k] += r[k]);
                    t
                },
            )
            .reduce(|| Tally::new(&p.m), Tally::merge);
        let mut change = 0.0f64;
        for c in (0..n_comp).filter(|c| !excluded[*c]) {
            let learn_h = !kinds[c].is_identity();
            let classes =
                [(&mut p.m[c], &tally.m[c], &m_prior[c], true), (&mut p.h[c], &tally.h[c], &h_prior[c], learn_h)];
            for (params, counts, prior, _) in classes.into_iter().filter(|x| x.3) {
                let total: f64 = counts[1..].iter().sum();
                for l in 1..params.len() {
                    let new = ((counts[l] + M_PRIOR_PAIRS * prior[l]) / (total + M_PRIOR_PAIRS)).max(PROBABILITY_FLOOR);
                    change = change.max((new - params[l]).abs());
                    params[l] = new;
                }
                let s: f64 = params[1..].iter().sum();
                params[1..].iter_mut().for_each(|v| *v /= s);
            }
            if kinds[c].is_identity() {
                cap_disagreement(&mut p.m[c], max_disagreement(kinds[c]));
            }
        }
        let n: f64 = levels.iter().map(|(_, count)| count).sum();
        p.shares = tally.shares.map(|s| (s / n).clamp(1e-9, 1.0));
        if change < 1e-5 {
            break;
        }
    }
}

/// The priors for a random pair: the shares of matches and of related pairs among the candidates (fixed point
/// of the posterior means), spread over all possible pairs. Blocking selected the candidates, which scales each
/// class's likelihood by a constant (its chance of being selected); the shares absorb that constant, and
/// matching and related pairs are almost all selected, so their shares carry over to all pairs. `weights` may be
/// an even sample of the `candidates`.
fn estimate_priors(
    features: &[Features],
    weights: &[(f32, f32)],
    candidates: usize,
    within_source: bool,
) -> (f64, f64) {
    let n = features.len() as f64;
    let total_pairs = if within_source {
        n * (n - 1.0) / 2.0
    } else {
        let mut per_source = std::collections::HashMap::<u32, f64>::new();
        features.iter().for_each(|f| *per_source.entry(f.source).or_default() += 1.0);
        let same: f64 = per_source.values().map(|c| c * (c - 1.0) / 2.0).sum();
        n * (n - 1.0) / 2.0 - same
    };
    if weights.is_empty() || total_pairs < 1.0 {
        return (1e-6, 1e-7);
    }
    // Responsibilities depend only on the two weights: quantise them to 1/64 bit and iterate over the distinct
    // values with their counts instead of over every candidate.
    let mut histogram: std::collections::HashMap<(i32, i32), f64, foldhash::fast::FixedState> = Default::default();
    for (wu, wh) in weights {
        let key = ((wu * 64.0).round() as i32, (wh * 64.0).round() as i32);
        *histogram.entry(key).or_default() += 1.0;
    }
    // Each bin's likelihood ratios against the match class (unrelated 2^-wu, related 2^-wh), worked out once.
    let bins: Vec<(f64, f64, f64)> = histogram
        .into_iter()
        .map(|((u, h), n)| ((-f64::from(u) / 64.0).exp2(), (-f64::from(h) / 64.0).exp2(), n))
        .collect();
    let count = weights.len() as f64;
    let (mut match_share, mut related_share) = (0.1f64, 0.05f64);
    for _ in 0..200 {
        let unrelated_share = (1.0 - match_share - related_share).max(1e-9);
        let (sm, sh) = bins.iter().fold((0.0, 0.0), |(sm, sh), (ratio_u, ratio_h, n)| {
            // Responsibilities relative to the match class: match 1, related 2^-wh, unrelated 2^-wu.
            let related = related_share * ratio_h;
            let unrelated = unrelated_share * ratio_u;
            let total = match_share + related + unrelated;
            (sm + n * match_share / total, sh + n * related / total)
        });
        let (old_match, old_related) = (match_share, related_share);
        match_share = (sm / count).clamp(1e-9, 1.0 - 1e-6);
        related_share = (sh / count).clamp(1e-9, 1.0 - match_share - 1e-9);
        if (match_share - old_match).abs() < 1e-6 * old_match
            && (related_share - old_related).abs() < 1e-6 * old_related
        {
            break;
        }
    }
    let spread = candidates as f64 / total_pairs;
    ((match_share * spread).clamp(1e-12, 0.5), (related_share * spread).clamp(1e-12, 0.4))
}

/// The evidence of every `step`-th candidate pair under the model (term frequencies included), as f32 to halve
/// the memory.
fn weights_of(
    model: &MatchModel,
    features: &[Features],
    pairs: &[PackedPair],
    levels: &PackedLevels,
    step: usize,
) -> Vec<(f32, f32)> {
    let table = model.weight_table();
    let frequencies = table.record_frequencies(features);
    (0..pairs.len().div_ceil(step))
        .into_par_iter()
        .map(|k| {
            let i = k * step;
            let (a, b) = unpack(pairs[i]);
            let (wu, wh) = table.weights_indexed(&levels.get(i), &frequencies, a as usize, b as usize);
            (wu as f32, wh as f32)
        })
        .collect()
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureValues;

    #[test]
    fn agreeing_pairs_are_counted_within_and_across_sources() {
        let items = [(1, 0), (1, 0), (1, 1), (2, 1), (3, 0)];
        // Value 1 three times: three agreeing pairs of ten.
        assert_eq!(exact_agreements(items.into_iter(), true), (3.0, 10.0));
        // Across sources only: the two sources' records of value 1 (2 × 1), of 3 × 2 cross pairs.
        assert_eq!(exact_agreements(items.into_iter(), false), (2.0, 6.0));
        assert_eq!(exact_agreements(std::iter::empty(), true), (0.0, 0.0));
    }

    fn model(prior: f64) -> MatchModel {
        let kind = ComparisonKind::BirthDate;
        MatchModel {
            comparisons: vec![ComparisonParams {
                kind,
                name: "birth_date".into(),
                m: vec![0.0, 0.9, 0.06, 0.02, 0.02],
                u: vec![0.0, 1e-8, 0.01, 0.05, 0.94],
                h: default_h(kind),
                tf: None,
            }],
            prior,
            prior_related: 0.0,
            identifier_names: Vec::new(),
            records: 4,
            u_pairs: 0,
            em_estimated: Vec::new(),
        }
    }

    #[test]
    fn exact_birth_date_u_is_the_share_of_agreeing_pairs_that_are_not_matches() {
        let born = |birth: u32| FeatureValues { birth, ..FeatureValues::default() }.pack();
        // Three records with a birth date, two of them alike: one agreeing pair of three.
        let features = [born(19800101), born(19800101), born(19900101), born(0)];
        let mut without_matches = model(0.0);
        exact_birth_date_u(&mut without_matches, &features, true);
        let u = &without_matches.comparisons[0].u;
        assert!((u[1] - 1.0 / 3.0).abs() < 1e-12, "{u:?}");
        assert!((u[1..].iter().sum::<f64>() - 1.0).abs() < 1e-9, "still a distribution: {u:?}");
        assert!((u[4] / u[2] - 94.0).abs() < 1e-9, "the other levels keep their proportions");
        // A tenth of all pairs matches, 90 % of those on the exact date: 0.27 of the agreeing pair is a match.
        let mut with_matches = model(0.1);
        exact_birth_date_u(&mut with_matches, &features, true);
        assert!((with_matches.comparisons[0].u[1] - (1.0 - 0.27) / 2.7).abs() < 1e-12);
    }
}
