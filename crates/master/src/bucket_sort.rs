//! Sorting millions of small items by first scattering them into buckets that are each in the cache, then sorting
//! every bucket on its own, in parallel. A sort of the whole vector (16 MB for a million blocking keys) works far
//! outside the cache; a bucket of a few hundred items stays in it. The buckets come from the items' leading key
//! bits, so they are in order already and the result is the plain sort's.

use rayon::prelude::*;

/// Items per bucket aimed at: a few kilobytes, inside the first-level cache.
const PER_BUCKET: usize = 256;

/// The items of `parts`, concatenated and sorted. `lead` gives an item's leading bits as a `u64`: an item with a
/// smaller `lead` must sort before one with a larger (its high bits, for instance). `max_lead` spreads the buckets:
/// leads above it all land in the last bucket, still sorted, only slower.
pub fn sorted<T, P, F>(parts: &[P], max_lead: u64, lead: F) -> Vec<T>
where
    T: Ord + Copy + Default + Send,
    P: AsRef<[T]>,
    F: Fn(&T) -> u64 + Sync,
{
    let total: usize = parts.iter().map(|p| p.as_ref().len()).sum();
    let buckets = (total / PER_BUCKET).next_power_of_two().max(1);
    // The bucket of an item is its lead scaled to the number of buckets: shifting keeps the order.
    let shift = (64 - max_lead.leading_zeros()).saturating_sub(buckets.trailing_zeros());
    let bucket = |item: &T| (lead(item).checked_shr(shift).unwrap_or(0) as usize).min(buckets - 1);
    let mut starts = vec![0usize; buckets + 1];
    for item in parts.iter().flat_map(AsRef::as_ref) {
        starts[bucket(item) + 1] += 1;
    }
    for b in 1..=buckets {
        starts[b] += starts[b - 1];
    }
    let mut next = starts.clone();
    let mut out = vec![T::default(); total];
    for item in parts.iter().flat_map(AsRef::as_ref) {
        let b = bucket(item);
        out[next[b]] = *item;
        next[b] += 1;
    }
    let mut slices = Vec::with_capacity(buckets);
    let mut rest = out.as_mut_slice();
    for b in 0..buckets {
        let (head, tail) = rest.split_at_mut(starts[b + 1] - starts[b]);
        slices.push(head);
        rest = tail;
    }
    slices.into_par_iter().with_min_len(16).for_each(|s| s.sort_unstable());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::collection::vec;

    proptest::proptest! {
        #[test]
        fn sorts_as_the_plain_sort(parts in vec(vec((proptest::num::u64::ANY, 0u32..50), 0..300), 0..6)) {
            let mut expected: Vec<(u64, u32)> = parts.concat();
            expected.sort_unstable();
            proptest::prop_assert_eq!(sorted(&parts, u64::MAX, |item| item.0), expected);
        }

        #[test]
        fn sorts_small_leads(parts in vec(vec(0u64..5_000, 0..2_000), 0..4)) {
            let mut expected: Vec<u64> = parts.concat();
            expected.sort_unstable();
            proptest::prop_assert_eq!(sorted(&parts, 4_999, |item| *item), expected);
        }
    }

    #[test]
    fn leads_above_the_bound_still_sort() {
        let parts = [vec![9_000u64, 3, 7_000, 12], vec![5, 8_000]];
        assert_eq!(sorted(&parts, 10, |i| *i), vec![3, 5, 12, 7_000, 8_000, 9_000]);
    }

    #[test]
    fn sorts_nothing_and_one() {
        assert!(sorted::<u64, Vec<u64>, _>(&[], 0, |i| *i).is_empty());
        assert_eq!(sorted(&[vec![7u64]], 7, |i| *i), vec![7]);
    }
}
