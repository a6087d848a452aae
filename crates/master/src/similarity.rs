//! String similarity on folded (ASCII) text, allocation-free: Jaro–Winkler and restricted Damerau–Levenshtein
//! (optimal string alignment). Strings longer than the stack buffers fall back to `strsim`; property tests
//! check both paths agree with `strsim`.

/// Longest input handled on the stack.
const MAX: usize = 64;

/// Jaro–Winkler similarity in [0, 1] (prefix scale 0.1, up to four characters, boost threshold 0.7).
pub fn jaro_winkler(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if !a.is_ascii() || !b.is_ascii() || x.len() > MAX || y.len() > MAX {
        return strsim::jaro_winkler(a, b);
    }
    let jaro = jaro_bytes(x, y);
    // The Winkler boost applies only above the usual 0.7 boost threshold.
    if jaro <= 0.7 {
        return jaro;
    }
    let prefix = x.iter().zip(y).take(4).take_while(|(p, q)| p == q).count() as f64;
    jaro + 0.1 * prefix * (1.0 - jaro)
}

/// [`jaro_winkler`] when it is at least `floor`; otherwise some value below `floor`. Most compared pairs are far
/// apart: an upper bound from the bytes the two strings have in common at all settles them without the matching.
pub fn jaro_winkler_from(a: &str, b: &str, floor: f64) -> f64 {
    // The bound counts bytes; the similarity of other text counts characters.
    if !a.is_ascii() || !b.is_ascii() {
        return jaro_winkler(a, b);
    }
    let bound = jaro_winkler_bound(a.as_bytes(), b.as_bytes());
    if bound < floor - BOUND_MARGIN { bound } else { jaro_winkler(a, b) }
}

/// How far below the floor a bound must be to settle a pair: rounding may make the bound's arithmetic differ
/// from the similarity's in the last bits (they are equal when every common byte matches in order).
const BOUND_MARGIN: f64 = 1e-9;

/// An upper bound of the Jaro–Winkler similarity of two ASCII strings. A byte value (modulo 64: a coarser test,
/// still a bound) that occurs in one string and not in the other leaves at least one byte of that string
/// unmatched; with no more matches than that allows and no transpositions the Jaro similarity would be largest,
/// and the Winkler boost grows with it.
fn jaro_winkler_bound(x: &[u8], y: &[u8]) -> f64 {
    if x == y {
        return 1.0;
    }
    let mask = |s: &[u8]| s.iter().fold(0u64, |m, c| m | 1 << (c & 63));
    let (in_x, in_y) = (mask(x), mask(y));
    let only = |m: u64| m.count_ones() as usize;
    let matches = (x.len() - only(in_x & !in_y)).min(y.len() - only(in_y & !in_x));
    if matches == 0 {
        return 0.0;
    }
    let m = matches as f64;
    let jaro = (m / x.len() as f64 + m / y.len() as f64 + 1.0) / 3.0;
    let prefix = x.iter().zip(y).take(4).take_while(|(p, q)| p == q).count() as f64;
    jaro + 0.1 * prefix * (1.0 - jaro)
}

/// Jaro similarity of two byte strings of at most 64 bytes, bit-parallel: a mask of each byte's positions in
/// `y` turns the search for the first unmatched equal byte inside the window into a few bit operations.
fn jaro_bytes(x: &[u8], y: &[u8]) -> f64 {
    if x.is_empty() || y.is_empty() {
        return 0.0;
    }
    let mut positions = [0u64; 128];
    for (j, c) in y.iter().enumerate() {
        positions[usize::from(c & 0x7F)] |= 1 << j;
    }
    let window = (x.len().max(y.len()) / 2).saturating_sub(1);
    // The window of byte i of x is positions i - window ..= i + window of y: the bits below its upper end, without
    // those below its lower end. Both edges move up one position per byte (the lower one once past `window`).
    let ones = |n: usize| if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
    let in_y = ones(y.len());
    let mut below_hi = ones(window + 1) & in_y;
    let mut below_lo = 0u64;
    let (mut x_matched, mut y_matched) = (0u64, 0u64);
    for (i, c) in x.iter().enumerate() {
        if i > 0 {
            below_hi = (below_hi << 1 | 1) & in_y;
            if i > window {
                below_lo = below_lo << 1 | 1;
            }
        }
        let in_window = below_hi & !below_lo;
        let candidates = positions[usize::from(c & 0x7F)] & !y_matched & in_window;
        if candidates != 0 {
            y_matched |= candidates & candidates.wrapping_neg();
            x_matched |= 1 << i;
        }
    }
    let matches = x_matched.count_ones();
    if matches == 0 {
        return 0.0;
    }
    // Transpositions: the matched bytes of x and of y, each in order, that differ.
    let (mut xs, mut ys, mut half_transpositions) = (x_matched, y_matched, 0u32);
    while xs != 0 {
        let (i, j) = (xs.trailing_zeros() as usize, ys.trailing_zeros() as usize);
        half_transpositions += u32::from(x[i] != y[j]);
        xs &= xs - 1;
        ys &= ys - 1;
    }
    let m = f64::from(matches);
    (m / x.len() as f64 + m / y.len() as f64 + (m - f64::from(half_transpositions / 2)) / m) / 3.0
}

/// The edit distance if it is at most `k`, otherwise `k + 1`: only the band of cells within `k` of the
/// diagonal is computed, and the computation stops as soon as a whole row exceeds `k`.
pub fn edit_distance_at_most(a: &str, b: &str, k: usize) -> usize {
    if a == b {
        return 0;
    }
    let (x, y) = (a.as_bytes(), b.as_bytes());
    if x.len().abs_diff(y.len()) > k {
        return k + 1;
    }
    if !a.is_ascii() || !b.is_ascii() || x.len() >= MAX || y.len() >= MAX {
        return strsim::osa_distance(a, b).min(k + 1);
    }
    match k {
        0 => 1,
        1 => one_edit_apart(x, y),
        _ => bounded_bytes(x, y, k),
    }
}

/// For different byte strings whose lengths differ by at most one: 1 when one substitution, insertion, deletion
/// or adjacent transposition makes them equal, else 2. A single pass from the first difference (the question
/// most comparisons ask: emails, phone numbers, postcodes one typo apart).
fn one_edit_apart(x: &[u8], y: &[u8]) -> usize {
    let first = x.iter().zip(y).take_while(|(p, q)| p == q).count();
    let one = if x.len() == y.len() {
        let substituted = x.get(first + 1..) == y.get(first + 1..);
        let transposed = first + 1 < x.len()
            && x[first] == y[first + 1]
            && x[first + 1] == y[first]
            && x[first + 2..] == y[first + 2..];
        substituted || transposed
    } else {
        let (long, short) = if x.len() > y.len() { (x, y) } else { (y, x) };
        long[first + 1..] == short[first..]
    };
    if one { 1 } else { 2 }
}

/// [`edit_distance_at_most`] on byte strings shorter than 64 bytes. Cells are bytes (a distance here is below
/// 64), so the three rows fit in a few cache lines; a row's cells are written only within the band and at its
/// left edge (cells the next rows read), not reset whole.
pub fn bounded_bytes(x: &[u8], y: &[u8], k: usize) -> usize {
    let (x, y) = (&x[..x.len().min(MAX - 1)], &y[..y.len().min(MAX - 1)]);
    // No distance between these strings exceeds 63, so a larger bound changes nothing.
    let k = k.min(MAX);
    let far = (k + 1) as u8;
    // Lengths further apart than the bound: the last cell would lie outside the band.
    if x.len().abs_diff(y.len()) > k {
        return usize::from(far);
    }
    let mut rows = [[far; MAX + 1]; 3];
    for (j, slot) in rows[0].iter_mut().enumerate().take(y.len().min(k) + 1) {
        *slot = j as u8;
    }
    for i in 1..=x.len() {
        let (c, p, t) = (i % 3, (i + 2) % 3, (i + 1) % 3);
        let lo = i.saturating_sub(k).max(1);
        let hi = (i + k).min(y.len());
        // The row was used three rows ago, for a band three cells to the left: the cell left of this band still
        // holds a value from then. Cells right of the band were never written (bands only move right).
        rows[c][0] = if i <= k { i as u8 } else { far };
        if lo > 1 {
            rows[c][lo - 1] = far;
        }
        let mut row_min = rows[c][0];
        for j in lo..=hi {
            let cost = u8::from(x[i - 1] != y[j - 1]);
            let mut best = (rows[p][j] + 1).min(rows[c][j - 1] + 1).min(rows[p][j - 1] + cost);
            if i > 1 && j > 1 && x[i - 1] == y[j - 2] && x[i - 2] == y[j - 1] {
                best = best.min(rows[t][j - 2] + 1);
            }
            rows[c][j] = best.min(far);
            row_min = row_min.min(rows[c][j]);
        }
        if row_min > k as u8 {
            return usize::from(far);
        }
    }
    usize::from(rows[x.len() % 3][y.len()].min(far))
}

/// Damerau–Levenshtein distance, restricted (optimal string alignment: adjacent transpositions count as one).
/// A distance never exceeds the longer length, so the banded computation with that bound is exact.
pub fn edit_distance(a: &str, b: &str) -> usize {
    edit_distance_at_most(a, b, a.len().max(b.len()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        assert!((jaro_winkler("martha", "marhta") - 0.961).abs() < 0.001);
        assert_eq!(jaro_winkler("", ""), 1.0);
        assert_eq!(jaro_winkler("abc", ""), 0.0);
        assert_eq!(edit_distance("19560409", "19560490"), 1);
        assert_eq!(edit_distance("abc", "abd"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_strsim(a in "[a-e ]{0,12}", b in "[a-e ]{0,12}") {
            let ours = jaro_winkler(&a, &b);
            let theirs = strsim::jaro_winkler(&a, &b);
            proptest::prop_assert!((ours - theirs).abs() < 1e-9, "jw({a:?}, {b:?}) = {ours} vs {theirs}");
            proptest::prop_assert_eq!(edit_distance(&a, &b), strsim::osa_distance(&a, &b));
        }

        #[test]
        fn jaro_winkler_agrees_on_longer_strings(a in "[a-z ]{0,63}", b in "[a-z ]{0,63}") {
            let ours = jaro_winkler(&a, &b);
            let theirs = strsim::jaro_winkler(&a, &b);
            proptest::prop_assert!((ours - theirs).abs() < 1e-9, "jw({a:?}, {b:?}) = {ours} vs {theirs}");
        }

        /// The bounded similarity is the similarity wherever it reaches the floor, and below the floor elsewhere;
        /// strings share most of their letters so that the bound is near the similarity.
        #[test]
        fn bounded_similarity_is_exact_from_its_floor(
            a in "[a-f]{0,10}",
            b in "[a-f]{0,10}",
            unicode in "\\PC{0,6}",
            digits in "[0-3p-s]{0,8}",
            floor in 0.0f64..1.0,
        ) {
            // Digits and the letters p to s fall on the same bits of the mask.
            let pairs = [(a.as_str(), b.as_str()), (a.as_str(), unicode.as_str()), (digits.as_str(), b.as_str())];
            for (a, b) in pairs {
                let (bounded, jw) = (jaro_winkler_from(a, b, floor), jaro_winkler(a, b));
                if jw >= floor {
                    proptest::prop_assert_eq!(bounded, jw, "{:?} {:?} from {}", a, b, floor);
                } else {
                    proptest::prop_assert!(bounded < floor, "{:?} {:?} from {}: {} {}", a, b, floor, bounded, jw);
                }
                if a.is_ascii() && b.is_ascii() {
                    proptest::prop_assert!(jaro_winkler_bound(a.as_bytes(), b.as_bytes()) >= jw - BOUND_MARGIN);
                }
            }
        }

        #[test]
        fn bounded_distance_agrees(a in "[a-d]{0,10}", b in "[a-d]{0,10}", k in 0usize..4) {
            proptest::prop_assert_eq!(edit_distance_at_most(&a, &b, k), strsim::osa_distance(&a, &b).min(k + 1));
        }

        /// Strings one or two edits from each other (the one-edit check's hard cases) and the banded rows' reuse
        /// over long strings, against the full computation.
        #[test]
        fn near_strings_agree(
            a in "[ab]{0,40}",
            edits in proptest::collection::vec((0usize..4, 0usize..40, "[abc]"), 0..3),
            k in 0usize..5,
        ) {
            let mut b = a.clone().into_bytes();
            for (op, at, c) in &edits {
                let at = at % (b.len() + 1);
                match op {
                    0 if at < b.len() => b[at] = c.as_bytes()[0],
                    1 => b.insert(at, c.as_bytes()[0]),
                    2 if at < b.len() => { b.remove(at); }
                    3 if at + 1 < b.len() => b.swap(at, at + 1),
                    _ => {}
                }
            }
            let b = String::from_utf8(b).expect("ascii");
            let full = strsim::osa_distance(&a, &b);
            proptest::prop_assert_eq!(edit_distance_at_most(&a, &b, k), full.min(k + 1));
            proptest::prop_assert_eq!(bounded_bytes(a.as_bytes(), b.as_bytes(), k), full.min(k + 1));
        }

        #[test]
        fn long_and_unicode_inputs_fall_back(a in "\\PC{0,80}", b in "\\PC{0,80}") {
            proptest::prop_assert!((jaro_winkler(&a, &b) - strsim::jaro_winkler(&a, &b)).abs() < 1e-9);
            proptest::prop_assert_eq!(edit_distance(&a, &b), strsim::osa_distance(&a, &b));
        }
    }
}
