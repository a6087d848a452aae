//! Where records sit in memory during a batch resolution. Blocking and training read the features of millions of
//! candidate pairs; when the two records of a pair lie far apart, nearly every read misses the processor's caches.
//! Laying records out by family-name sound, first given name and birth year puts most candidates of the name rules
//! next to each other. A [`Layout`] arranges the features so, and maps a resolution back to the caller's order.

use crate::features::Features;
use crate::resolve::{Pins, Resolution};
use rayon::prelude::*;

/// A permutation of records: position `j` of the arranged features holds record `order[j]` of the caller's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    order: Vec<u32>,
    position: Vec<u32>,
}

impl Layout {
    /// Orders records by family-name sound, first given name and birth year (each by its leading bytes), ties by
    /// the caller's order, so the order is the same on every run.
    pub fn by_name(features: &[Features]) -> Layout {
        let mut keyed: Vec<(u64, u32)> =
            features.par_iter().enumerate().map(|(i, f)| (name_key(f), i as u32)).collect();
        keyed.par_sort_unstable();
        let order: Vec<u32> = keyed.into_iter().map(|(_, i)| i).collect();
        let mut position = vec![0u32; order.len()];
        for (j, i) in order.iter().enumerate() {
            position[*i as usize] = j as u32;
        }
        Layout { order, position }
    }

    /// Where record `i` (the caller's order) sits in the arranged features.
    pub fn position(&self, i: usize) -> u32 {
        self.position[i]
    }

    /// Stewards' pins (by record index in the caller's order) as the arranged features number the records, each
    /// pair as `a < b`.
    pub fn arrange_pins(&self, pins: &mut Pins) {
        for (a, b) in pins.together.iter_mut().chain(pins.apart.iter_mut()) {
            let (x, y) = (self.position[*a as usize], self.position[*b as usize]);
            (*a, *b) = (x.min(y), x.max(y));
        }
    }

    /// The features in this layout's order. Each record's text is copied into a new allocation made in that
    /// order, so neighbours share cache lines and pages; the originals are freed on the threads that copied them.
    pub fn arrange(&self, features: Vec<Features>) -> Vec<Features> {
        let arranged = self.order.par_iter().map(|i| features[*i as usize].clone()).collect();
        features.into_par_iter().for_each(drop);
        arranged
    }

    /// A resolution of the arranged features, in the caller's order: clusters numbered by their first record (as
    /// a resolution in the caller's order numbers them), each pair's records as `a < b`, pairs sorted. The sort is
    /// stable: a pair a rule or a pin joined follows the same pair as the model scored it, and the store keeps the
    /// later of the two.
    pub fn restore(&self, mut resolution: Resolution) -> Resolution {
        let mut dense = vec![u32::MAX; resolution.n_clusters];
        let mut next = 0u32;
        let arranged = std::mem::take(&mut resolution.cluster_of);
        resolution.cluster_of = self
            .position
            .iter()
            .map(|j| {
                let c = arranged[*j as usize] as usize;
                if dense[c] == u32::MAX {
                    dense[c] = next;
                    next += 1;
                }
                dense[c]
            })
            .collect();
        for pair in &mut resolution.pairs {
            let (a, b) = (self.order[pair.a as usize], self.order[pair.b as usize]);
            (pair.a, pair.b) = (a.min(b), a.max(b));
        }
        resolution.pairs.par_sort_by_key(|p| (p.a, p.b));
        resolution
    }
}

/// Family-name sound (4 bytes), first given name (2 bytes) and birth year (2 bytes), packed so that integer order
/// is their order.
fn name_key(f: &Features) -> u64 {
    let mut key = [0u8; 8];
    let sound = f.family_sound().as_bytes();
    let given = f.given_first().as_bytes();
    for (slot, byte) in key[..4].iter_mut().zip(sound) {
        *slot = *byte;
    }
    for (slot, byte) in key[4..6].iter_mut().zip(given) {
        *slot = *byte;
    }
    key[6..].copy_from_slice(&((f.birth / 10_000) as u16).to_be_bytes());
    u64::from_be_bytes(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureValues;
    use crate::resolve::{ScoredPair, resolve};
    use model::MasterConfig;

    fn person(given: &str, family: &str, birth: u32, email: &str) -> Features {
        FeatureValues {
            given: given.into(),
            family: family.into(),
            // A stand-in for the Double Metaphone code: the same for the same name.
            family_sound: family[..3].to_uppercase(),
            birth,
            emails: vec![email.into()],
            ..FeatureValues::default()
        }
        .pack()
    }

    fn people() -> Vec<Features> {
        let mut out = Vec::new();
        for n in 0..40u32 {
            let family = ["vries", "bakker", "jansen", "smit", "visser"][n as usize % 5];
            let given = ["henk", "anna", "piet", "maria"][n as usize % 4];
            let birth = 19_500_101 + (n % 7) * 10_000;
            out.push(person(given, family, birth, &format!("{given}.{family}{n}@x.nl")));
            // Every third person twice, the copy with a typo in the given name, further down the list.
            if n % 3 == 0 {
                out.push(person(&format!("{given}e"), family, birth, &format!("{given}.{family}{n}@x.nl")));
            }
        }
        out.reverse();
        out
    }

    #[test]
    fn same_sounding_names_sit_together_and_every_record_once() {
        let features = people();
        let layout = Layout::by_name(&features);
        assert_eq!(layout.order.len(), features.len());
        let mut seen: Vec<u32> = layout.order.clone();
        seen.sort_unstable();
        assert_eq!(seen, (0..features.len() as u32).collect::<Vec<_>>(), "a permutation");
        for (i, j) in layout.position.iter().enumerate() {
            assert_eq!(layout.order[*j as usize] as usize, i, "position inverts order");
        }
        let arranged = layout.clone().arrange(features.clone());
        let sounds: Vec<&str> = arranged.iter().map(Features::family_sound).collect();
        let mut runs = sounds.clone();
        runs.dedup();
        let mut distinct = sounds.clone();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(runs.len(), distinct.len(), "each family sound in one run: {sounds:?}");
        assert_eq!(arranged[0], features[layout.order[0] as usize]);
    }

    #[test]
    fn a_pair_listed_many_times_keeps_its_order_and_pins_follow_the_records() {
        let features = people();
        let quiet = |_: &str| {};
        let layout = Layout::by_name(&features);
        let arranged = layout.arrange(features.clone());
        let mut resolution =
            resolve(&arranged, &[], &MasterConfig::default(), &Pins::default(), &quiet).expect("resolve");
        let scored = resolution.pairs[0].clone();
        // Rules' pairs are listed after the model's, as `resolve` lists them: the same pair many times over.
        let rules: Vec<String> = (0..64).map(|i| format!("rule {i}")).collect();
        for rule in &rules {
            resolution.pairs.push(ScoredPair { rule: Some(rule.clone()), probability: 1.0, ..scored.clone() });
        }
        let restored = layout.restore(resolution);
        let (a, b) = {
            let (x, y) = (layout.order[scored.a as usize], layout.order[scored.b as usize]);
            (x.min(y), x.max(y))
        };
        let same: Vec<Option<&str>> =
            restored.pairs.iter().filter(|p| (p.a, p.b) == (a, b)).map(|p| p.rule.as_deref()).collect();
        let listed: Vec<Option<&str>> = std::iter::once(None).chain(rules.iter().map(|r| Some(r.as_str()))).collect();
        assert_eq!(same, listed, "in the order resolve listed them");
        let mut pins = Pins { together: vec![(3, 40)], apart: vec![(0, 1)] };
        layout.arrange_pins(&mut pins);
        let expected = |x: usize, y: usize| {
            let (p, q) = (layout.position(x), layout.position(y));
            (p.min(q), p.max(q))
        };
        assert_eq!(pins, Pins { together: vec![expected(3, 40)], apart: vec![expected(0, 1)] });
    }

    #[test]
    fn a_restored_resolution_is_the_resolution_in_the_callers_order() {
        let features = people();
        let quiet = |_: &str| {};
        let config = MasterConfig::default();
        let direct = resolve(&features, &[], &config, &Pins::default(), &quiet).expect("resolve");
        let layout = Layout::by_name(&features);
        let arranged = layout.arrange(features.clone());
        let restored = layout.restore(resolve(&arranged, &[], &config, &Pins::default(), &quiet).expect("resolve"));
        assert!(direct.n_clusters < features.len(), "the copies are found: {}", direct.n_clusters);
        assert_eq!(restored.n_clusters, direct.n_clusters);
        assert_eq!(restored.cluster_of, direct.cluster_of, "same clusters, numbered alike");
        let pairs = |r: &Resolution| {
            let mut p: Vec<(u32, u32, String)> =
                r.pairs.iter().map(|p| (p.a, p.b, format!("{:?} {:.6}", p.decision, p.probability))).collect();
            p.sort_by_key(|x| (x.0, x.1));
            p
        };
        assert_eq!(pairs(&restored), pairs(&direct));
        assert!(restored.pairs.iter().all(|p| p.a < p.b));
    }
}
