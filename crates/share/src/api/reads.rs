//! The read endpoints: health, entity, lookup, search and explain.

use super::ApiState;
use super::error::ApiError;
use super::types::*;
use crate::explain::{ExplainError, decision, explain_records};
use axum::Json;
use axum::extract::{Path, Query, State};
use model::{Config, EntityId, RecordKey};
use serde::Deserialize;
use std::sync::Arc;
use store::{EntityView, Store};
use utoipa::IntoParams;

/// Runs `f` with the store on a blocking thread (SQLite calls block), one request at a time.
async fn with_store<T: Send + 'static>(
    state: &Arc<ApiState>,
    f: impl FnOnce(&dyn Store, &Config) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    super::with_store_mut(state, move |store, config| f(store, config)).await
}

/// The service is up.
#[utoipa::path(get, path = "/health", tag = "service", responses((status = 200, description = "The service is up", body = Health)))]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok".into() })
}

/// An entity with its golden record, provenance and member records. A retired id (merged into another
/// entity) answers with the surviving entity and says so in `redirected_from`.
#[utoipa::path(
    get,
    path = "/entities/{id}",
    tag = "entities",
    params(("id" = String, Path, description = "Entity id, E12")),
    responses(
        (status = 200, description = "The entity", body = EntityResponse),
        (status = 400, description = "Not an entity id", body = ApiError),
        (status = 404, description = "No such entity", body = ApiError),
    )
)]
pub async fn entity(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Result<Json<EntityResponse>, ApiError> {
    let id = entity_id(&id)?;
    with_store(&state, move |store, _| entity_json(store, id)).await
}

/// Parameters of `GET /lookup`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupParams {
    /// Source name.
    source: Option<String>,
    /// Record id in that source.
    id: Option<String>,
}

/// The entity a source record belongs to, looked up by its source key.
#[utoipa::path(
    get,
    path = "/lookup",
    tag = "entities",
    params(LookupParams),
    responses(
        (status = 200, description = "The entity the record belongs to", body = EntityResponse),
        (status = 400, description = "source or id missing", body = ApiError),
        (status = 404, description = "The record is in no entity", body = ApiError),
    )
)]
pub async fn lookup(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<LookupParams>,
) -> Result<Json<EntityResponse>, ApiError> {
    let source = required("source", params.source)?;
    let id = required("id", params.id)?;
    let key = RecordKey::new(source, id);
    with_store(&state, move |store, _| {
        let entity = store.entity_of(&key)?.ok_or_else(|| {
            ApiError::not_found(format!(
                "record {key} is in no entity (not ingested, quarantined, or not resolved yet)"
            ))
        })?;
        entity_json(store, entity)
    })
    .await
}

/// Parameters of `GET /search`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to look for: names, email, phone, postcode, city; typos are tolerated.
    q: Option<String>,
    /// Most results to return (1 to 1000, default 20).
    limit: Option<usize>,
    /// Only entities whose consent for this purpose is granted (`email_marketing`).
    consent: Option<String>,
}

/// Entities whose names, emails, phones or postcodes resemble the query, best first; with `consent`, only those
/// whose consent for that purpose is granted (the most restrictive answer of their records wins).
#[utoipa::path(
    get,
    path = "/search",
    tag = "entities",
    params(SearchParams),
    responses(
        (status = 200, description = "Matching entities, best first", body = SearchResponse),
        (status = 400, description = "q missing, or limit out of range", body = ApiError),
    )
)]
pub async fn search(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchResponse>, ApiError> {
    let q = required("q", params.q)?;
    let limit = params.limit.unwrap_or(20);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be between 1 and 1000"));
    }
    let consent = params.consent.filter(|c| !c.trim().is_empty());
    with_store(&state, move |store, _| {
        let mut hits = store.search(&q, if consent.is_some() { 1000 } else { limit })?;
        if let Some(purpose) = &consent {
            let mut kept = Vec::with_capacity(limit);
            for hit in hits {
                if kept.len() == limit {
                    break;
                }
                if store.entity(hit.entity)?.is_some_and(|e| crate::consents_to(&e.golden, purpose)) {
                    kept.push(hit);
                }
            }
            hits = kept;
        }
        let hits = hits
            .into_iter()
            .map(|h| SearchHitResponse { entity: h.entity.to_string(), name: h.name, score: h.score })
            .collect();
        Ok(Json(SearchResponse { hits }))
    })
    .await
}

/// Parameters of `GET /explain`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExplainParams {
    /// First record, `source:id`.
    a: Option<String>,
    /// Second record, `source:id`.
    b: Option<String>,
}

/// Why two source records do or do not match: each comparison's level, values and weight under the stored
/// model, the probability, and what the configured thresholds make of it.
#[utoipa::path(
    get,
    path = "/explain",
    tag = "matching",
    params(ExplainParams),
    responses(
        (status = 200, description = "The explanation", body = ExplainResponse),
        (status = 400, description = "a or b missing or not source:id", body = ApiError),
        (status = 404, description = "A record is not in the store or quarantined", body = ApiError),
        (status = 409, description = "No model yet: nothing has been resolved", body = ApiError),
    )
)]
pub async fn explain(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<ExplainParams>,
) -> Result<Json<ExplainResponse>, ApiError> {
    let key = |field: &str, value: Option<String>| -> Result<RecordKey, ApiError> {
        let value = required(field, value)?;
        RecordKey::parse(&value).ok_or_else(|| ApiError::invalid(field, format!("`{value}` is not source:id")))
    };
    let (a, b) = (key("a", params.a)?, key("b", params.b)?);
    with_store(&state, move |store, config| {
        let e = explain_records(store, config, &a, &b).map_err(|e| match e {
            ExplainError::NoModel => ApiError::not_ready(e.to_string()),
            ExplainError::NoRecord(_) => ApiError::not_found(e.to_string()),
            other => ApiError::internal(other.to_string()),
        })?;
        let fields = e
            .fields
            .into_iter()
            .map(|f| FieldExplanationResponse {
                comparison: f.comparison,
                level: f.level,
                label: f.label,
                weight: f.weight,
                weight_vs_related: f.weight_vs_related,
                a: f.a,
                b: f.b,
            })
            .collect();
        Ok(Json(ExplainResponse {
            fields,
            prior_weight: e.prior_weight,
            prior_weight_related: e.prior_weight_related,
            total_weight: e.total_weight,
            total_weight_related: e.total_weight_related,
            probability: e.probability,
            decision: decision(config, e.probability).into(),
        }))
    })
    .await
}

/// Parameters of `GET /feed`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedParams {
    /// Sequence number of the last event already seen (0 or absent: from the start).
    after: Option<i64>,
    /// Most events to return (1 to 10000, default 1000).
    limit: Option<usize>,
}

/// The change feed: what happened to entities, in order. Resume with `after` = the `last` of the previous page.
#[utoipa::path(
    get,
    path = "/feed",
    tag = "feed",
    params(FeedParams),
    responses(
        (status = 200, description = "A page of events", body = FeedResponse),
        (status = 400, description = "after negative, or limit out of range", body = ApiError),
    )
)]
pub async fn feed(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<FeedParams>,
) -> Result<Json<FeedResponse>, ApiError> {
    let (after, limit) = super::page_params(params.after, params.limit, 1000)?;
    with_store(&state, move |store, _| {
        let events: Vec<FeedEventResponse> =
            store.feed(after, limit)?.into_iter().map(FeedEventResponse::from).collect();
        let last = events.last().map_or(after, |e| e.seq);
        Ok(Json(FeedResponse { events, last }))
    })
    .await
}

/// The lineage of an entity: which records joined or left it and when, what it absorbed or split into, and
/// its retirement. A retired id answers with its own history (ending in `entity.merged`).
#[utoipa::path(
    get,
    path = "/entities/{id}/history",
    tag = "entities",
    params(("id" = String, Path, description = "Entity id, E12")),
    responses(
        (status = 200, description = "The entity's events, oldest first", body = HistoryResponse),
        (status = 400, description = "Not an entity id", body = ApiError),
        (status = 404, description = "No such entity", body = ApiError),
    )
)]
pub async fn history(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Result<Json<HistoryResponse>, ApiError> {
    let id = entity_id(&id)?;
    with_store(&state, move |store, _| {
        let events: Vec<FeedEventResponse> =
            store.entity_history(id)?.into_iter().map(FeedEventResponse::from).collect();
        if events.is_empty() {
            return Err(ApiError::not_found(format!("no entity {id}")));
        }
        Ok(Json(HistoryResponse { entity: id.to_string(), events }))
    })
    .await
}

/// An entity id from the path, or a 400 naming the `id` parameter.
fn entity_id(text: &str) -> Result<EntityId, ApiError> {
    text.parse().map_err(|e: String| ApiError::invalid("id", e))
}

/// The entity (or the one a retired id redirects to) as the API shows it, or a 404.
fn entity_json(store: &dyn Store, id: EntityId) -> Result<Json<EntityResponse>, ApiError> {
    let view = store.entity(id)?.ok_or_else(|| ApiError::not_found(format!("no entity {id}")))?;
    Ok(Json(entity_response(view)))
}

/// A required query parameter, present and not blank.
fn required(field: &str, value: Option<String>) -> Result<String, ApiError> {
    value.filter(|v| !v.trim().is_empty()).ok_or_else(|| ApiError::invalid(field, format!("`{field}` is required")))
}

fn entity_response(view: EntityView) -> EntityResponse {
    let golden = view
        .golden
        .values
        .into_iter()
        .map(|v| GoldenValueResponse {
            attribute: v.attribute,
            value: v.value,
            source: v.from.source,
            source_id: v.from.source_id,
            rule: v.rule,
        })
        .collect();
    let members = view
        .members
        .into_iter()
        .map(|(key, record)| MemberResponse {
            source: key.source,
            source_id: key.source_id,
            record: serde_json::to_value(record).unwrap_or(serde_json::Value::Null),
        })
        .collect();
    EntityResponse {
        id: view.id.to_string(),
        redirected_from: view.redirected_from.map(|r| r.to_string()),
        golden,
        members,
    }
}
