//! The write endpoints: upsert and delete source records (each matched and merged at once), and a steward's
//! merge and unmerge. All go through the real-time hub, one change at a time, each in one transaction: a 2xx
//! answer means the change is committed.

use super::ApiState;
use super::auth::Principal;
use super::error::ApiError;
use super::types::*;
use crate::realtime::{HubError, RecordOutcome, StewardOutcome};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::{Extension, Json};
use model::{EntityId, RecordKey};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::ToSchema;

/// Most records one batch call may carry.
pub const MAX_BATCH: usize = 10_000;

/// Largest request body accepted: a full batch of generous records.
pub const MAX_BODY: usize = 64 * 1024 * 1024;

/// Runs `f` with the hub and the store on a blocking thread, one change at a time.
pub(super) async fn with_hub<T: Send + 'static>(
    state: &Arc<ApiState>,
    f: impl FnOnce(&mut crate::realtime::Hub, &mut dyn store::Store) -> Result<T, HubError> + Send + 'static,
) -> Result<T, ApiError> {
    let state = Arc::clone(state);
    tokio::task::spawn_blocking(move || {
        let mut hub = state.hub.lock().map_err(|_| ApiError::internal("the hub is unusable after a failure"))?;
        let mut store = state.store.lock().map_err(|_| ApiError::internal("the store is unusable after a failure"))?;
        f(&mut hub, store.as_mut()).map_err(hub_error)
    })
    .await
    .map_err(|e| ApiError::internal(format!("request failed: {e}")))?
}

/// A JSON request body, or the API's error body saying what is wrong with it (instead of axum's plain text).
pub(super) fn body<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, ApiError> {
    body.map(|Json(value)| value)
        .map_err(|e| ApiError::invalid("body", format!("the body is not usable JSON: {}", e.body_text())))
}

/// The API's answer to a hub error.
fn hub_error(e: HubError) -> ApiError {
    match e {
        HubError::UnknownSource(_) | HubError::UnknownRecord(_) | HubError::UnknownEntity(_) => {
            ApiError::not_found(e.to_string())
        }
        HubError::Invalid(_) => ApiError::conflict(e.to_string()),
        other => ApiError::internal(other.to_string()),
    }
}

/// A record's raw fields from a JSON object: nested values flattened to dotted paths, as the NDJSON connector
/// reads them.
fn fields_of(body: &Value, field: &str) -> Result<BTreeMap<String, String>, ApiError> {
    if !body.is_object() {
        return Err(ApiError::invalid(field, "a record is a JSON object of field → value"));
    }
    let mut fields = BTreeMap::new();
    connect::json::flatten("", body, &mut fields);
    Ok(fields)
}

fn record_response(o: RecordOutcome) -> RecordResponse {
    RecordResponse {
        record: o.record,
        write: o.write.to_string(),
        status: o.status.as_str().to_string(),
        entity: o.entity.map(|e| e.to_string()),
        issues: o.issues,
        events: o.events,
    }
}

fn steward_response(o: StewardOutcome) -> StewardResponse {
    StewardResponse { entity: o.entity.map(|e| e.to_string()), events: o.events }
}

/// Inserts or updates one source record, then matches it at once: it joins the best entity, starts a new one,
/// or merges the entities it bridges; a changed record that no longer fits its entity is split off. The body
/// is the record as the source holds it (its columns, as the source's mapping names them; nested objects are
/// flattened to dotted paths). A record that fails validation is stored quarantined (see `issues`).
#[utoipa::path(
    put,
    path = "/sources/{source}/records/{id}",
    tag = "records",
    params(
        ("source" = String, Path, description = "Source name, as configured"),
        ("id" = String, Path, description = "The record's id in that source"),
    ),
    request_body(content = Object, description = "The record's fields, column → value"),
    responses(
        (status = 200, description = "Stored and matched (or quarantined)", body = RecordResponse),
        (status = 400, description = "The body is not a JSON object, or names another id", body = ApiError),
        (status = 404, description = "No such source", body = ApiError),
        (status = 409, description = "The blocking index changed meanwhile; retry", body = ApiError),
    )
)]
pub async fn put_record(
    State(state): State<Arc<ApiState>>,
    Extension(caller): Extension<Principal>,
    Path((source, id)): Path<(String, String)>,
    request: Result<Json<Value>, JsonRejection>,
) -> Result<Json<RecordResponse>, ApiError> {
    let mut fields = fields_of(&body(request)?, "body")?;
    let id_column = state.config.source(&source).map(|s| s.id.clone()).unwrap_or_default();
    match fields.get(&id_column) {
        Some(given) if given.trim() != id.trim() => {
            return Err(ApiError::invalid(
                &id_column,
                format!("the body's id `{given}` differs from the path's `{id}`"),
            ));
        }
        _ if !id_column.is_empty() => {
            fields.insert(id_column, id.clone());
        }
        _ => {}
    }
    let mut outcomes =
        with_hub(&state, move |hub, store| hub.upsert(store, &source, vec![(id, fields)], &caller.actor())).await?;
    let outcome = outcomes.pop().ok_or_else(|| ApiError::internal("the upsert returned nothing"))?;
    Ok(Json(record_response(outcome)))
}

/// Upserts many records of one source in one transaction (all or nothing), each matched as
/// `PUT /sources/{source}/records/{id}` matches one. The body is a JSON array of records, each carrying its id
/// in the source's id column.
#[utoipa::path(
    post,
    path = "/sources/{source}/records:batch",
    tag = "records",
    params(("source" = String, Path, description = "Source name, as configured")),
    request_body(content = Vec<Object>, description = "Records, each with its id column"),
    responses(
        (status = 200, description = "Stored and matched, one result per record", body = BatchResponse),
        (status = 400, description = "Not an array of objects, a record without id, or too many records", body = ApiError),
        (status = 404, description = "No such source", body = ApiError),
        (status = 409, description = "The blocking index changed meanwhile; retry", body = ApiError),
    )
)]
pub async fn post_batch(
    State(state): State<Arc<ApiState>>,
    Extension(caller): Extension<Principal>,
    Path(source): Path<String>,
    request: Result<Json<Value>, JsonRejection>,
) -> Result<Json<BatchResponse>, ApiError> {
    let Value::Array(items) = body(request)? else {
        return Err(ApiError::invalid("body", "a batch is a JSON array of records"));
    };
    if items.len() > MAX_BATCH {
        return Err(ApiError::invalid("body", format!("at most {MAX_BATCH} records per batch; got {}", items.len())));
    }
    let id_column = state
        .config
        .source(&source)
        .map(|s| s.id.clone())
        .ok_or_else(|| ApiError::not_found(format!("no source named `{source}` in the configuration")))?;
    let mut records = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let field = format!("[{i}]");
        let fields = fields_of(item, &field)?;
        let id = fields.get(&id_column).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).ok_or_else(|| {
            ApiError::invalid(&format!("[{i}].{id_column}"), format!("record {i} has no id in `{id_column}`"))
        })?;
        records.push((id, fields));
    }
    let outcomes = with_hub(&state, move |hub, store| hub.upsert(store, &source, records, &caller.actor())).await?;
    Ok(Json(BatchResponse { results: outcomes.into_iter().map(record_response).collect() }))
}

/// Deletes a source record (it was deleted in its source): it leaves its entity, whose golden record is
/// recomputed; an entity left with no records is retired. Its versions are kept.
#[utoipa::path(
    delete,
    path = "/sources/{source}/records/{id}",
    tag = "records",
    params(
        ("source" = String, Path, description = "Source name, as configured"),
        ("id" = String, Path, description = "The record's id in that source"),
    ),
    responses(
        (status = 200, description = "Deleted (or deleted before: `write` is `unchanged`)", body = RecordResponse),
        (status = 404, description = "No such source or record", body = ApiError),
        (status = 409, description = "The blocking index changed meanwhile; retry", body = ApiError),
    )
)]
pub async fn delete_record(
    State(state): State<Arc<ApiState>>,
    Extension(caller): Extension<Principal>,
    Path((source, id)): Path<(String, String)>,
) -> Result<Json<RecordResponse>, ApiError> {
    let key = RecordKey::new(source, id);
    let outcome = with_hub(&state, move |hub, store| hub.delete(store, &key, &caller.actor())).await?;
    Ok(Json(record_response(outcome)))
}

/// A steward's merge.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MergeRequest {
    /// The entities to merge, `E12`; the oldest id survives.
    pub entities: Vec<String>,
    /// On whose behalf, if not the key's holder (shown in the entities' history beside the key).
    #[serde(default)]
    pub by: Option<String>,
    /// Why, if worth saying.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Merges entities a steward knows to be one customer. Their records are pinned together, so later resolves
/// keep them together; pins that kept them apart are dropped. The oldest id survives, the others redirect to it.
#[utoipa::path(
    post,
    path = "/entities/merge",
    tag = "stewardship",
    request_body = MergeRequest,
    responses(
        (status = 200, description = "Merged", body = StewardResponse),
        (status = 400, description = "Fewer than two entities, or a malformed id", body = ApiError),
        (status = 404, description = "An entity is unknown or retired", body = ApiError),
    )
)]
pub async fn merge(
    State(state): State<Arc<ApiState>>,
    Extension(caller): Extension<Principal>,
    request: Result<Json<MergeRequest>, JsonRejection>,
) -> Result<Json<StewardResponse>, ApiError> {
    let request = body(request)?;
    let by = steward(request.by.as_deref(), &caller);
    let entities = request
        .entities
        .iter()
        .map(|e| e.parse::<EntityId>().map_err(|m| ApiError::invalid("entities", m)))
        .collect::<Result<Vec<_>, _>>()?;
    if entities.len() < 2 {
        return Err(ApiError::invalid("entities", "a merge needs at least two entities"));
    }
    let reason = request.reason;
    let outcome = with_hub(&state, move |hub, store| hub.merge(store, &entities, &by, reason.as_deref())).await?;
    Ok(Json(steward_response(outcome)))
}

/// A steward's unmerge.
#[derive(Debug, Deserialize, ToSchema)]
pub struct UnmergeRequest {
    /// The records to split off, `source:id`; they become one new entity.
    pub records: Vec<String>,
    /// On whose behalf, if not the key's holder (shown in the entities' history beside the key).
    #[serde(default)]
    pub by: Option<String>,
    /// Why, if worth saying.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Splits records off an entity: they are pinned apart from the records that stay (later resolves keep them
/// apart) and together with each other, and get a new entity id.
#[utoipa::path(
    post,
    path = "/entities/{id}/unmerge",
    tag = "stewardship",
    params(("id" = String, Path, description = "Entity id, E12")),
    request_body = UnmergeRequest,
    responses(
        (status = 200, description = "Split off", body = StewardResponse),
        (status = 400, description = "A malformed id or record key", body = ApiError),
        (status = 404, description = "The entity or a record is unknown", body = ApiError),
        (status = 409, description = "A record is not a member, or none would stay", body = ApiError),
    )
)]
pub async fn unmerge(
    State(state): State<Arc<ApiState>>,
    Extension(caller): Extension<Principal>,
    Path(id): Path<String>,
    request: Result<Json<UnmergeRequest>, JsonRejection>,
) -> Result<Json<StewardResponse>, ApiError> {
    let request = body(request)?;
    let by = steward(request.by.as_deref(), &caller);
    let entity: EntityId = id.parse().map_err(|m| ApiError::invalid("id", m))?;
    let records = request
        .records
        .iter()
        .map(|r| RecordKey::parse(r).ok_or_else(|| ApiError::invalid("records", format!("`{r}` is not source:id"))))
        .collect::<Result<Vec<_>, _>>()?;
    if records.is_empty() {
        return Err(ApiError::invalid("records", "name the records to split off"));
    }
    let reason = request.reason;
    let outcome =
        with_hub(&state, move |hub, store| hub.unmerge(store, entity, &records, &by, reason.as_deref())).await?;
    Ok(Json(steward_response(outcome)))
}

/// The steward as lineage shows them: the caller's key, and the person named in the request if any.
fn steward(by: Option<&str>, caller: &Principal) -> String {
    match by.map(str::trim).filter(|b| !b.is_empty()) {
        Some(by) => format!("steward:{by} ({})", caller.actor()),
        None => format!("steward:{}", caller.actor()),
    }
}
