//! Matching one record at a time, the way batch resolution matches all of them: the record's blocking values
//! (kept in an index by the caller) find its candidates, with large blocks split by birth year and city exactly
//! as [`crate::block::pairs_for_rule`] splits them, and deterministic rules apply within capped blocks.

use crate::features::Features;
use crate::keys::KeyRule;
use crate::resolve::{MasterError, blocking_rules};
use model::MasterConfig;
use std::hash::BuildHasher;

/// Bumped when the index's key layout changes, so an index built by another version is rebuilt.
const LAYOUT: &str = "cdihub-index-3";

/// One index entry of a record: a rule and one of its values, hashed together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IndexKey {
    /// Hash of the rule's position and the value.
    pub key: u64,
    /// Position of the rule in [`IndexRules`] (blocking rules first, then deterministic rules).
    pub rule: usize,
}

/// Everything a record is indexed under.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordKeys {
    /// One entry per rule value, distinct.
    pub keys: Vec<IndexKey>,
    /// Birth-year sub-block value, 0 when unknown.
    pub year: u64,
    /// City sub-block value, 0 when unknown.
    pub city: u64,
}

/// A record found under one of a new record's keys, with its sub-block values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockMember {
    /// The caller's id of the record.
    pub id: i64,
    /// Its birth-year sub-block value.
    pub year: u64,
    /// Its city sub-block value.
    pub city: u64,
}

/// What the members of one block are to a new record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockOutcome {
    /// Candidates to score (a blocking rule).
    Candidates(Vec<i64>),
    /// Records a deterministic rule joins it with.
    Forced(Vec<i64>),
    /// The block is larger than the cap: ignored, as batch resolution ignores it.
    Oversized,
}

/// The blocking and deterministic rules a record is indexed under, and how their blocks are limited.
#[derive(Debug, Clone)]
pub struct IndexRules {
    blocking: Vec<KeyRule>,
    deterministic: Vec<(String, KeyRule)>,
    identifier_names: Vec<String>,
    year: KeyRule,
    city: KeyRule,
    sub_block_above: usize,
    max_block: usize,
}

impl IndexRules {
    /// The rules of a configuration, for records featured with `identifier_names`.
    pub fn new(config: &MasterConfig, identifier_names: Vec<String>) -> Result<Self, MasterError> {
        let parse = |names: &[&str]| {
            KeyRule::parse(&names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).map_err(MasterError::Rule)
        };
        let deterministic = config
            .rules
            .iter()
            .map(|r| KeyRule::parse(&r.keys).map(|k| (r.name.clone(), k)).map_err(MasterError::Rule))
            .collect::<Result<_, _>>()?;
        Ok(IndexRules {
            blocking: blocking_rules(config, &identifier_names)?,
            deterministic,
            identifier_names,
            year: parse(&["birth_year"])?,
            city: parse(&["city"])?,
            sub_block_above: config.sub_block_above,
            max_block: config.max_block_size,
        })
    }

    /// The largest block worth reading: beyond it even the sub-blocks are likely over the cap.
    pub fn lookup_limit(&self) -> usize {
        self.max_block.saturating_mul(4).max(self.sub_block_above + 1)
    }

    /// Names what the index was built for (layout, rules, identifiers, and the hashing itself): an index whose
    /// fingerprint differs must be rebuilt.
    pub fn fingerprint(&self) -> String {
        let probe = crate::features::FeatureValues {
            given: "anna".into(),
            family: "vries".into(),
            city: "arnhem".into(),
            birth: 19_800_102,
            ..Default::default()
        }
        .pack();
        let probe = self.keys(&probe);
        let labels: Vec<&str> = self
            .blocking
            .iter()
            .map(|r| r.label.as_str())
            .chain(self.deterministic.iter().flat_map(|(name, r)| [name.as_str(), r.label.as_str()]))
            .collect();
        format!(
            "{LAYOUT}|{}|{}|{:x}",
            labels.join(","),
            self.identifier_names.join(","),
            probe.keys.iter().fold(probe.year ^ probe.city, |acc, k| acc.rotate_left(5) ^ k.key)
        )
    }

    /// Every index entry of a record.
    pub fn keys(&self, f: &Features) -> RecordKeys {
        let (mut values, mut scratch) = (Vec::new(), Vec::new());
        let mut keys = Vec::new();
        let rules = self.blocking.iter().chain(self.deterministic.iter().map(|(_, r)| r));
        for (rule_at, rule) in rules.enumerate() {
            values.clear();
            rule.values_into(f, &self.identifier_names, &mut values, &mut scratch);
            keys.extend(values.iter().map(|v| IndexKey { key: tagged(rule_at, *v), rule: rule_at }));
        }
        keys.sort_unstable();
        keys.dedup_by_key(|k| k.key);
        let first = |rule: &KeyRule, values: &mut Vec<u64>, scratch: &mut Vec<u64>| {
            values.clear();
            rule.values_into(f, &self.identifier_names, values, scratch);
            values.first().copied().unwrap_or(0)
        };
        let year = first(&self.year, &mut values, &mut scratch);
        let city = first(&self.city, &mut values, &mut scratch);
        RecordKeys { keys, year, city }
    }

    /// The name of deterministic rule `rule` (an index position), if it is one.
    pub fn deterministic_name(&self, rule: usize) -> Option<&str> {
        rule.checked_sub(self.blocking.len()).and_then(|i| self.deterministic.get(i)).map(|(name, _)| name.as_str())
    }

    /// What the other members of one of a record's blocks are to it. `members` excludes the record itself and
    /// is complete unless it reached [`Self::lookup_limit`]. Large blocks of blocking rules pair only within the
    /// birth-year and the city sub-block (the ones the rule does not fix already); deterministic rules join within
    /// blocks up to the cap.
    pub fn select(&self, own: &RecordKeys, key: IndexKey, members: &[BlockMember]) -> BlockOutcome {
        let size = members.len() + 1;
        if members.len() >= self.lookup_limit() {
            return BlockOutcome::Oversized;
        }
        if key.rule >= self.blocking.len() {
            return if size > self.max_block {
                BlockOutcome::Oversized
            } else {
                BlockOutcome::Forced(members.iter().map(|m| m.id).collect())
            };
        }
        if size <= self.sub_block_above {
            return BlockOutcome::Candidates(members.iter().map(|m| m.id).collect());
        }
        // As in batch blocking: a sub-block by a key the rule fixes is the whole block, so it is not used.
        let rule = &self.blocking[key.rule];
        if rule.fixes_birth_year() && rule.fixes_city() {
            return if size > self.max_block {
                BlockOutcome::Oversized
            } else {
                BlockOutcome::Candidates(members.iter().map(|m| m.id).collect())
            };
        }
        let mut chosen = Vec::new();
        for (own_value, of, fixed) in [
            (own.year, (|m: &BlockMember| m.year) as fn(&BlockMember) -> u64, rule.fixes_birth_year()),
            (own.city, |m| m.city, rule.fixes_city()),
        ] {
            if own_value == 0 || fixed {
                continue;
            }
            let part: Vec<i64> = members.iter().filter(|m| of(m) == own_value).map(|m| m.id).collect();
            // The sub-block holds the record too.
            if part.len() < self.max_block {
                chosen.extend(part);
            }
        }
        chosen.sort_unstable();
        chosen.dedup();
        if chosen.is_empty() && members.len() + 1 > self.max_block {
            BlockOutcome::Oversized
        } else {
            BlockOutcome::Candidates(chosen)
        }
    }
}

/// A rule's value tagged with the rule's position, so two rules with equal values do not share a block.
fn tagged(rule: usize, value: u64) -> u64 {
    foldhash::fast::FixedState::with_seed(0x1d_ea_c0_de).hash_one((rule as u64, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureValues;

    fn person(given: &str, family: &str, birth: u32, city: &str) -> Features {
        FeatureValues {
            given: given.into(),
            family: family.into(),
            family_sound: family.to_uppercase(),
            birth,
            city: city.into(),
            ..FeatureValues::default()
        }
        .pack()
    }

    #[test]
    fn keys_are_tagged_by_rule_and_stable() {
        let rules = IndexRules::new(&MasterConfig::default(), Vec::new()).expect("rules");
        let a = rules.keys(&person("anna", "vries", 19_800_102, "arnhem"));
        assert!(a.year != 0 && a.city != 0);
        assert_eq!(a, rules.keys(&person("anna", "vries", 19_800_102, "arnhem")));
        let rules_of: std::collections::BTreeSet<usize> = a.keys.iter().map(|k| k.rule).collect();
        // name_pair (2), family_sound+birth_date (5) and family_sound+given_initial+city (7) of the default rules;
        // the given name's sound is not set here.
        assert_eq!(rules_of, [2, 5, 7].into());
        assert_eq!(
            rules.fingerprint(),
            IndexRules::new(&MasterConfig::default(), Vec::new()).expect("r").fingerprint()
        );
        let other = IndexRules::new(&MasterConfig::default(), vec!["kvk".into()]).expect("rules");
        assert_ne!(rules.fingerprint(), other.fingerprint(), "identifier rules change the index");
    }

    #[test]
    fn large_blocks_pair_within_sub_blocks_only() {
        let config = MasterConfig { sub_block_above: 3, max_block_size: 4, ..MasterConfig::default() };
        let rules = IndexRules::new(&config, Vec::new()).expect("rules");
        let own = RecordKeys { keys: vec![], year: 7, city: 9 };
        let key = IndexKey { key: 1, rule: 0 };
        let m = |id: i64, year: u64, city: u64| BlockMember { id, year, city };
        // Small block: everyone.
        assert_eq!(rules.select(&own, key, &[m(1, 1, 1), m(2, 2, 2)]), BlockOutcome::Candidates(vec![1, 2]));
        // Large block: same year or same city.
        let large = [m(1, 7, 1), m(2, 2, 9), m(3, 2, 2), m(4, 7, 9)];
        assert_eq!(rules.select(&own, key, &large), BlockOutcome::Candidates(vec![1, 2, 4]));
        // A sub-block over the cap is skipped; the other still pairs.
        let crowded = [m(1, 7, 1), m(2, 7, 2), m(3, 7, 3), m(4, 7, 4), m(5, 5, 9)];
        assert_eq!(rules.select(&own, key, &crowded), BlockOutcome::Candidates(vec![5]));
    }

    #[test]
    fn large_blocks_split_only_by_the_keys_their_rule_does_not_fix() {
        let config = MasterConfig { sub_block_above: 3, max_block_size: 4, ..MasterConfig::default() };
        let rules = IndexRules::new(&config, Vec::new()).expect("rules");
        let own = RecordKeys { keys: vec![], year: 7, city: 9 };
        let m = |id: i64, year: u64, city: u64| BlockMember { id, year, city };
        let large = [m(1, 7, 1), m(2, 2, 9), m(3, 2, 2), m(4, 7, 9)];
        // family_sound+birth_date (5) fixes the year: the city sub-block only.
        assert_eq!(rules.select(&own, IndexKey { key: 1, rule: 5 }, &large), BlockOutcome::Candidates(vec![2, 4]));
        // family_sound+given_initial+city (7) fixes the city: the birth-year sub-block only.
        assert_eq!(rules.select(&own, IndexKey { key: 1, rule: 7 }, &large), BlockOutcome::Candidates(vec![1, 4]));
        // A rule fixing both pairs with the whole block, up to the cap.
        let both = MasterConfig {
            blocking: Some(vec![model::BlockingRule(vec!["birth_year".into(), "city".into()])]),
            ..config
        };
        let rules = IndexRules::new(&both, Vec::new()).expect("rules");
        let key = IndexKey { key: 1, rule: 0 };
        assert_eq!(rules.select(&own, key, &large[..3]), BlockOutcome::Candidates(vec![1, 2, 3]));
        assert_eq!(rules.select(&own, key, &large), BlockOutcome::Oversized);
    }

    #[test]
    fn deterministic_rules_force_within_the_cap() {
        let mut config = MasterConfig { max_block_size: 3, ..MasterConfig::default() };
        config.rules.push(model::DeterministicRule { name: "same_kvk".into(), keys: vec!["identifier:kvk".into()] });
        let rules = IndexRules::new(&config, vec!["kvk".into()]).expect("rules");
        let f = FeatureValues { identifiers: vec![(0, "123".into())], ..FeatureValues::default() }.pack();
        let own = rules.keys(&f);
        let forced = own.keys.iter().find(|k| rules.deterministic_name(k.rule).is_some()).expect("rule key");
        assert_eq!(rules.deterministic_name(forced.rule), Some("same_kvk"));
        let m = |id: i64| BlockMember { id, year: 0, city: 0 };
        assert_eq!(rules.select(&own, *forced, &[m(1), m(2)]), BlockOutcome::Forced(vec![1, 2]));
        assert_eq!(rules.select(&own, *forced, &[m(1), m(2), m(3)]), BlockOutcome::Oversized);
    }
}
