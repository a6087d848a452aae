//! Blocking: candidate pairs are the records that share the value of at least one rule. Each rule's blocks are
//! built by sorting (hash, record) pairs; the union over rules is sorted and deduplicated. Blocks larger than
//! the cap are not expanded into pairs (that would be quadratic) and are reported instead.

use crate::features::Features;
use crate::keys::KeyRule;
use rayon::prelude::*;

/// A candidate pair of record indices, `a < b`, packed as `a << 32 | b`.
pub type PackedPair = u64;

/// Packs a pair, smaller index first.
pub fn pack(a: u32, b: u32) -> PackedPair {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    (u64::from(lo) << 32) | u64::from(hi)
}

/// Unpacks a pair.
pub fn unpack(p: PackedPair) -> (u32, u32) {
    ((p >> 32) as u32, p as u32)
}

/// How large blocks are handled.
#[derive(Debug, Clone, Copy)]
pub struct BlockLimits {
    /// Blocks with more records are split by birth year and, separately, by city (each record pairs only within
    /// its sub-blocks): a common name shared by dozens of people is not a reason to compare them all.
    pub sub_block_above: usize,
    /// Blocks (or sub-blocks) with more records are skipped and reported.
    pub max_block: usize,
}

/// What one rule contributed.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RuleReport {
    /// The rule as written.
    pub rule: String,
    /// Pairs it generated (before the union).
    pub pairs: u64,
    /// Blocks over the cap that were skipped.
    pub oversized_blocks: u64,
    /// Records in those skipped blocks.
    pub oversized_records: u64,
    /// Blocks split by birth year and city because they were large.
    #[serde(default)]
    pub sub_blocked: u64,
}

/// (key hash, record) for every value of `rule` of every record, sorted: records sharing a hash form a block.
pub fn keyed_records(features: &[Features], rule: &KeyRule, identifier_names: &[String]) -> Vec<(u64, u32)> {
    let parts: Vec<Vec<(u64, u32)>> = features
        .par_chunks(16_384)
        .enumerate()
        .map(|(chunk, records)| {
            let (mut keyed, mut values, mut scratch) = (Vec::with_capacity(records.len()), Vec::new(), Vec::new());
            for (i, f) in records.iter().enumerate() {
                values.clear();
                rule.values_into(f, identifier_names, &mut values, &mut scratch);
                let index = (chunk * 16_384 + i) as u32;
                keyed.extend(values.iter().map(|h| (*h, index)));
            }
            keyed
        })
        .collect();
    crate::bucket_sort::sorted(&parts, u64::MAX, |(hash, _)| *hash)
}

/// The blocks of sorted keyed records: runs of two or more records with the same hash.
pub fn blocks_of(keyed: &[(u64, u32)]) -> impl Iterator<Item = &[(u64, u32)]> {
    keyed.chunk_by(|x, y| x.0 == y.0).filter(|b| b.len() > 1)
}

/// Every pair within one block (of different sources, unless `within_source`).
pub fn block_pairs<'a>(
    block: &'a [(u64, u32)],
    features: &'a [Features],
    within_source: bool,
) -> impl Iterator<Item = PackedPair> + 'a {
    block.iter().enumerate().flat_map(move |(x, &(_, i))| {
        block[x + 1..].iter().filter_map(move |&(_, j)| {
            let allowed = within_source || features[i as usize].source != features[j as usize].source;
            (i != j && allowed).then(|| pack(i, j))
        })
    })
}

/// Generates the pairs of one rule.
pub fn pairs_for_rule(
    features: &[Features],
    rule: &KeyRule,
    identifier_names: &[String],
    within_source: bool,
    limits: BlockLimits,
) -> (Vec<PackedPair>, RuleReport) {
    let keyed = keyed_records(features, rule, identifier_names);
    let mut report = RuleReport { rule: rule.label.clone(), ..RuleReport::default() };
    let blocks: Vec<&[(u64, u32)]> = blocks_of(&keyed).collect();
    let mut pairs = Vec::new();
    let mut emit = |block: &[(u64, u32)], report: &mut RuleReport| {
        if block.len() > limits.max_block {
            report.oversized_blocks += 1;
            report.oversized_records += block.len() as u64;
            return;
        }
        pairs.extend(block_pairs(block, features, within_source));
    };
    // A sub-block by a key the rule already fixes is the whole block again: such a rule splits by the other key
    // only (and not at all when it fixes both).
    let sub_keys: Vec<KeyRule> = [(rule.fixes_birth_year(), "birth_year"), (rule.fixes_city(), "city")]
        .into_iter()
        .filter(|(fixed, _)| !fixed)
        .filter_map(|(_, key)| KeyRule::parse(&[key.into()]).ok())
        .collect();
    let (mut sub, mut values, mut scratch) = (Vec::new(), Vec::new(), Vec::new());
    for block in blocks {
        if block.len() <= limits.sub_block_above || sub_keys.is_empty() {
            emit(block, &mut report);
            continue;
        }
        report.sub_blocked += 1;
        for sub_key in &sub_keys {
            sub.clear();
            for &(_, i) in block {
                values.clear();
                sub_key.values_into(&features[i as usize], identifier_names, &mut values, &mut scratch);
                sub.extend(values.iter().map(|h| (*h, i)));
            }
            sub.sort_unstable();
            for part in blocks_of(&sub) {
                emit(part, &mut report);
            }
        }
    }
    let mut pairs = crate::bucket_sort::sorted(&[pairs], features.len() as u64, |pair| pair >> 32);
    pairs.dedup();
    report.pairs = pairs.len() as u64;
    (pairs, report)
}

/// The union of all rules' pairs, sorted and deduplicated, with one report per rule.
pub fn candidate_pairs(
    features: &[Features],
    rules: &[KeyRule],
    identifier_names: &[String],
    within_source: bool,
    limits: BlockLimits,
) -> (Vec<PackedPair>, Vec<RuleReport>) {
    let (lists, reports): (Vec<Vec<PackedPair>>, Vec<RuleReport>) =
        rules.iter().map(|rule| pairs_for_rule(features, rule, identifier_names, within_source, limits)).unzip();
    (union(lists.iter().map(Vec::as_slice)), reports)
}

/// The union of several pair lists, sorted and deduplicated.
pub fn union<'a>(lists: impl Iterator<Item = &'a [PackedPair]>) -> Vec<PackedPair> {
    let lists: Vec<&[PackedPair]> = lists.collect();
    // A pair's first record leads its order.
    let max_lead = lists.iter().flat_map(|l| l.last()).map(|pair| pair >> 32).max().unwrap_or(0);
    let mut all = crate::bucket_sort::sorted(&lists, max_lead, |pair| pair >> 32);
    all.dedup();
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureValues;

    fn person(source: u32, family: &str, postcode: &str) -> Features {
        FeatureValues { source, family: family.into(), postcode: postcode.into(), ..FeatureValues::default() }.pack()
    }

    const LIMITS: BlockLimits = BlockLimits { sub_block_above: 100, max_block: 100 };

    #[test]
    fn large_blocks_are_split_by_birth_year_and_city() {
        let namesake = |birth: u32, city: &str| {
            FeatureValues { family: "smith".into(), birth, city: city.into(), ..FeatureValues::default() }.pack()
        };
        let f =
            vec![namesake(19700101, "a"), namesake(19700505, "b"), namesake(19800101, "a"), namesake(19900101, "c")];
        let limits = BlockLimits { sub_block_above: 3, max_block: 100 };
        let (pairs, reports) = candidate_pairs(&f, &[rule(&["family_name"])], &[], true, limits);
        // Same birth year (0, 1) or same city (0, 2); the 1990 record in city c pairs with no one.
        assert_eq!(pairs.iter().map(|p| unpack(*p)).collect::<Vec<_>>(), vec![(0, 1), (0, 2)]);
        assert_eq!(reports[0].sub_blocked, 1);
    }

    #[test]
    fn large_blocks_split_only_by_the_keys_their_rule_does_not_fix() {
        let namesake = |birth: u32, city: &str| {
            FeatureValues { family: "smith".into(), birth, city: city.into(), ..FeatureValues::default() }.pack()
        };
        let limits = BlockLimits { sub_block_above: 3, max_block: 100 };
        // One city: a city sub-block would be the whole block, so only the birth year splits it.
        let same_city =
            vec![namesake(19700101, "a"), namesake(19700505, "a"), namesake(19800101, "a"), namesake(19900101, "a")];
        let (pairs, reports) = candidate_pairs(&same_city, &[rule(&["family_name", "city"])], &[], true, limits);
        assert_eq!(pairs.iter().map(|p| unpack(*p)).collect::<Vec<_>>(), vec![(0, 1)]);
        assert_eq!(reports[0].sub_blocked, 1);
        // One birth date: only the city splits it.
        let same_day =
            vec![namesake(19700101, "a"), namesake(19700101, "b"), namesake(19700101, "a"), namesake(19700101, "c")];
        let (pairs, _) = candidate_pairs(&same_day, &[rule(&["family_name", "birth_date"])], &[], true, limits);
        assert_eq!(pairs.iter().map(|p| unpack(*p)).collect::<Vec<_>>(), vec![(0, 2)]);
        // A rule fixing both is not split: its block pairs as a whole, up to the cap.
        let (pairs, reports) =
            candidate_pairs(&same_city, &[rule(&["family_name", "birth_year", "city"])], &[], true, limits);
        assert_eq!(pairs.iter().map(|p| unpack(*p)).collect::<Vec<_>>(), vec![(0, 1)]);
        assert_eq!(reports[0].sub_blocked, 0);
        let one_year: Vec<Features> = (1..=4).map(|day| namesake(19700100 + day, "a")).collect();
        let (pairs, reports) =
            candidate_pairs(&one_year, &[rule(&["family_name", "birth_year", "city"])], &[], true, limits);
        assert_eq!(pairs.len(), 6);
        assert_eq!(reports[0].sub_blocked, 0);
    }

    fn rule(keys: &[&str]) -> KeyRule {
        KeyRule::parse(&keys.iter().map(|k| k.to_string()).collect::<Vec<_>>()).expect("rule")
    }

    #[test]
    fn unions_rules_and_dedups() {
        let f = vec![person(0, "vries", "1"), person(0, "vries", "1"), person(1, "jansen", "1"), person(1, "bos", "2")];
        let (pairs, reports) = candidate_pairs(&f, &[rule(&["family_name"]), rule(&["postcode"])], &[], true, LIMITS);
        let unpacked: Vec<_> = pairs.iter().map(|p| unpack(*p)).collect();
        assert_eq!(unpacked, vec![(0, 1), (0, 2), (1, 2)]);
        assert_eq!(reports[0].pairs, 1);
        assert_eq!(reports[1].pairs, 3);
    }

    #[test]
    fn link_only_and_caps() {
        let f = vec![person(0, "vries", "1"), person(0, "vries", "1"), person(1, "vries", "1")];
        let (pairs, _) = candidate_pairs(&f, &[rule(&["family_name"])], &[], false, LIMITS);
        assert_eq!(pairs.iter().map(|p| unpack(*p)).collect::<Vec<_>>(), vec![(0, 2), (1, 2)]);
        let tight = BlockLimits { sub_block_above: usize::MAX, max_block: 2 };
        let (pairs, reports) = candidate_pairs(&f, &[rule(&["family_name"])], &[], true, tight);
        assert!(pairs.is_empty());
        assert_eq!((reports[0].oversized_blocks, reports[0].oversized_records), (1, 3));
    }
}
