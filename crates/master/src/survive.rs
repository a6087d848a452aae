//! Survivorship: the golden record of one entity. Each attribute is decided by its configured rules in order
//! (trust, recent, complete, frequent), each breaking the ties of the one before; the address is decided as a
//! whole so street, number and postcode always come from one record. Every value keeps its provenance.

use clean::text::fold;
use model::{CleanRecord, EntityId, Golden, GoldenValue, RecordKey, SurvivorshipConfig, SurvivorshipRule};

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
type Getter = fn(&CleanRecord) -> Vec<String>;

/// A candidate value: its parts (one, or the address parts), and the member it comes from.
struct Candidate<'a> {
    parts: Vec<(&'static str, String)>,
    member: &'a Member<'a>,
}

/// Builds the golden record of `entity` from its members.
pub fn golden(entity: EntityId, members: &[Member<'_>], config: &SurvivorshipConfig) -> Golden {
    let mut values = Vec::new();
    let single = |attr: &'static str, get: Getter| -> Vec<Candidate<'_>> {
        members
            .iter()
            .flat_map(|m| get(m.record).into_iter().map(move |v| Candidate { parts: vec![(attr, v)], member: m }))
            .collect()
    };
    let fields: [(&'static str, Getter); 9] = [
        ("given_name", |r| r.name.given.iter().cloned().collect()),
        ("initials", |r| r.name.initials.iter().cloned().collect()),
        ("name_prefix", |r| r.name.prefix.iter().cloned().collect()),
        ("family_name", |r| r.name.family.iter().cloned().collect()),
        ("birth_date", |r| r.birth_date.iter().map(ToString::to_string).collect()),
        ("email", |r| r.emails.clone()),
        ("phone", |r| r.phones.clone()),
        ("organisation", |r| r.organisation.iter().cloned().collect()),
        ("country", |r| r.address.country.iter().cloned().collect()),
    ];
    for (attr, get) in fields {
        decide(attr, single(attr, get), config, &mut values);
    }
    let addresses: Vec<Candidate<'_>> = members
        .iter()
        .filter_map(|m| {
            let a = &m.record.address;
            let parts: Vec<(&'static str, String)> = [
                ("street", &a.street),
                ("house_number", &a.house_number),
                ("house_number_addition", &a.addition),
                ("postcode", &a.postcode),
                ("city", &a.city),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.clone().map(|v| (k, v)))
            .collect();
            (!parts.is_empty()).then_some(Candidate { parts, member: m })
        })
        .collect();
    decide("address", addresses, config, &mut values);
    let mut extra_names: Vec<String> = members
        .iter()
        .flat_map(|m| {
            let ids = m.record.identifiers.keys().map(|k| format!("identifier.{k}"));
            ids.chain(m.record.attributes.keys().map(|k| format!("attribute.{k}")))
        })
        .collect();
    extra_names.sort();
    extra_names.dedup();
    for name in extra_names {
        let candidates = members
            .iter()
            .filter_map(|m| {
                let v = match name.split_once('.') {
                    Some(("identifier", k)) => m.record.identifiers.get(k),
                    Some((_, k)) => m.record.attributes.get(k),
                    None => None,
                };
                v.map(|v| Candidate { parts: vec![("", v.clone())], member: m })
            })
            .collect();
        let chosen = choose(candidates, config.rules_for(&name));
        if let Some((c, rule)) = chosen {
            values.push(GoldenValue { attribute: name, value: c.parts[0].1.clone(), from: c.member.key.clone(), rule });
        }
    }
    Golden { entity, values }
}

fn decide(attr: &str, candidates: Vec<Candidate<'_>>, config: &SurvivorshipConfig, out: &mut Vec<GoldenValue>) {
    if let Some((c, rule)) = choose(candidates, config.rules_for(attr)) {
        for (part, value) in &c.parts {
            out.push(GoldenValue {
                attribute: part.to_string(),
                value: value.clone(),
                from: c.member.key.clone(),
                rule: rule.clone(),
            });
        }
    }
}

/// Narrows the candidates rule by rule; the rule named is the first that set the winner apart.
fn choose<'a>(candidates: Vec<Candidate<'a>>, rules: &[SurvivorshipRule]) -> Option<(Candidate<'a>, String)> {
    let folded: Vec<String> =
        candidates.iter().map(|c| c.parts.iter().map(|(_, v)| fold(v)).collect::<Vec<_>>().join("|")).collect();
    let mut alive: Vec<usize> = (0..candidates.len()).collect();
    let mut deciding = None;
    for rule in rules {
        let score = |i: usize| -> i64 {
            let c = &candidates[i];
            match rule {
                SurvivorshipRule::Trust => i64::from(c.member.trust),
                SurvivorshipRule::Recent => c.member.recency,
                SurvivorshipRule::Complete => {
                    let parts = c.parts.len() as i64;
                    parts * 10_000 + c.parts.iter().map(|(_, v)| v.chars().count() as i64).sum::<i64>()
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
    let rule = deciding.or_else(|| rules.first().map(|r| r.name())).unwrap_or("trust").to_string();
    let mut candidates = candidates;
    Some((candidates.swap_remove(winner), rule))
}

fn count_distinct(mut values: Vec<&String>) -> usize {
    values.sort();
    values.dedup();
    values.len()
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
