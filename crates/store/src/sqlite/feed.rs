//! The change feed: what a resolution did to each entity, as events appended to the `feed` table in one
//! transaction with the resolution. `seq` only grows, so a consumer resumes after the last one it saw.

use super::bulk::{BulkInsert, int, owned_text, text};
use crate::realtime::Lineage;
use crate::types::{FeedEvent, RidMap};
use crate::{Error, Result};
use model::EntityId;
use rayon::prelude::*;
use rusqlite::{Connection, params};
use std::collections::{BTreeSet, HashMap};
use std::hash::BuildHasher;

/// An event before it is written: its payload already rendered as JSON.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Event {
    pub kind: &'static str,
    pub entity: i64,
    pub payload: String,
}

/// What a resolution changed, entity by entity: `entity.created` (with the records, and the entities they came
/// from), `entity.updated` (records that joined or left; `merged_from` names entities absorbed),
/// `entity.split` (records left for new entities only), `entity.updated` with `changed` (a member whose content
/// changed, in an entity none joined or left: `lineage.changed`), `entity.merged` (retired into a successor) and
/// `entity.retired` (retired with no successor). Unchanged entities have none. Built in parallel: a first
/// resolution of a million records creates half a million entities.
///
/// `old` is each record's previous (entity, since); `new_of` each record's new entity (it may be empty when
/// `old` is: only records that were in an entity before are looked up); `retired` the retired entities with
/// their successors. Every event names who made the change (`by`); created and updated entities also list the
/// evidence of the records that joined them, when `lineage` has it.
pub(super) fn resolution_events<S: BuildHasher + Sync, T: BuildHasher + Sync>(
    old: &HashMap<i64, (i64, i64), S>,
    new_of: &HashMap<i64, i64, T>,
    clusters: &[Vec<i64>],
    ids: &[EntityId],
    retired: &[(i64, Option<i64>)],
    lineage: &Lineage,
    key: &(dyn Fn(i64) -> String + Sync),
) -> Vec<Event> {
    let by = lineage.by.as_str();
    let evidence_of = |joined: &[i64]| -> Vec<Proof> {
        lineage
            .evidence
            .iter()
            .filter(|e| joined.contains(&e.record))
            .map(|e| Proof { record: key(e.record), with: key(e.with), rule: e.rule.clone(), score: e.score })
            .collect()
    };
    let mut old_members: RidMap<Vec<i64>> = RidMap::default();
    for (rid, (eid, _)) in old {
        old_members.entry(*eid).or_default().push(*rid);
    }
    let gone: BTreeSet<i64> = retired.iter().map(|(e, _)| *e).collect();
    let changed: std::collections::HashSet<i64> = lineage.changed.iter().copied().collect();
    let keys = |mut rids: Vec<i64>| -> Vec<String> {
        rids.sort_unstable();
        rids.into_iter().map(key).collect()
    };
    let entities =
        |set: &BTreeSet<i64>| -> Vec<String> { set.iter().map(|e| EntityId(*e as u64).to_string()).collect() };
    let event = |(members, id): (&Vec<i64>, &EntityId)| -> Option<Event> {
        let eid = id.0 as i64;
        let Some(before) = old_members.get(&eid) else {
            let from: BTreeSet<i64> = members.iter().filter_map(|r| old.get(r).map(|(e, _)| *e)).collect();
            let mut fields = vec![("records", Values::from(keys(members.clone())))];
            if !from.is_empty() {
                fields.push(("from", entities(&from).into()));
            }
            let payload = render(&fields, by, &evidence_of(members));
            return Some(Event { kind: "entity.created", entity: eid, payload });
        };
        let joined: Vec<i64> = members.iter().copied().filter(|r| old.get(r).map(|(e, _)| *e) != Some(eid)).collect();
        let left: Vec<i64> = before.iter().copied().filter(|r| new_of.get(r) != Some(&eid)).collect();
        if joined.is_empty() && left.is_empty() {
            let updated: Vec<i64> = members.iter().copied().filter(|r| changed.contains(r)).collect();
            if updated.is_empty() {
                return None;
            }
            let payload = render(&[("changed", Values::from(keys(updated)))], by, &[]);
            return Some(Event { kind: "entity.updated", entity: eid, payload });
        }
        let into: BTreeSet<i64> = left.iter().filter_map(|r| new_of.get(r).copied()).collect();
        if joined.is_empty() && into.iter().all(|e| !old_members.contains_key(e)) {
            let mut fields = vec![("left", Values::from(keys(left)))];
            if !into.is_empty() {
                fields.push(("into", entities(&into).into()));
            }
            let payload = render(&fields, by, &[]);
            return Some(Event { kind: "entity.split", entity: eid, payload });
        }
        let merged_from: BTreeSet<i64> =
            joined.iter().filter_map(|r| old.get(r).map(|(e, _)| *e)).filter(|e| gone.contains(e)).collect();
        let evidence = evidence_of(&joined);
        let mut fields = vec![("joined", Values::from(keys(joined))), ("left", keys(left).into())];
        if !merged_from.is_empty() {
            fields.push(("merged_from", entities(&merged_from).into()));
        }
        Some(Event { kind: "entity.updated", entity: eid, payload: render(&fields, by, &evidence) })
    };
    // A real-time change touches a few entities: waking the thread pool for them would cost more than it saves.
    let mut events: Vec<Event> = if clusters.len() < 256 {
        clusters.iter().zip(ids).filter_map(event).collect()
    } else {
        clusters.par_iter().zip(ids.par_iter()).filter_map(event).collect()
    };
    for (eid, successor) in retired {
        let event = match successor {
            Some(s) => Event {
                kind: "entity.merged",
                entity: *eid,
                payload: render(&[("into", Values::One(EntityId(*s as u64).to_string()))], by, &[]),
            },
            None => Event { kind: "entity.retired", entity: *eid, payload: render(&[], by, &[]) },
        };
        events.push(event);
    }
    events
}

/// One piece of evidence as the feed shows it: records by key.
#[derive(Debug, Clone, serde::Serialize)]
struct Proof {
    record: String,
    with: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule: Option<String>,
    score: f64,
}

/// A payload field's value: one string or a list.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(untagged)]
enum Values {
    One(String),
    List(Vec<String>),
}

impl From<Vec<String>> for Values {
    fn from(list: Vec<String>) -> Self {
        Values::List(list)
    }
}

/// A JSON object of the fields (in the order given), then `by`, then the evidence if there is any.
fn render(fields: &[(&str, Values)], by: &str, evidence: &[Proof]) -> String {
    struct Object<'a>(&'a [(&'a str, Values)], &'a str, &'a [Proof]);
    impl serde::Serialize for Object<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut map = serializer.serialize_map(None)?;
            for (name, values) in self.0 {
                map.serialize_entry(name, values)?;
            }
            if !self.1.is_empty() {
                map.serialize_entry("by", self.1)?;
            }
            if !self.2.is_empty() {
                map.serialize_entry("evidence", self.2)?;
            }
            map.end()
        }
    }
    // Strings, lists of strings and finite numbers always serialise.
    serde_json::to_string(&Object(fields, by, evidence)).unwrap_or_else(|_| "{}".into())
}

/// Appends events in order.
pub(super) fn append(conn: &Connection, events: Vec<Event>, now: i64) -> Result<()> {
    let mut insert = BulkInsert::new(conn, "INSERT INTO feed (at, kind, entity_id, payload)", "", 4)
        .with_row("(?, ?, ?, seal('feed.payload', ?))");
    for e in events {
        insert.push([int(now), text(e.kind), int(e.entity), owned_text(e.payload)])?;
    }
    insert.finish()
}

/// Appends a few events one by one and returns their sequence numbers.
pub(super) fn append_each(conn: &Connection, events: Vec<Event>, now: i64) -> Result<Vec<i64>> {
    let mut insert = conn.prepare_cached(&super::sealing::written(
        conn,
        "INSERT INTO feed (at, kind, entity_id, payload) VALUES (?1, ?2, ?3, seal('feed.payload', ?4))",
    ))?;
    let mut seqs = Vec::with_capacity(events.len());
    for e in events {
        insert.execute(params![now, e.kind, e.entity, e.payload])?;
        seqs.push(conn.last_insert_rowid());
    }
    Ok(seqs)
}

/// Events after `after`, oldest first, at most `limit`.
pub(super) fn after(conn: &Connection, after: i64, limit: usize) -> Result<Vec<FeedEvent>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM feed WHERE seq > ?1 ORDER BY seq LIMIT ?2"))?;
    let rows = stmt.query_map(params![after, limit as i64], row)?;
    rows.map(|r| r.map_err(Error::from).and_then(decode)).collect()
}

/// Every event about one entity, oldest first.
pub(super) fn of_entity(conn: &Connection, id: EntityId) -> Result<Vec<FeedEvent>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM feed WHERE entity_id = ?1 ORDER BY seq"))?;
    let rows = stmt.query_map([id.0 as i64], row)?;
    rows.map(|r| r.map_err(Error::from).and_then(decode)).collect()
}

/// The columns of an event as read (the payload opened).
pub(super) const COLUMNS: &str = "seq, at, kind, entity_id, unseal_text('feed.payload', payload)";

pub(super) type Row = (i64, i64, String, Option<i64>, String);

pub(super) fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

pub(super) fn decode((seq, at, kind, entity, payload): Row) -> Result<FeedEvent> {
    Ok(FeedEvent {
        seq,
        at,
        kind,
        entity: entity.map(|e| EntityId(e as u64)),
        payload: serde_json::from_str(&payload)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realtime::Evidence;
    use serde_json::{Value, json};

    fn payload(e: &Event) -> Value {
        serde_json::from_str(&e.payload).expect("payload is JSON")
    }

    /// Each record's new entity.
    fn went(clusters: &[Vec<i64>], ids: &[u64]) -> HashMap<i64, i64> {
        clusters.iter().zip(ids).flat_map(|(m, id)| m.iter().map(move |rid| (*rid, *id as i64))).collect()
    }

    fn ids(v: &[u64]) -> Vec<EntityId> {
        v.iter().map(|i| EntityId(*i)).collect()
    }

    fn quiet() -> Lineage {
        Lineage::default()
    }

    #[test]
    fn created_updated_split_merged() {
        let key = |r: i64| format!("crm:{r}");
        // First resolution: everything is created.
        let first = resolution_events(
            &HashMap::new(),
            &HashMap::new(),
            &[vec![1, 2], vec![3]],
            &ids(&[1, 2]),
            &[],
            &quiet(),
            &key,
        );
        assert_eq!(
            first.iter().map(|e| (e.kind, e.entity)).collect::<Vec<_>>(),
            [("entity.created", 1), ("entity.created", 2)]
        );
        assert_eq!(payload(&first[0]), json!({"records": ["crm:1", "crm:2"]}));
        // 3 joins E1, E2 is retired into it.
        let old: HashMap<i64, (i64, i64)> = [(1, (1, 0)), (2, (1, 0)), (3, (2, 0))].into();
        let (clusters, retired) = (vec![vec![1, 2, 3]], [(2, Some(1))]);
        let merged = resolution_events(&old, &went(&clusters, &[1]), &clusters, &ids(&[1]), &retired, &quiet(), &key);
        assert_eq!(merged[0].kind, "entity.updated");
        assert_eq!(payload(&merged[0]), json!({"joined": ["crm:3"], "left": [], "merged_from": ["E2"]}));
        assert_eq!((merged[1].kind, merged[1].entity), ("entity.merged", 2));
        assert_eq!(payload(&merged[1]), json!({"into": "E1"}));
        // 1 splits off into a new entity: a split on E1, a creation of E3 that says where it came from.
        let old: HashMap<i64, (i64, i64)> = [(1, (1, 0)), (2, (1, 0)), (3, (1, 0))].into();
        let clusters = vec![vec![2, 3], vec![1]];
        let split = resolution_events(&old, &went(&clusters, &[1, 3]), &clusters, &ids(&[1, 3]), &[], &quiet(), &key);
        assert_eq!((split[0].kind, payload(&split[0])), ("entity.split", json!({"left": ["crm:1"], "into": ["E3"]})));
        assert_eq!(
            (split[1].kind, payload(&split[1])),
            ("entity.created", json!({"records": ["crm:1"], "from": ["E1"]}))
        );
        // Keys are escaped.
        let odd = |_: i64| "crm:a\"b".to_string();
        let escaped = resolution_events(&HashMap::new(), &HashMap::new(), &[vec![1]], &ids(&[9]), &[], &quiet(), &odd);
        assert_eq!(payload(&escaped[0]), json!({"records": ["crm:a\"b"]}));
        // Nothing changed: no events.
        let same = vec![vec![1, 2, 3]];
        assert!(resolution_events(&old, &went(&same, &[1]), &same, &ids(&[1]), &[], &quiet(), &key).is_empty());
        // A member's content changed, no one joined or left: the entity is told which.
        let edited = Lineage { changed: vec![2, 9], ..Lineage::default() };
        let told = resolution_events(&old, &went(&same, &[1]), &same, &ids(&[1]), &[], &edited, &key);
        assert_eq!((told.len(), told[0].kind), (1, "entity.updated"));
        assert_eq!(payload(&told[0]), json!({"changed": ["crm:2"]}));
    }

    #[test]
    fn events_say_who_and_why() {
        let key = |r: i64| format!("crm:{r}");
        let lineage = Lineage {
            by: "api".into(),
            evidence: vec![Evidence { record: 3, with: 1, rule: None, score: 0.99 }],
            changed: vec![],
        };
        // 3 joins E1 on the model's word; E2 it came from is merged.
        let old: HashMap<i64, (i64, i64)> = [(1, (1, 0)), (2, (1, 0)), (3, (2, 0))].into();
        let (clusters, retired) = (vec![vec![1, 2, 3]], [(2, Some(1))]);
        let events = resolution_events(&old, &went(&clusters, &[1]), &clusters, &ids(&[1]), &retired, &lineage, &key);
        assert_eq!(
            payload(&events[0]),
            json!({"joined": ["crm:3"], "left": [], "merged_from": ["E2"], "by": "api",
                   "evidence": [{"record": "crm:3", "with": "crm:1", "score": 0.99}]})
        );
        assert_eq!(payload(&events[1]), json!({"into": "E1", "by": "api"}));
        // A retirement with no successor (its only record was deleted).
        let old: HashMap<i64, (i64, i64)> = [(4, (7, 0))].into();
        let gone = resolution_events(&old, &HashMap::new(), &[], &[], &[(7, None)], &lineage, &key);
        assert_eq!((gone[0].kind, payload(&gone[0])), ("entity.retired", json!({"by": "api"})));
    }
}
