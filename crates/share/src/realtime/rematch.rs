//! Re-matching around one change: the changed record's candidates come from the blocking index and are scored
//! with the model; the entities it matches (and the one it was in) are re-clustered from their stored pairs, the
//! new pairs and the stewards' pins, by the batch clustering; ids are chosen by the batch's stable-id rule.

use super::{Hub, Result};
use master::cluster::{Edge, EdgeOutcome, cluster};
use master::compare::compare_all;
use master::features::Features;
use master::identity::assign_ids;
use master::incremental::{BlockOutcome, RecordKeys};
use master::resolve::PINNED_RULE;
use master::survive::{Member, Rules, golden_view};
use model::EntityId;
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use store::{ActiveRecord, Evidence, GoldenRow, Lineage, LocalChange, PairRow, Tx};

/// A record whose content changed: its id and, when it can still be matched, its features and index keys.
pub(super) struct Changed {
    rid: i64,
    new: Option<(Features, RecordKeys)>,
}

/// A scored candidate of the changed record.
struct Scored {
    rid: i64,
    probability: f64,
    rule: Option<String>,
}

impl Hub {
    /// Match probability of a pair under the model (0 without one: then only rules and pins join).
    fn probability(&self, a: &Features, b: &Features) -> f64 {
        match &self.matching.model {
            Some(model) => model.probability(&compare_all(&self.matching.kinds, a, b), a, b),
            None => 0.0,
        }
    }

    /// Moves a record in the blocking index from its old features' keys to its new ones (noted in the journal,
    /// so a failed transaction can undo it).
    pub(super) fn reindex(&mut self, rid: i64, old: Option<&Features>, new: Option<Features>) -> Result<Changed> {
        let rules = &self.matching.rules;
        let before = old.map(|f| (f.clone(), rules.keys(f)));
        let new = new.map(|f| {
            let keys = rules.keys(&f);
            (f, keys)
        });
        self.memory.reindex(rid, before, new.clone())?;
        Ok(Changed { rid, new })
    }

    /// Re-clusters the records of `entities` together with the changed record (if any) and its matches, and
    /// writes the result. Returns the changed record's entity and the feed events appended.
    pub(super) fn rematch(
        &self,
        tx: &mut dyn Tx,
        changed: Option<Changed>,
        mut entities: Vec<i64>,
        by: &str,
        now: i64,
    ) -> Result<(Option<EntityId>, Vec<i64>)> {
        let config = &self.config.master;
        let changed_rid = changed.as_ref().map(|c| c.rid);
        let mut scored: Vec<Scored> = Vec::new();
        if let Some(Changed { rid, new: Some((features, keys)) }) = &changed {
            scored = self.candidates(*rid, features, keys);
            let matched: Vec<i64> = scored
                .iter()
                .filter(|s| s.probability >= config.match_threshold || s.rule.is_some())
                .map(|s| s.rid)
                .collect();
            entities.extend(tx.entities_of(&matched)?.values().map(|(e, _)| *e));
        }
        entities.sort_unstable();
        entities.dedup();

        // Every member of the entities concerned, and the changed record.
        let members = tx.members_of(&entities)?;
        let mut involved: Vec<i64> = members.iter().map(|(rid, _, _)| *rid).chain(changed_rid).collect();
        involved.sort_unstable();
        involved.dedup();
        let loaded: HashMap<i64, ActiveRecord> = tx.active_by_rid(&involved)?.into_iter().map(|r| (r.rid, r)).collect();
        let active: Vec<&ActiveRecord> = involved.iter().filter_map(|r| loaded.get(r)).collect();
        // The hub keeps every active record's current features (the changed record's included, since reindex).
        let features: Vec<Cow<'_, Features>> = active
            .iter()
            .map(|r| match self.memory.features(r.rid) {
                Some(f) => Cow::Borrowed(f),
                None => Cow::Owned(self.features(&r.key.source, &r.clean)),
            })
            .collect();
        let local: HashMap<i64, u32> = active.iter().enumerate().map(|(i, r)| (r.rid, i as u32)).collect();

        // Edges: stored pairs among the others, the changed record's new pairs, and the pins.
        let mut edges: Vec<Edge> = Vec::new();
        let mut rule_of: Vec<Option<String>> = Vec::new();
        let mut rows: Vec<(i64, i64)> = Vec::new();
        for p in tx.pairs_among(&involved)? {
            let touches_changed = changed_rid.is_some_and(|c| p.a == c || p.b == c);
            if touches_changed || p.rule.as_deref() == Some(PINNED_RULE) {
                continue;
            }
            if let (Some(a), Some(b)) = (local.get(&p.a), local.get(&p.b)) {
                edges.push(Edge { a: *a, b: *b, probability: p.probability, forced: p.rule.is_some() });
                rule_of.push(p.rule);
                rows.push((p.a, p.b));
            }
        }
        let mut outside: Vec<PairRow> = Vec::new();
        if let Some(c) = changed_rid {
            for s in &scored {
                match (local.get(&c), local.get(&s.rid)) {
                    (Some(a), Some(b)) => {
                        edges.push(Edge { a: *a, b: *b, probability: s.probability, forced: s.rule.is_some() });
                        rule_of.push(s.rule.clone());
                        rows.push((c, s.rid));
                    }
                    // A candidate in no entity concerned: a pair for review.
                    _ => outside.push(PairRow {
                        a: c.min(s.rid),
                        b: c.max(s.rid),
                        probability: s.probability,
                        decision: "review",
                        rule: s.rule.clone(),
                    }),
                }
            }
        }
        let mut apart = Vec::new();
        for pin in tx.pins_among(&involved)? {
            let (Some(a), Some(b)) = (local.get(&pin.a), local.get(&pin.b)) else { continue };
            if pin.together {
                edges.push(Edge { a: *a, b: *b, probability: 1.0, forced: true });
                rule_of.push(Some(PINNED_RULE.to_string()));
                rows.push((pin.a, pin.b));
            } else {
                apart.push((*a, *b));
            }
        }
        let score = |x: u32, y: u32| self.probability(&features[x as usize], &features[y as usize]);
        let clustering = cluster(active.len(), &edges, config.match_threshold, config.guard_threshold, &apart, score);

        let mut clusters: Vec<Vec<i64>> = vec![Vec::new(); clustering.n_clusters];
        for (i, c) in clustering.cluster_of.iter().enumerate() {
            clusters[*c as usize].push(active[i].rid);
        }
        // Stable ids: the batch's rule; entities whose records all left are retired with no successor.
        let previous: HashMap<i64, i64> = members.iter().map(|(rid, e, _)| (*rid, *e)).collect();
        let before: Vec<Vec<Option<u64>>> =
            clusters.iter().map(|m| m.iter().map(|rid| previous.get(rid).map(|e| *e as u64)).collect()).collect();
        let assignment = assign_ids(&before);
        let ids: Vec<EntityId> = assignment.ids(tx.next_entity_id()?).into_iter().map(EntityId).collect();
        let mut retired: Vec<(i64, Option<i64>)> =
            assignment.retired.iter().map(|(id, c)| (*id as i64, c.map(|c| ids[c].0 as i64))).collect();
        let held: BTreeSet<i64> = ids.iter().map(|i| i.0 as i64).chain(retired.iter().map(|(e, _)| *e)).collect();
        retired.extend(entities.iter().filter(|e| !held.contains(e)).map(|e| (*e, None)));

        let rules = Rules::new(&self.config.survivorship);
        let goldens = clusters
            .iter()
            .zip(&ids)
            .map(|(rids, id)| {
                let members: Vec<Member<'_>> = rids
                    .iter()
                    .filter_map(|rid| loaded.get(rid))
                    .map(|r| Member { key: &r.key, trust: r.trust, recency: r.recency, record: &r.clean })
                    .collect();
                GoldenRow::new(&golden_view(*id, &members, &rules))
            })
            .collect::<Vec<_>>();

        let mut pairs = outside;
        let mut evidence: Option<Evidence> = None;
        for (((edge, rule), outcome), (a, b)) in edges.iter().zip(&rule_of).zip(&clustering.outcomes).zip(&rows) {
            let decision = match outcome {
                EdgeOutcome::Accepted => "match",
                EdgeOutcome::Below => "review",
                EdgeOutcome::Vetoed => "vetoed",
                EdgeOutcome::Apart => continue,
            };
            if decision == "match" && changed_rid.is_some_and(|c| *a == c || *b == c) {
                let with = if Some(*a) == changed_rid { *b } else { *a };
                if evidence.as_ref().is_none_or(|e| edge.probability > e.score) {
                    evidence = Some(Evidence {
                        record: changed_rid.unwrap_or(*a),
                        with,
                        rule: rule.clone(),
                        score: edge.probability,
                    });
                }
            }
            if edge.probability >= config.review_threshold || rule.is_some() {
                pairs.push(PairRow {
                    a: *a.min(b),
                    b: *a.max(b),
                    probability: edge.probability,
                    decision,
                    rule: rule.clone(),
                });
            }
        }
        // Records a steward pinned together carry each other in: the pins are the evidence.
        let mut proofs: Vec<Evidence> = evidence.into_iter().collect();
        if changed.is_none() {
            proofs.extend(
                edges
                    .iter()
                    .zip(&rule_of)
                    .zip(&rows)
                    .filter(|((_, r), _)| r.as_deref() == Some(PINNED_RULE))
                    .map(|((e, r), (a, b))| Evidence { record: *b, with: *a, rule: r.clone(), score: e.probability }),
            );
        }
        let entity_of_changed = changed_rid.and_then(|c| clusters.iter().position(|m| m.contains(&c)).map(|i| ids[i]));
        let mut records = involved;
        if let Some(c) = changed_rid {
            if let Err(at) = records.binary_search(&c) {
                records.insert(at, c);
            }
        }
        let change = LocalChange {
            records,
            clusters,
            ids,
            goldens,
            retired,
            pairs,
            changed: changed_rid.into_iter().collect(),
            lineage: Lineage { by: by.to_string(), evidence: proofs, changed: changed_rid.into_iter().collect() },
        };
        let events = tx.apply(&change, now)?;
        Ok((entity_of_changed, events))
    }

    /// The changed record's candidates from the blocking index, scored from the features the hub keeps; those at
    /// or above the review threshold (or joined by a deterministic rule) are kept.
    fn candidates(&self, rid: i64, features: &Features, keys: &RecordKeys) -> Vec<Scored> {
        let rules = &self.matching.rules;
        let config = &self.config.master;
        let mut candidates: BTreeSet<i64> = BTreeSet::new();
        let mut forced: HashMap<i64, String> = HashMap::new();
        for key in &keys.keys {
            let members = self.memory.block(key.key, rid, rules.lookup_limit());
            match rules.select(keys, *key, &members) {
                BlockOutcome::Candidates(ids) => candidates.extend(ids),
                BlockOutcome::Forced(ids) => {
                    let name = rules.deterministic_name(key.rule).unwrap_or("rule");
                    for id in ids {
                        forced.entry(id).or_insert_with(|| name.to_string());
                        candidates.insert(id);
                    }
                }
                BlockOutcome::Oversized => {}
            }
        }
        let mut scored = Vec::new();
        for id in candidates {
            let Some(other) = self.memory.features(id) else { continue };
            if !config.within_source && other.source == features.source {
                continue;
            }
            let (probability, rule) = match forced.remove(&id) {
                Some(name) => (1.0, Some(name)),
                None => (self.probability(features, other), None),
            };
            if probability >= config.review_threshold || rule.is_some() {
                scored.push(Scored { rid: id, probability, rule });
            }
        }
        scored
    }
}
