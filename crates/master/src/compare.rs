//! Field comparisons with graded levels. Level 0 always means "missing on either side" (no evidence);
//! level 1 is the strongest agreement, the last level is "different". Every function here is pure and cheap.

use crate::features::{Features, split_at_byte, user_is_name};
use crate::names::{are_aliases, initial_fits};
use crate::similarity::{bounded_bytes, edit_distance_at_most, jaro_winkler_from};
use serde::{Deserialize, Serialize};

/// Most comparisons one model can hold (seven built-in plus identifiers).
pub const MAX_COMPARISONS: usize = 16;

/// The level of each comparison for one pair, in model order.
pub type Levels = [u8; MAX_COMPARISONS];

/// What is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ComparisonKind {
    /// Given names and initials.
    GivenName,
    /// Family names.
    FamilyName,
    /// Birth dates.
    BirthDate,
    /// Postal address: postcode, street, house number, city together (they are not independent).
    Address,
    /// Email addresses.
    Email,
    /// Phone numbers.
    Phone,
    /// Organisation names.
    Organisation,
    /// One named identifier (index into the model's identifier names).
    Identifier(u16),
}

impl ComparisonKind {
    /// Labels of levels 1.. (level 0 is "missing").
    pub fn level_labels(self) -> &'static [&'static str] {
        match self {
            ComparisonKind::GivenName => &[
                "exact",
                "jaro-winkler >= 0.92",
                "alias, or another given name agrees",
                "jaro-winkler >= 0.80",
                "two or more initials agree",
                "first initial compatible",
                "different",
            ],
            ComparisonKind::FamilyName => &["exact", "jaro-winkler >= 0.92", "jaro-winkler >= 0.80", "different"],
            ComparisonKind::BirthDate => {
                &["exact", "one digit off or day/month swapped", "two digits off or same year and month", "different"]
            }
            ComparisonKind::Address => &[
                "same house (postcode or street, and number)",
                "same house number, postcode or street one typo off",
                "same postcode or street, house number near",
                "same postcode or street, other or no house number",
                "same city",
                "different",
            ],
            ComparisonKind::Email => &[
                "exact",
                "exact, the user name is the person's name",
                "same user name, or one edit",
                "same user name made of the name, or one edit",
                "different",
            ],
            ComparisonKind::Phone => &["exact", "one digit off", "different"],
            ComparisonKind::Organisation => &["exact", "jaro-winkler >= 0.90", "different"],
            ComparisonKind::Identifier(_) => &["exact", "one edit", "two edits", "different"],
        }
    }

    /// Typical m-probabilities of levels 1.. in customer data: the prior EM starts from and shrinks towards.
    pub fn default_m(self) -> &'static [f64] {
        match self {
            ComparisonKind::GivenName => &[0.68, 0.07, 0.05, 0.04, 0.03, 0.08, 0.05],
            ComparisonKind::FamilyName => &[0.85, 0.08, 0.03, 0.04],
            ComparisonKind::BirthDate => &[0.90, 0.06, 0.02, 0.02],
            ComparisonKind::Address => &[0.70, 0.05, 0.04, 0.06, 0.05, 0.10],
            ComparisonKind::Email => &[0.60, 0.25, 0.04, 0.01, 0.10],
            ComparisonKind::Phone => &[0.80, 0.02, 0.18],
            ComparisonKind::Organisation => &[0.80, 0.10, 0.10],
            ComparisonKind::Identifier(_) => &[0.90, 0.05, 0.01, 0.04],
        }
    }

    /// Typical h-probabilities of levels 1.. for related pairs (same household or family, different person):
    /// contact data and family name agree, given name and birth date do not. The prior of the third class.
    pub fn default_h(self) -> &'static [f64] {
        match self {
            ComparisonKind::GivenName => &[0.03, 0.01, 0.01, 0.03, 0.01, 0.10, 0.81],
            ComparisonKind::FamilyName => &[0.70, 0.03, 0.02, 0.25],
            ComparisonKind::BirthDate => &[0.001, 0.01, 0.05, 0.939],
            ComparisonKind::Address => &[0.80, 0.02, 0.02, 0.03, 0.03, 0.10],
            ComparisonKind::Email => &[0.04, 0.01, 0.01, 0.01, 0.93],
            ComparisonKind::Phone => &[0.40, 0.01, 0.59],
            ComparisonKind::Organisation => &[0.30, 0.05, 0.65],
            ComparisonKind::Identifier(_) => &[0.001, 0.01, 0.01, 0.979],
        }
    }

    /// True for comparisons of who a person is (given name, birth date, identifiers), as opposed to data a
    /// household shares (family name, address, phone, email, organisation). The related class is defined by
    /// disagreeing on these: its h for them is fixed, never learned, which keeps the class identifiable.
    pub fn is_identity(self) -> bool {
        matches!(self, ComparisonKind::GivenName | ComparisonKind::BirthDate | ComparisonKind::Identifier(_))
    }

    /// Typical u-probabilities of levels 1.. for random pairs: the prior that few random pairs are shrunk towards.
    pub fn default_u(self) -> &'static [f64] {
        match self {
            ComparisonKind::GivenName => &[0.01, 0.005, 0.002, 0.02, 0.002, 0.04, 0.921],
            ComparisonKind::FamilyName => &[0.005, 0.002, 0.01, 0.983],
            ComparisonKind::BirthDate => &[5e-5, 2e-3, 2e-2, 0.97795],
            ComparisonKind::Address => &[1e-5, 1e-5, 1e-4, 1e-3, 0.03, 0.96889],
            ComparisonKind::Email => &[1e-6, 1e-6, 1e-4, 1e-4, 0.999798],
            ComparisonKind::Phone => &[1e-6, 1e-5, 0.999989],
            ComparisonKind::Organisation => &[1e-3, 1e-3, 0.998],
            ComparisonKind::Identifier(_) => &[1e-6, 1e-5, 1e-4, 0.999889],
        }
    }

    /// Number of levels including level 0.
    pub fn n_levels(self) -> usize {
        self.level_labels().len() + 1
    }

    /// Display name; identifiers take their configured name.
    pub fn name(self, identifier_names: &[String]) -> String {
        match self {
            ComparisonKind::GivenName => "given_name".into(),
            ComparisonKind::FamilyName => "family_name".into(),
            ComparisonKind::BirthDate => "birth_date".into(),
            ComparisonKind::Address => "address".into(),
            ComparisonKind::Email => "email".into(),
            ComparisonKind::Phone => "phone".into(),
            ComparisonKind::Organisation => "organisation".into(),
            ComparisonKind::Identifier(i) => {
                format!("identifier:{}", identifier_names.get(usize::from(i)).map_or("?", String::as_str))
            }
        }
    }

    /// True when the record has a value this comparison can use.
    pub fn present(self, f: &Features) -> bool {
        match self {
            ComparisonKind::GivenName => f.has_given() || f.has_initials(),
            ComparisonKind::FamilyName => f.has_family(),
            ComparisonKind::BirthDate => f.has_birth(),
            ComparisonKind::Address => f.has_address(),
            ComparisonKind::Email => f.has_email(),
            ComparisonKind::Phone => f.has_phone(),
            ComparisonKind::Organisation => f.has_organisation(),
            ComparisonKind::Identifier(i) => !f.identifier(i).is_empty(),
        }
    }
}

/// Compares two records on every comparison of the model.
pub fn compare_all(kinds: &[ComparisonKind], a: &Features, b: &Features) -> Levels {
    let mut levels = [0u8; MAX_COMPARISONS];
    for (slot, kind) in levels.iter_mut().zip(kinds) {
        *slot = compare(*kind, a, b);
    }
    // Given and family name swapped between the two records (with a typo at most): compare them crosswise.
    let g = kinds.iter().position(|k| *k == ComparisonKind::GivenName);
    let f = kinds.iter().position(|k| *k == ComparisonKind::FamilyName);
    if let (Some(g), Some(f)) = (g, f)
        && levels[g] >= 4
        && levels[f] >= 3
        && a.has_given()
        && b.has_given()
        && a.has_family()
        && b.has_family()
    {
        // Levels 1, 2, 3: exact, Jaro–Winkler >= 0.92, >= 0.80. One name may be further off when the other is exact.
        let given = banded(a.given_first(), b.family(), &[0.92, 0.80]);
        let family = banded(a.family(), b.given_first(), &[0.92, 0.80]);
        if given.max(family) <= 2 || (given.min(family) == 1 && given.max(family) == 3) {
            levels[g] = if given == 3 { 4 } else { given };
            levels[f] = family;
        }
    }
    levels
}

/// Compares two records on one comparison.
pub fn compare(kind: ComparisonKind, a: &Features, b: &Features) -> u8 {
    if !kind.present(a) || !kind.present(b) {
        return 0;
    }
    match kind {
        ComparisonKind::GivenName => given_level(a, b),
        ComparisonKind::FamilyName => banded(a.family(), b.family(), &[0.92, 0.80]),
        ComparisonKind::BirthDate => birth_level(a.birth, b.birth),
        ComparisonKind::Address => address_level(a, b),
        ComparisonKind::Email => email_level(a, b),
        ComparisonKind::Phone => phone_level(a, b),
        ComparisonKind::Organisation => banded(a.organisation(), b.organisation(), &[0.90]),
        ComparisonKind::Identifier(i) => match edit_distance_at_most(a.identifier(i), b.identifier(i), 2) {
            0 => 1,
            1 => 2,
            2 => 3,
            _ => 4,
        },
    }
}

/// Exact = 1, then one level per Jaro–Winkler band, then "different".
fn banded(a: &str, b: &str, bands: &[f64]) -> u8 {
    if a == b {
        return 1;
    }
    let jw = jaro_winkler_from(a, b, bands.last().copied().unwrap_or(0.0));
    let band = bands.iter().position(|t| jw >= *t).unwrap_or(bands.len());
    band as u8 + 2
}

fn given_level(a: &Features, b: &Features) -> u8 {
    if a.has_given() && b.has_given() {
        if a.given_first() == b.given_first() || a.given() == b.given() {
            return 1;
        }
        let jw = jaro_winkler_from(a.given_first(), b.given_first(), 0.80);
        if jw >= 0.92 {
            return 2;
        }
        // Kees and Cornelis; or "Anna Maria" and "Maria".
        let names = |f| split_at_byte(Features::given(f), b' ');
        let shared = names(a).any(|x| names(b).any(|y| x == y || are_aliases(x, y)));
        return if shared {
            3
        } else if jw >= 0.80 {
            4
        } else {
            7
        };
    }
    // Two or more initials that all agree ("R.D." and "R.D.", or "R.D." and Rob Dirk) say more than a first letter.
    if a.initials().len() >= 2 && a.initials() == b.initials() {
        return 5;
    }
    // At least one side has initials only: compatible when the first letter fits the other's name or an alias.
    let fits = |initials: &Features, named: &Features| match initials.initials().chars().next() {
        Some(i) if !named.given_first().is_empty() => initial_fits(i, named.given_first()),
        Some(i) => named.initials().starts_with(i),
        None => false,
    };
    let compatible = if a.given_first().is_empty() { fits(a, b) } else { fits(b, a) };
    if compatible { 6 } else { 7 }
}

fn birth_level(a: u32, b: u32) -> u8 {
    if a == b {
        return 1;
    }
    let (ya, ma, da) = (a / 10_000, a / 100 % 100, a % 100);
    let (yb, mb, db) = (b / 10_000, b / 100 % 100, b % 100);
    let swapped = ya == yb && ma == db && da == mb;
    let digits = date_distance(&date_digits(a), &date_digits(b));
    if swapped || digits <= 1 {
        2
    } else if digits <= 2 || (ya == yb && ma == mb) {
        3
    } else {
        4
    }
}

/// The edit distance of two dates' eight digits if it is at most 2, otherwise 3, mostly without the banded
/// computation. Digits that differ in one or two places settle it. Differing in three or more, two edits can only
/// be a transposition and one more edit, or a deletion and an insertion: each leaves at most one digit more on
/// either side (a transposition none), so more than one settles it as 3 — most compared pairs, whose dates are
/// far apart.
fn date_distance(x: &[u8; 8], y: &[u8; 8]) -> usize {
    let differing = x.iter().zip(y).filter(|(p, q)| p != q).count();
    if differing <= 1 {
        return differing;
    }
    if differing == 2 {
        // Two substitutions, or one transposition of neighbours.
        let first = x.iter().zip(y).position(|(p, q)| p != q).unwrap_or(0);
        let transposed = first + 1 < x.len() && x[first] == y[first + 1] && x[first + 1] == y[first];
        return if transposed { 1 } else { 2 };
    }
    let mut counts = [0i8; 10];
    for (p, q) in x.iter().zip(y) {
        counts[usize::from(p.wrapping_sub(b'0')).min(9)] += 1;
        counts[usize::from(q.wrapping_sub(b'0')).min(9)] -= 1;
    }
    let surplus: i32 = counts.iter().map(|c| i32::from((*c).max(0))).sum();
    if surplus > 1 { 3 } else { bounded_bytes(x, y, 2) }
}

/// YYYYMMDD as eight ASCII digits, on the stack.
fn date_digits(mut date: u32) -> [u8; 8] {
    let mut out = [b'0'; 8];
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (date % 10) as u8;
        date /= 10;
    }
    out
}

fn address_level(a: &Features, b: &Features) -> u8 {
    let both = |x: &str, y: &str| !x.is_empty() && !y.is_empty();
    let has_pc = both(a.postcode(), b.postcode());
    let pc_eq = has_pc && a.postcode() == b.postcode();
    let has_street = both(a.street(), b.street());
    let street_eq = has_street && a.street() == b.street();
    let has_city = both(a.city(), b.city());
    // Similarities are computed only when a level needs them: most compared pairs are far apart.
    let street_near = || street_eq || (has_street && jaro_winkler_from(a.street(), b.street(), 0.92) >= 0.92);
    let city_eq = || has_city && (a.city() == b.city() || jaro_winkler_from(a.city(), b.city(), 0.92) >= 0.92);
    let city_ok = || !has_city || city_eq();
    let has_house = both(a.house(), b.house());
    let additions_ok = a.addition() == b.addition() || a.addition().is_empty() || b.addition().is_empty();
    let house_eq = has_house && a.house() == b.house() && additions_ok;
    if house_eq {
        if (pc_eq && (!has_street || street_near())) || (!has_pc && street_eq && city_ok()) {
            return 1;
        }
        let pc_near = has_pc && !pc_eq && edit_distance_at_most(a.postcode(), b.postcode(), 1) <= 1;
        if pc_eq || pc_near || (street_near() && city_ok()) {
            return 2;
        }
    }
    if pc_eq || ((has_city || has_pc) && street_near() && city_ok()) {
        // 46 and 48, or 46A and 46B: a typo or a neighbour.
        let near = has_house
            && match (a.house().parse::<u32>(), b.house().parse::<u32>()) {
                (Ok(x), Ok(y)) => x.abs_diff(y) <= 2,
                _ => false,
            };
        if near { 3 } else { 4 }
    } else if city_eq() {
        5
    } else {
        6
    }
}

/// Emails agree exactly (1, or 2 when the user name is made of the name), on the user name or by one edit
/// (3, or 4 when made of the name), or not at all (5). A user name that spells the names both records already
/// agree on says little beyond them: namesakes share it often, so those agreements are levels of their own.
/// When one record has less of the name (an initial), the user name still tells who it is.
fn email_level(a: &Features, b: &Features) -> u8 {
    let user = |e: &str| -> usize { e.bytes().position(|c| c == b'@').unwrap_or(e.len()) };
    let own = |f: &Features, i: usize| i < 32 && f.named_emails & (1 << i) != 0;
    let spells = |f: &Features, e: &str| user_is_name(&e[..user(e)], f.given_first(), f.initials(), f.family());
    let mut best = 5;
    for (i, x) in a.emails().enumerate() {
        for (j, y) in b.emails().enumerate() {
            let agree = x == y || x[..user(x)] == y[..user(y)] || edit_distance_at_most(x, y, 1) <= 1;
            if !agree {
                continue;
            }
            let by_name = (own(a, i) || spells(a, y)) && (own(b, j) || spells(b, x));
            if x == y {
                best = best.min(if by_name { 2 } else { 1 });
            } else {
                // Same user name elsewhere, or one typo. Not general string similarity: addresses built from a
                // name ("lisa.stone58" and "lisa.stone359") are similar for namesakes too.
                best = best.min(if by_name { 4 } else { 3 });
            }
        }
    }
    best
}

fn phone_level(a: &Features, b: &Features) -> u8 {
    let mut best = 3;
    for x in a.phones() {
        for y in b.phones() {
            if x == y {
                return 1;
            }
            if x.len() == y.len() && edit_distance_at_most(x, y, 1) <= 1 {
                best = 2;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::FeatureValues;
    use ComparisonKind as C;

    fn person(given: &str, family: &str, birth: u32) -> Features {
        FeatureValues {
            given: given.into(),
            initials: given.chars().next().map(|c| c.to_string()).unwrap_or_default(),
            family: family.into(),
            birth,
            ..FeatureValues::default()
        }
        .pack()
    }

    #[test]
    fn names() {
        let henk = person("henk", "vries", 0);
        assert_eq!(compare(C::GivenName, &henk, &person("henk", "x", 0)), 1);
        assert_eq!(compare(C::GivenName, &henk, &person("hekn", "x", 0)), 2);
        let initial_only =
            FeatureValues { initials: "hj".into(), family: "vries".into(), ..FeatureValues::default() }.pack();
        assert_eq!(compare(C::GivenName, &henk, &initial_only), 6);
        assert_eq!(compare(C::GivenName, &person("jan", "x", 0), &initial_only), 7);
        let hj = FeatureValues { initials: "hj".into(), family: "x".into(), ..FeatureValues::default() }.pack();
        assert_eq!(compare(C::GivenName, &initial_only, &hj), 5, "all initials agree");
        assert_eq!(compare(C::GivenName, &person("kees", "x", 0), &person("cornelis", "x", 0)), 3);
        assert_eq!(compare(C::GivenName, &person("anna maria", "x", 0), &person("maria", "x", 0)), 3);
        let c_only = FeatureValues { initials: "c".into(), family: "x".into(), ..FeatureValues::default() }.pack();
        assert_eq!(compare(C::GivenName, &person("kees", "x", 0), &c_only), 6, "C. can be Kees (Cornelis)");
        assert_eq!(compare(C::GivenName, &henk, &Features::default()), 0);
        assert_eq!(compare(C::FamilyName, &henk, &person("x", "vries", 0)), 1);
        assert_eq!(compare(C::FamilyName, &henk, &person("x", "jansen", 0)), 4);
        assert_eq!(compare(C::GivenName, &henk, &person("piet", "x", 0)), 7);
    }

    #[test]
    fn swapped_names_agree() {
        let kinds = [C::GivenName, C::FamilyName];
        let levels = compare_all(&kinds, &person("henk", "vries", 0), &person("vries", "henk", 0));
        assert_eq!(&levels[..2], &[1, 1]);
        // Swapped with a typo: "sullivan coarles" is Charles Sullivan.
        let levels = compare_all(&kinds, &person("charles", "sullivan", 0), &person("sulivan", "charles", 0));
        assert_eq!(&levels[..2], &[1, 2]);
        let levels = compare_all(&kinds, &person("charles", "sullivan", 0), &person("sullivan", "coarles", 0));
        assert_eq!(&levels[..2], &[4, 1]);
        // Not swapped, just different people.
        let levels = compare_all(&kinds, &person("henk", "vries", 0), &person("vries", "hanna", 0));
        assert_eq!(&levels[..2], &[7, 4]);
    }

    #[test]
    fn date_distance_is_the_bounded_edit_distance() {
        let dates =
            [19610403, 19610304, 19610408, 19610420, 19750911, 19160403, 19614003, 19601403, 20010101, 10010101];
        for a in dates {
            for b in dates {
                let (x, y) = (date_digits(a), date_digits(b));
                assert_eq!(date_distance(&x, &y), bounded_bytes(&x, &y, 2), "{a} {b}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn date_distance_agrees_with_the_banded_one(
            a in 0u32..100_000_000,
            edits in proptest::collection::vec((0usize..3, 0usize..8, 0u8..10), 0..3),
        ) {
            // Dates near each other (a few digit edits apart) as well as far apart.
            let x = date_digits(a);
            let mut y = x;
            for (op, at, d) in edits {
                match op {
                    0 => y[at] = b'0' + d,
                    1 if at + 1 < 8 => y.swap(at, at + 1),
                    _ => { y.copy_within(at..7, at + 1); y[at] = b'0' + d; }
                }
            }
            proptest::prop_assert_eq!(date_distance(&x, &y), bounded_bytes(&x, &y, 2));
            let far = date_digits(a.wrapping_mul(2_654_435_761) % 100_000_000);
            proptest::prop_assert_eq!(date_distance(&x, &far), bounded_bytes(&x, &far, 2));
        }
    }

    #[test]
    fn birth_dates() {
        assert_eq!(birth_level(19610403, 19610403), 1);
        assert_eq!(birth_level(19610403, 19610304), 2);
        assert_eq!(birth_level(19610403, 19610408), 2);
        assert_eq!(birth_level(19610403, 19610420), 3);
        assert_eq!(birth_level(19610403, 19750911), 4);
    }

    fn home(postcode: &str, street: &str, house: &str, addition: &str, city: &str) -> Features {
        FeatureValues {
            postcode: postcode.into(),
            street: street.into(),
            house: house.into(),
            addition: addition.into(),
            city: city.into(),
            ..FeatureValues::default()
        }
        .pack()
    }

    #[test]
    fn addresses() {
        let a = home("6824ab", "velperbroek", "46", "a", "arnhem");
        assert_eq!(address_level(&a, &home("6824ab", "velperbroek", "46", "", "arnhem")), 1);
        assert_eq!(address_level(&a, &home("", "velperbroek", "46", "a", "arnhem")), 1);
        assert_eq!(address_level(&a, &home("6842ab", "velperbroek", "46", "a", "arnhem")), 2);
        assert_eq!(address_level(&a, &home("6824ab", "velperbroek", "48", "", "arnhem")), 3);
        assert_eq!(address_level(&a, &home("6824ab", "velperbroek", "46", "b", "arnhem")), 3);
        assert_eq!(address_level(&a, &home("6824ab", "velperbroek", "112", "", "arnhem")), 4);
        assert_eq!(address_level(&a, &home("6811aa", "kerkstraat", "1", "", "arnhem")), 5);
        assert_eq!(address_level(&a, &home("1011aa", "damrak", "1", "", "amsterdam")), 6);
        assert_eq!(compare(C::Address, &a, &Features::default()), 0);
    }

    #[test]
    fn contacts() {
        let e = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mail = |v: &[&str], named_emails: u32, given: &str| {
            FeatureValues {
                emails: e(v),
                named_emails,
                given: given.into(),
                initials: given.get(..1).unwrap_or_default().into(),
                family: "smit".into(),
                ..FeatureValues::default()
            }
            .pack()
        };
        let anna = |v: &[&str], named| mail(v, named, "anna");
        assert_eq!(email_level(&anna(&["h@x.nl", "a.b@y.nl"], 0), &anna(&["a.b@y.nl"], 0)), 1);
        assert_eq!(email_level(&anna(&["h@x.nl", "anna.smit@y.nl"], 0b10), &anna(&["anna.smit@y.nl"], 1)), 2);
        assert_eq!(email_level(&anna(&["anna.smit7@x.nl"], 0), &anna(&["anna.smit7@y.com"], 0)), 3);
        assert_eq!(email_level(&anna(&["anna.smit@x.nl"], 1), &anna(&["anna.smit@y.com"], 1)), 4);
        assert_eq!(email_level(&anna(&["anna.smit@x.nl"], 1), &anna(&["piet@y.com"], 0)), 5);
        // The typo side does not spell the name, but the other address does, for both records.
        assert_eq!(email_level(&anna(&["anna.smti@x.nl"], 0), &anna(&["anna.smit@x.nl"], 1)), 4);
        // An initial only: the address tells the given name, which the names alone do not.
        assert_eq!(email_level(&anna(&["anna.smit@x.nl"], 1), &mail(&["anna.smit@x.nl"], 0, "")), 1);
        let phones = |v: &[&str]| FeatureValues { phones: e(v), ..FeatureValues::default() }.pack();
        assert_eq!(phone_level(&phones(&["+31612345678"]), &phones(&["+31612345679"])), 2);
        assert_eq!(phone_level(&phones(&["+31612345678"]), &phones(&["+31687654321"])), 3);
        assert_eq!(phone_level(&phones(&["+31687654321", "+31612345678"]), &phones(&["+31612345678"])), 1);
    }
}
