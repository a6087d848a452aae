//! The change feed: what a resolution did to each entity, as events appended to the `feed` table in one
//! transaction with the resolution. `seq` only grows, so a consumer resumes after the last one it saw.

use super::bulk::{BulkInsert, int, owned_text, text};
use crate::types::FeedEvent;
use crate::{Error, Result};
use model::EntityId;
use rayon::prelude::*;
use rusqlite::{Connection, params};
use std::collections::{BTreeSet, HashMap};

/// An event before it is written: its payload already rendered as JSON.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Event {
    pub kind: &'static str,
    pub entity: i64,
    pub payload: String,
}

/// What a resolution changed, entity by entity: `entity.created` (with the records, and the entities they came
/// from), `entity.updated` (records that joined or left; `merged_from` names entities absorbed),
/// `entity.split` (records left for new entities only), `entity.merged` (retired into a successor) and
/// `entity.retired` (retired with no successor). Unchanged entities have none. Built in parallel: a first
/// resolution of a million records creates half a million entities.
///
/// `old` is each record's previous (entity, since); `new_of` each record's new entity (it may be empty when
/// `old` is: only records that were in an entity before are looked up); `retired` the retired entities with
/// their successors.
pub(super) fn resolution_events(
    old: &HashMap<i64, (i64, i64)>,
    new_of: &HashMap<i64, i64>,
    clusters: &[Vec<i64>],
    ids: &[EntityId],
    retired: &[(i64, Option<i64>)],
    key: &(dyn Fn(i64) -> String + Sync),
) -> Vec<Event> {
    let mut old_members: HashMap<i64, Vec<i64>> = HashMap::new();
    for (rid, (eid, _)) in old {
        old_members.entry(*eid).or_default().push(*rid);
    }
    let gone: BTreeSet<i64> = retired.iter().map(|(e, _)| *e).collect();
    let keys = |mut rids: Vec<i64>| -> Vec<String> {
        rids.sort_unstable();
        rids.into_iter().map(key).collect()
    };
    let entities =
        |set: &BTreeSet<i64>| -> Vec<String> { set.iter().map(|e| EntityId(*e as u64).to_string()).collect() };
    let mut events: Vec<Event> = clusters
        .par_iter()
        .zip(ids.par_iter())
        .filter_map(|(members, id)| {
            let eid = id.0 as i64;
            let Some(before) = old_members.get(&eid) else {
                let from: BTreeSet<i64> = members.iter().filter_map(|r| old.get(r).map(|(e, _)| *e)).collect();
                let mut fields = vec![("records", keys(members.clone()))];
                if !from.is_empty() {
                    fields.push(("from", entities(&from)));
                }
                let payload = render(&fields);
                return Some(Event { kind: "entity.created", entity: eid, payload });
            };
            let joined: Vec<i64> =
                members.iter().copied().filter(|r| old.get(r).map(|(e, _)| *e) != Some(eid)).collect();
            let left: Vec<i64> = before.iter().copied().filter(|r| new_of.get(r) != Some(&eid)).collect();
            if joined.is_empty() && left.is_empty() {
                return None;
            }
            let into: BTreeSet<i64> = left.iter().filter_map(|r| new_of.get(r).copied()).collect();
            if joined.is_empty() && into.iter().all(|e| !old_members.contains_key(e)) {
                let mut fields = vec![("left", keys(left))];
                if !into.is_empty() {
                    fields.push(("into", entities(&into)));
                }
                let payload = render(&fields);
                return Some(Event { kind: "entity.split", entity: eid, payload });
            }
            let merged_from: BTreeSet<i64> =
                joined.iter().filter_map(|r| old.get(r).map(|(e, _)| *e)).filter(|e| gone.contains(e)).collect();
            let mut fields = vec![("joined", keys(joined)), ("left", keys(left))];
            if !merged_from.is_empty() {
                fields.push(("merged_from", entities(&merged_from)));
            }
            Some(Event { kind: "entity.updated", entity: eid, payload: render(&fields) })
        })
        .collect();
    for (eid, successor) in retired {
        let event = match successor {
            Some(s) => Event {
                kind: "entity.merged",
                entity: *eid,
                payload: format!("{{\"into\":\"{}\"}}", EntityId(*s as u64)),
            },
            None => Event { kind: "entity.retired", entity: *eid, payload: "{}".into() },
        };
        events.push(event);
    }
    events
}

/// A JSON object of string lists, fields in the order given.
fn render(fields: &[(&str, Vec<String>)]) -> String {
    struct Object<'a>(&'a [(&'a str, Vec<String>)]);
    impl serde::Serialize for Object<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
            serializer.collect_map(self.0.iter().map(|(name, values)| (name, values)))
        }
    }
    // Strings and lists of strings always serialise.
    serde_json::to_string(&Object(fields)).unwrap_or_else(|_| "{}".into())
}

/// Appends events in order.
pub(super) fn append(conn: &Connection, events: Vec<Event>, now: i64) -> Result<()> {
    let mut insert = BulkInsert::new(conn, "INSERT INTO feed (at, kind, entity_id, payload)", "", 4);
    for e in events {
        insert.push([int(now), text(e.kind), int(e.entity), owned_text(e.payload)])?;
    }
    insert.finish()
}

/// Events after `after`, oldest first, at most `limit`.
pub(super) fn after(conn: &Connection, after: i64, limit: usize) -> Result<Vec<FeedEvent>> {
    let mut stmt =
        conn.prepare_cached("SELECT seq, at, kind, entity_id, payload FROM feed WHERE seq > ?1 ORDER BY seq LIMIT ?2")?;
    let rows = stmt.query_map(params![after, limit as i64], row)?;
    rows.map(|r| r.map_err(Error::from).and_then(decode)).collect()
}

/// Every event about one entity, oldest first.
pub(super) fn of_entity(conn: &Connection, id: EntityId) -> Result<Vec<FeedEvent>> {
    let mut stmt =
        conn.prepare_cached("SELECT seq, at, kind, entity_id, payload FROM feed WHERE entity_id = ?1 ORDER BY seq")?;
    let rows = stmt.query_map([id.0 as i64], row)?;
    rows.map(|r| r.map_err(Error::from).and_then(decode)).collect()
}

type Row = (i64, i64, String, Option<i64>, String);

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn decode((seq, at, kind, entity, payload): Row) -> Result<FeedEvent> {
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

    #[test]
    fn created_updated_split_merged() {
        let key = |r: i64| format!("crm:{r}");
        // First resolution: everything is created.
        let first =
            resolution_events(&HashMap::new(), &HashMap::new(), &[vec![1, 2], vec![3]], &ids(&[1, 2]), &[], &key);
        assert_eq!(
            first.iter().map(|e| (e.kind, e.entity)).collect::<Vec<_>>(),
            [("entity.created", 1), ("entity.created", 2)]
        );
        assert_eq!(payload(&first[0]), json!({"records": ["crm:1", "crm:2"]}));
        // 3 joins E1, E2 is retired into it.
        let old: HashMap<i64, (i64, i64)> = [(1, (1, 0)), (2, (1, 0)), (3, (2, 0))].into();
        let merged =
            resolution_events(&old, &went(&[vec![1, 2, 3]], &[1]), &[vec![1, 2, 3]], &ids(&[1]), &[(2, Some(1))], &key);
        assert_eq!(merged[0].kind, "entity.updated");
        assert_eq!(payload(&merged[0]), json!({"joined": ["crm:3"], "left": [], "merged_from": ["E2"]}));
        assert_eq!((merged[1].kind, merged[1].entity), ("entity.merged", 2));
        assert_eq!(payload(&merged[1]), json!({"into": "E1"}));
        // 1 splits off into a new entity: a split on E1, a creation of E3 that says where it came from.
        let old: HashMap<i64, (i64, i64)> = [(1, (1, 0)), (2, (1, 0)), (3, (1, 0))].into();
        let split = resolution_events(
            &old,
            &went(&[vec![2, 3], vec![1]], &[1, 3]),
            &[vec![2, 3], vec![1]],
            &ids(&[1, 3]),
            &[],
            &key,
        );
        assert_eq!((split[0].kind, payload(&split[0])), ("entity.split", json!({"left": ["crm:1"], "into": ["E3"]})));
        assert_eq!(
            (split[1].kind, payload(&split[1])),
            ("entity.created", json!({"records": ["crm:1"], "from": ["E1"]}))
        );
        // Keys are escaped.
        let odd = |_: i64| "crm:a\"b".to_string();
        let escaped = resolution_events(&HashMap::new(), &HashMap::new(), &[vec![1]], &ids(&[9]), &[], &odd);
        assert_eq!(payload(&escaped[0]), json!({"records": ["crm:a\"b"]}));
        // Nothing changed: no events.
        assert!(
            resolution_events(&old, &went(&[vec![1, 2, 3]], &[1]), &[vec![1, 2, 3]], &ids(&[1]), &[], &key).is_empty()
        );
    }
}
