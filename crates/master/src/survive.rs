//! Survivorship: the golden record of one entity. Each attribute is decided by its configured rules in order
//! (trust, recent, complete, frequent), each breaking the ties of the one before; the address is decided as a
//! whole so street, number and postcode always come from one record. Every value keeps its provenance.

use clean::text::fold;
use model::{
    CleanRecord, EntityId, Golden, GoldenValueView, GoldenView, RecordKey, SurvivorshipConfig, SurvivorshipRule,
};
use std::borrow::Cow;

/// One member record as survivorship sees it.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    /// Source and id.
    pub key: &'a RecordKey,
    /// Trust rank of the source.
    pub trust: i32,
    /// When the record last changed (source timestamp, else ingest time), seconds since the epoch.
    pub recency: i64,
    /// The clean record.
    pub record: &'a CleanRecord,
}

/// Reads one attribute's values from a clean record.
type Getter = fn(&CleanRecord) -> &[String];

/// Most parts a candidate value has (the address).
const MAX_PARTS: usize = 5;

/// A candidate value: its parts (one, or the address parts), and the member it comes from.
struct Candidate<'a> {
    parts: [(&'static str, Cow<'a, str>); MAX_PARTS],
    len: usize,
    member: &'a Member<'a>,
}

impl<'a> Candidate<'a> {
    fn one(attribute: &'static str, value: Cow<'a, str>, member: &'a Member<'a>) -> Self {
        let mut parts: [(&'static str, Cow<'a, str>); MAX_PARTS] = Default::default();
        parts[0] = (attribute, value);
        Candidate { parts, len: 1, member }
    }

    fn parts(&self) -> &[(&'static str, Cow<'a, str>)] {
        &self.parts[..self.len]
    }
}

/// The one-valued attributes decided one by one, in the order golden records list them (the birth date after
/// the family name, the address after them all).
const FIELDS: [(&str, Getter); 8] = [
    ("given_name", |r| r.name.given.as_slice()),
    ("initials", |r| r.name.initials.as_slice()),
    ("name_prefix", |r| r.name.prefix.as_slice()),
    ("family_name", |r| r.name.family.as_slice()),
    ("email", |r| &r.emails),
    ("phone", |r| &r.phones),
    ("organisation", |r| r.organisation.as_slice()),
    ("country", |r| r.address.country.as_slice()),
];

/// The survivorship rules of every built-in attribute, looked up in the configuration once rather than by name
/// for every attribute of every golden record (a fifth of making them, at a million records).
#[derive(Debug, Clone)]
pub struct Rules<'c> {
    config: &'c SurvivorshipConfig,
    fields: [&'c [SurvivorshipRule]; FIELDS.len()],
    birth_date: &'c [SurvivorshipRule],
    address: &'c [SurvivorshipRule],
}

impl<'c> Rules<'c> {
    /// The rules `config` sets (or defaults to) for each attribute.
    pub fn new(config: &'c SurvivorshipConfig) -> Self {
        Rules {
            config,
            fields: FIELDS.map(|(attr, _)| config.rules_for(attr)),
            birth_date: config.rules_for("birth_date"),
            address: config.rules_for("address"),
        }
    }
}

/// Builds the golden record of `entity` from its members.
pub fn golden(entity: EntityId, members: &[Member<'_>], config: &SurvivorshipConfig) -> Golden {
    golden_view(entity, members, &Rules::new(config)).to_golden()
}

/// Builds the golden record of `entity` from its members, borrowing the values from them.
pub fn golden_view<'a>(entity: EntityId, members: &'a [Member<'a>], rules: &Rules<'_>) -> GoldenView<'a> {
    let mut values = Vec::with_capacity(16);
    let mut candidates: Vec<Candidate<'a>> = Vec::with_capacity(members.len());
    for (i, ((attr, get), attr_rules)) in FIELDS.into_iter().zip(rules.fields).enumerate() {
        candidates.clear();
        for m in members {
            candidates.extend(get(m.record).iter().map(|v| Candidate::one(attr, Cow::Borrowed(v.as_str()), m)));
        }
        decide(&mut candidates, attr_rules, &mut values);
        // The birth date comes after the family name, as it always has in stored golden records.
        if i == 3 {
            candidates.clear();
            for m in members {
                if let Some(d) = m.record.birth_date {
                    candidates.push(Candidate::one("birth_date", Cow::Owned(d.to_string()), m));
                }
            }
            decide(&mut candidates, rules.birth_date, &mut values);
        }
    }
    candidates.clear();
    for m in members {
        let a = &m.record.address;
        let mut candidate = Candidate { parts: Default::default(), len: 0, member: m };
        for (k, v) in [
            ("street", &a.street),
            ("house_number", &a.house_number),
            ("house_number_addition", &a.addition),
            ("postcode", &a.postcode),
            ("city", &a.city),
        ] {
            if let Some(v) = v {
                candidate.parts[candidate.len] = (k, Cow::Borrowed(v.as_str()));
                candidate.len += 1;
            }
        }
        if candidate.len > 0 {
            candidates.push(candidate);
        }
    }
    decide(&mut candidates, rules.address, &mut values);
    let has_extras = members.iter().any(|m| !m.record.identifiers.is_empty() || !m.record.attributes.is_empty());
    if has_extras {
        extras(members, rules.config, &mut values);
    }
    if members.iter().any(|m| !m.record.consent.is_empty()) {
        consents(members, &mut values);
    }
    GoldenView { entity, values }
}

/// The survivorship rule of consent, as provenance names it.
pub const RESTRICTIVE: &str = "restrictive";

/// Consent per purpose (`consent.email_marketing`), the most restrictive answer winning: `refused` when any
/// member refuses (the most recent refusal is named as the source), `granted` only when every member that
/// answers grants (the most recent grant is named). `consent.<purpose>.at` says when the deciding record was
/// last changed (RFC 3339).
fn consents<'a>(members: &'a [Member<'a>], values: &mut Vec<GoldenValueView<'a>>) {
    let mut purposes: Vec<&'a str> = members.iter().flat_map(|m| m.record.consent.keys().map(String::as_str)).collect();
    purposes.sort_unstable();
    purposes.dedup();
    for purpose in purposes {
        let answers = || members.iter().filter_map(|m| m.record.consent.get(purpose).map(|granted| (*granted, m)));
        let refused = answers().any(|(granted, _)| !granted);
        let deciding = answers()
            .filter(|(granted, _)| *granted != refused)
            .map(|(_, m)| m)
            .max_by(|a, b| a.recency.cmp(&b.recency).then(b.key.cmp(a.key)));
        if let Some(m) = deciding {
            values.push(GoldenValueView {
                attribute: Cow::Owned(format!("consent.{purpose}")),
                value: Cow::Borrowed(if refused { "refused" } else { "granted" }),
                from: m.key,
                rule: RESTRICTIVE,
            });
            values.push(GoldenValueView {
                attribute: Cow::Owned(format!("consent.{purpose}.at")),
                value: Cow::Owned(clean::date::format_timestamp(m.recency)),
                from: m.key,
                rule: RESTRICTIVE,
            });
        }
    }
}

/// Identifiers and extra attributes, each decided on its own.
fn extras<'a>(members: &'a [Member<'a>], config: &SurvivorshipConfig, values: &mut Vec<GoldenValueView<'a>>) {
    let mut names: Vec<(&'static str, &'a str)> = members
        .iter()
        .flat_map(|m| {
            let ids = m.record.identifiers.keys().map(|k| ("identifier", k.as_str()));
            ids.chain(m.record.attributes.keys().map(|k| ("attribute", k.as_str())))
        })
        .collect();
    names.sort();
    names.dedup();
    let mut candidates: Vec<Candidate<'a>> = Vec::with_capacity(members.len());
    for (kind, key) in names {
        let name = format!("{kind}.{key}");
        candidates.clear();
        for m in members {
            let map = if kind == "identifier" { &m.record.identifiers } else { &m.record.attributes };
            if let Some(v) = map.get(key) {
                candidates.push(Candidate::one("", Cow::Borrowed(v.as_str()), m));
            }
        }
        if let Some((winner, rule)) = choose(&candidates, config.rules_for(&name)) {
            let c = &candidates[winner];
            values.push(GoldenValueView {
                attribute: Cow::Owned(name),
                value: c.parts[0].1.clone(),
                from: c.member.key,
                rule,
            });
        }
    }
}

fn decide<'a>(candidates: &mut [Candidate<'a>], rules: &[SurvivorshipRule], out: &mut Vec<GoldenValueView<'a>>) {
    if let Some((winner, rule)) = choose(candidates, rules) {
        let c = &mut candidates[winner];
        let from = c.member.key;
        for (part, value) in c.parts[..c.len].iter_mut() {
            out.push(GoldenValueView { attribute: Cow::Borrowed(*part), value: std::mem::take(value), from, rule });
        }
    }
}

/// Narrows the candidates rule by rule; the rule named is the first that set the winner apart. Returns the
/// winner's index.
fn choose(candidates: &[Candidate<'_>], rules: &[SurvivorshipRule]) -> Option<(usize, &'static str)> {
    let first_rule = first_rule(rules);
    match candidates.len() {
        0 => return None,
        // One candidate: no rule sets it apart.
        1 => return Some((0, first_rule)),
        _ => {}
    }
    if candidates[1..].iter().all(|c| c.parts() == candidates[0].parts()) {
        return Some((source_of_equal_values(candidates, rules), first_rule));
    }
    narrow(candidates, rules)
}

/// The rule named when none set the winner apart: the attribute's first.
fn first_rule(rules: &[SurvivorshipRule]) -> &'static str {
    rules.first().map_or("trust", |r| r.name())
}

/// Narrows two or more candidates rule by rule, folding their values to tell which are alike.
fn narrow(candidates: &[Candidate<'_>], rules: &[SurvivorshipRule]) -> Option<(usize, &'static str)> {
    let folded: Vec<String> = candidates
        .iter()
        .map(|c| match c.parts() {
            [(_, value)] => fold(value),
            parts => parts.iter().map(|(_, v)| fold(v)).collect::<Vec<_>>().join("|"),
        })
        .collect();
    let mut alive: Vec<usize> = (0..candidates.len()).collect();
    let mut deciding = None;
    for rule in rules {
        let score = |i: usize| -> i64 {
            let c = &candidates[i];
            match rule {
                SurvivorshipRule::Trust => i64::from(c.member.trust),
                SurvivorshipRule::Recent => c.member.recency,
                SurvivorshipRule::Complete => {
                    let parts = c.len as i64;
                    parts * 10_000 + c.parts().iter().map(|(_, v)| v.chars().count() as i64).sum::<i64>()
                }
                SurvivorshipRule::Frequent => folded.iter().filter(|f| **f == folded[i]).count() as i64,
            }
        };
        let best = alive.iter().map(|i| score(*i)).max()?;
        let before: Vec<&String> = alive.iter().map(|i| &folded[*i]).collect();
        let kept: Vec<usize> = alive.iter().copied().filter(|i| score(*i) == best).collect();
        let distinct_before = count_distinct(before);
        let distinct_after = count_distinct(kept.iter().map(|i| &folded[*i]).collect());
        if deciding.is_none() && distinct_after < distinct_before {
            deciding = Some(rule.name());
        }
        alive = kept;
    }
    // Deterministic final tie-break: the smallest record key.
    let winner = alive.into_iter().min_by(|x, y| candidates[*x].member.key.cmp(candidates[*y].member.key))?;
    Some((winner, deciding.unwrap_or_else(|| first_rule(rules))))
}

/// The candidate the rules pick among values that are all alike (most attributes of duplicate records): no rule
/// sets a value apart, so only the member it is taken from is decided — by the scores of the rules in order (what
/// narrowing rule by rule comes to), then the smallest record key. Equal values are equally complete and frequent.
fn source_of_equal_values(candidates: &[Candidate<'_>], rules: &[SurvivorshipRule]) -> usize {
    let score = |c: &Candidate<'_>, rule: &SurvivorshipRule| match rule {
        SurvivorshipRule::Trust => i64::from(c.member.trust),
        SurvivorshipRule::Recent => c.member.recency,
        SurvivorshipRule::Complete | SurvivorshipRule::Frequent => 0,
    };
    let beats = |x: &Candidate<'_>, y: &Candidate<'_>| {
        let by_rules = rules.iter().map(|r| score(x, r).cmp(&score(y, r))).find(|o| o.is_ne());
        by_rules.unwrap_or_else(|| y.member.key.cmp(x.member.key)).is_gt()
    };
    let mut winner = 0;
    for (i, c) in candidates.iter().enumerate().skip(1) {
        if beats(c, &candidates[winner]) {
            winner = i;
        }
    }
    winner
}

fn count_distinct(mut values: Vec<&String>) -> usize {
    values.sort();
    values.dedup();
    values.len()
}

#[cfg(test)]
mod consent_tests {
    use super::*;

    fn member<'a>(key: &'a RecordKey, recency: i64, record: &'a CleanRecord) -> Member<'a> {
        Member { key, trust: 0, recency, record }
    }

    fn answering(answers: &[(&str, bool)]) -> CleanRecord {
        CleanRecord { consent: answers.iter().map(|(p, g)| (p.to_string(), *g)).collect(), ..CleanRecord::default() }
    }

    #[test]
    fn the_most_restrictive_answer_wins_and_names_its_source() {
        let (crm, shop, bill) = (RecordKey::new("crm", "1"), RecordKey::new("shop", "2"), RecordKey::new("bill", "3"));
        let a = answering(&[("email_marketing", true), ("profiling", true)]);
        let b = answering(&[("email_marketing", false), ("profiling", true)]);
        let c = answering(&[("email_marketing", true)]);
        let members = [member(&crm, 300, &a), member(&shop, 100, &b), member(&bill, 200, &c)];
        let g = golden(EntityId(1), &members, &SurvivorshipConfig::default());
        let consent = |purpose: &str| g.values.iter().find(|v| v.attribute == format!("consent.{purpose}")).cloned();
        let email = consent("email_marketing").expect("email consent");
        // One refusal outweighs two grants, however recent they are.
        assert_eq!(
            (email.value.as_str(), email.from.to_string(), email.rule.as_str()),
            ("refused", "shop:2".into(), "restrictive")
        );
        let profiling = consent("profiling").expect("profiling consent");
        // All who answer grant: the most recent grant is the source.
        assert_eq!((profiling.value.as_str(), profiling.from.to_string()), ("granted", "crm:1".into()));
        assert!(consent("sms").is_none(), "no answer, no consent value");
        let at = consent("email_marketing.at").expect("when");
        assert_eq!((at.value.as_str(), at.from.to_string()), ("1970-01-01T00:01:40Z", "shop:2".into()));
        let silent = CleanRecord::default();
        let none = [member(&crm, 1, &silent)];
        let g = golden(EntityId(2), &none, &SurvivorshipConfig::default());
        assert!(!g.values.iter().any(|v| v.attribute.starts_with("consent.")));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::SurvivorshipConfig;

    fn record(given: &str, email: &str, street: &str, postcode: &str) -> CleanRecord {
        let mut r = CleanRecord::default();
        r.name.given = Some(given.into());
        r.emails = vec![email.into()];
        r.address.street = Some(street.into());
        r.address.postcode = (!postcode.is_empty()).then(|| postcode.into());
        r
    }

    #[test]
    fn equal_values_come_from_the_member_narrowing_would_pick() {
        use model::SurvivorshipRule::{Complete, Frequent, Recent, Trust};
        let keys: Vec<RecordKey> =
            (0..4).map(|i| RecordKey::new(["crm", "shop"][i % 2], (9 - i).to_string())).collect();
        let record = CleanRecord::default();
        // (trust, recency) of four members: ties on trust, on recency and on both.
        let profiles =
            [[(1, 5), (1, 7), (0, 9), (1, 7)], [(0, 1), (0, 1), (0, 1), (0, 1)], [(3, 1), (2, 9), (3, 0), (2, 9)]];
        let orders =
            [vec![Trust, Recent], vec![Recent, Trust], vec![Complete, Frequent], vec![Frequent, Recent, Trust], vec![]];
        for profile in profiles {
            let members: Vec<Member<'_>> = keys
                .iter()
                .zip(profile)
                .map(|(key, (trust, recency))| Member { key, trust, recency, record: &record })
                .collect();
            for parts in [vec!["Anna"], vec!["Velperbroek", "46", "6824 AB"]] {
                let candidates: Vec<Candidate<'_>> = members
                    .iter()
                    .map(|m| {
                        let mut c = Candidate { parts: Default::default(), len: parts.len(), member: m };
                        for (slot, value) in c.parts.iter_mut().zip(&parts) {
                            *slot = ("part", Cow::Borrowed(*value));
                        }
                        c
                    })
                    .collect();
                for rules in &orders {
                    let narrowed = narrow(&candidates, rules).expect("a winner");
                    assert_eq!(choose(&candidates, rules), Some(narrowed), "{profile:?} {rules:?}");
                }
            }
        }
    }

    #[test]
    fn trust_complete_and_extra_attributes() {
        use model::SurvivorshipRule::{Complete, Trust};
        let (k1, k2) = (RecordKey::new("crm", "1"), RecordKey::new("shop", "2"));
        let mut r1 = record("H", "a@x.nl", "Velperbroek", "6824 AB");
        r1.identifiers.insert("crm_id".into(), "C-1".into());
        r1.attributes.insert("tier".into(), "gold".into());
        let mut r2 = record("Hendrik", "b@x.nl", "Velperbroek", "6824 AB");
        r2.attributes.insert("tier".into(), "silver".into());
        let members = [
            Member { key: &k1, trust: 1, recency: 10, record: &r1 },
            Member { key: &k2, trust: 5, recency: 5, record: &r2 },
        ];
        let mut config = SurvivorshipConfig::default();
        config.attributes.insert("given_name".into(), vec![Complete, Trust]);
        config.attributes.insert("email".into(), vec![Trust]);
        config.default = vec![Trust];
        let g = golden(EntityId(1), &members, &config);
        let value = |a: &str| g.values.iter().find(|v| v.attribute == a).expect(a).clone();
        // The longer given name wins by completeness, the trusted source's email by trust.
        assert_eq!((value("given_name").value.as_str(), value("given_name").rule.as_str()), ("Hendrik", "complete"));
        assert_eq!((value("email").value.as_str(), value("email").from.to_string()), ("b@x.nl", "shop:2".to_string()));
        // Identifiers and extra attributes survive too, with their own provenance.
        assert_eq!(
            (value("identifier.crm_id").value.as_str(), value("identifier.crm_id").from.to_string()),
            ("C-1", "crm:1".to_string())
        );
        assert_eq!(value("attribute.tier").value, "silver");
    }

    #[test]
    fn rules_decide_and_keep_provenance() {
        let (k1, k2, k3) = (RecordKey::new("crm", "1"), RecordKey::new("shop", "9"), RecordKey::new("desk", "4"));
        let (r1, r2, r3) = (
            record("Henk", "old@x.nl", "Velperbroek", "6824 AB"),
            record("Henk", "new@x.nl", "Kerkstraat", ""),
            record("Hank", "mid@x.nl", "Velperbroek", "6824 AB"),
        );
        let members = [
            Member { key: &k1, trust: 3, recency: 100, record: &r1 },
            Member { key: &k2, trust: 1, recency: 300, record: &r2 },
            Member { key: &k3, trust: 2, recency: 200, record: &r3 },
        ];
        let g = golden(EntityId(7), &members, &SurvivorshipConfig::default());
        // Names: most frequent first.
        assert_eq!(g.get("given_name"), Some("Henk"));
        let given = g.values.iter().find(|v| v.attribute == "given_name").expect("given");
        assert_eq!(given.rule, "frequent");
        // Contact data: most recent first.
        assert_eq!(g.get("email"), Some("new@x.nl"));
        // The address is taken whole from one record: street and (absent) postcode together.
        assert_eq!(g.get("street"), Some("Kerkstraat"));
        assert_eq!(g.get("postcode"), None);
        let street = g.values.iter().find(|v| v.attribute == "street").expect("street");
        assert_eq!((street.from.to_string(), street.rule.as_str()), ("shop:9".to_string(), "recent"));
    }
}
