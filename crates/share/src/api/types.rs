//! The API's response bodies: its contract, kept apart from the store's types so either can change alone.

use serde::Serialize;
use utoipa::ToSchema;

/// The service is up.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok`.
    pub status: String,
}

/// An entity: its golden record with provenance, and its member source records.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntityResponse {
    /// Entity id, `E12`: the surviving entity's when a retired id was asked for.
    pub id: String,
    /// The id asked for, when it was retired by a merge and redirected to `id`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redirected_from: Option<String>,
    /// One value per attribute, each with the record and rule it came from.
    pub golden: Vec<GoldenValueResponse>,
    /// The member source records, in their clean form.
    pub members: Vec<MemberResponse>,
}

/// One surviving value of a golden record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct GoldenValueResponse {
    /// Attribute: `given_name`, `family_name`, `email`, `street`, …, `identifier.NAME`, `attribute.NAME`.
    pub attribute: String,
    /// The value.
    pub value: String,
    /// Source of the record it came from.
    pub source: String,
    /// Id of that record in its source.
    pub source_id: String,
    /// The survivorship rule that chose it: `trust`, `recent`, `complete` or `frequent`.
    pub rule: String,
}

/// A member source record of an entity.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MemberResponse {
    /// Source name.
    pub source: String,
    /// Id in the source.
    pub source_id: String,
    /// The record after cleaning: `name` {`given`, `initials`, `prefix`, `family`}, `birth_date` {`year`,
    /// `month`, `day`}, `emails`, `phones` (E.164), `address` {`street`, `house_number`, `addition`,
    /// `postcode`, `city`, `country`}, `organisation`, `identifiers`, `attributes`; empty parts are left out.
    #[schema(value_type = Object)]
    pub record: serde_json::Value,
}

/// Search results, best first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchResponse {
    /// The matching entities.
    pub hits: Vec<SearchHitResponse>,
}

/// One search result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchHitResponse {
    /// Entity id, `E12`.
    pub entity: String,
    /// Display name of its golden record.
    pub name: String,
    /// Similarity to the query, 0 to 1.
    pub score: f64,
}

/// Why two records do or do not match under the stored model.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExplainResponse {
    /// Per comparison: the level reached, the values compared and the weight it added.
    pub fields: Vec<FieldExplanationResponse>,
    /// log2 prior odds against an unrelated pair.
    pub prior_weight: f64,
    /// log2 prior odds against a related pair (same household or family, different person).
    pub prior_weight_related: f64,
    /// Prior plus all comparison weights, against an unrelated pair.
    pub total_weight: f64,
    /// Prior plus all comparison weights, against a related pair.
    pub total_weight_related: f64,
    /// Posterior match probability.
    pub probability: f64,
    /// What the configured thresholds make of it: `match`, `review` or `no_match`.
    pub decision: String,
}

/// One comparison of an explanation.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FieldExplanationResponse {
    /// Comparison name (`given_name`, `address`, …).
    pub comparison: String,
    /// Level reached; 0 means a value is missing on either side.
    pub level: u8,
    /// What the level means.
    pub label: String,
    /// log2 Bayes factor against an unrelated pair.
    pub weight: f64,
    /// log2 Bayes factor against a related pair.
    pub weight_vs_related: f64,
    /// The first record's value, as compared.
    pub a: String,
    /// The second record's value, as compared.
    pub b: String,
}

/// A page of the change feed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedResponse {
    /// Events after the requested sequence number, oldest first.
    pub events: Vec<FeedEventResponse>,
    /// Sequence number to ask after next time: the last event's, or the one asked for when there were none.
    pub last: i64,
}

/// The lineage of an entity: every change-feed event about it, oldest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HistoryResponse {
    /// Entity id, `E12`.
    pub entity: String,
    /// Its events.
    pub events: Vec<FeedEventResponse>,
}

/// One change-feed event.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeedEventResponse {
    /// Position in the feed; only grows.
    pub seq: i64,
    /// When, seconds since the epoch.
    pub at: i64,
    /// `entity.created`, `entity.updated`, `entity.split`, `entity.merged` or `entity.retired`.
    pub kind: String,
    /// The entity it is about, `E12`.
    pub entity: Option<String>,
    /// What changed. `entity.created`: `records` (`source:id`) and, when they came from other entities,
    /// `from`; `entity.updated`: `joined`, `left` and `merged_from` (entities absorbed); `entity.split`: `left`
    /// and `into`; `entity.merged`: `into`.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

impl From<store::FeedEvent> for FeedEventResponse {
    fn from(e: store::FeedEvent) -> Self {
        FeedEventResponse {
            seq: e.seq,
            at: e.at,
            kind: e.kind,
            entity: e.entity.map(|id| id.to_string()),
            payload: e.payload,
        }
    }
}

/// The body of a webhook delivery: a batch of change-feed events, oldest first, as `GET /feed` shows them. Sent as
/// `POST` with the headers `Cdihub-Signature` (`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`),
/// `Cdihub-Webhook` (the id) and `Cdihub-Delivery` (`<id>:<first seq>-<last seq>`). A retry may carry more events
/// than the failed attempt; events can arrive more than once — deduplicate by `seq`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookDelivery {
    /// The webhook's id.
    pub webhook: i64,
    /// The events.
    pub events: Vec<FeedEventResponse>,
}

/// What an upsert or delete did to one source record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordResponse {
    /// `source:id`.
    pub record: String,
    /// `inserted`, `updated`, `unchanged` or `deleted`.
    pub write: String,
    /// `active` (matched into an entity), `quarantined` (kept, not matched: see `issues`) or `deleted`.
    pub status: String,
    /// The entity the record belongs to now, `E12`, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// Why values were dropped, or why the record was quarantined.
    pub issues: Vec<String>,
    /// Sequence numbers of the change-feed events the change appended.
    pub events: Vec<i64>,
}

/// What a batch upsert did, one result per record in the order given.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchResponse {
    /// Per record.
    pub results: Vec<RecordResponse>,
}

/// What a steward's merge or unmerge did.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StewardResponse {
    /// The entity that now holds the records concerned: the survivor of a merge, the new entity of an unmerge.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// Sequence numbers of the change-feed events appended.
    pub events: Vec<i64>,
}
