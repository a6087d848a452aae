//! The data-subject endpoints: everything held about a person as one document (right of access), erasing it
//! (right to be forgotten), and the receipts erasures leave.

use super::auth::AuditTarget;
use super::auth::Principal;
use super::error::ApiError;
use super::writes::{body, with_hub};
use super::{ApiState, with_store_mut};
use crate::subject::{SubjectExport, nothing_held, subject_named};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use store::{Erasure, ErasureRequest, Subject};
use utoipa::ToSchema;

/// Everything the hub holds about a person: the golden record, every source record with every version, their
/// quarantine entries, the entity's history, scored pairs, stewards' decisions, and the audit entries that name
/// them — one JSON document (`format` names its version). A former (merged) id finds the live entity; a source
/// record finds its entity, or when it is in none (quarantined, or not resolved yet) the record alone.
#[utoipa::path(
    get,
    path = "/subjects/{id}/export",
    tag = "privacy",
    params(("id" = String, Path, description = "Entity id (E12) or source record (crm:K1)")),
    responses(
        (status = 200, description = "The export", content_type = "application/json"),
        (status = 400, description = "A malformed id", body = ApiError),
        (status = 404, description = "Nothing held (no live entity, or nothing under the record key)", body = ApiError),
    )
)]
pub async fn export(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let who = subject_named(&id).map_err(|m| ApiError::invalid("id", m))?;
    with_store_mut(&state, move |store, _| {
        let data = store.subject(&who)?.ok_or_else(|| ApiError::not_found(nothing_held(&who)))?;
        let document = SubjectExport::new(&who, &data, crate::clock::now());
        serde_json::to_value(&document).map_err(|e| ApiError::internal(format!("rendering the export: {e}")))
    })
    .await
    .map(Json)
}

/// An erasure to carry out.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequestBody {
    /// On whose behalf or under which request: a ticket or case number (1–200 characters; not the person's name,
    /// as it is kept in the receipt).
    pub requested_by: String,
    /// Why, if worth saying (kept in the receipt).
    #[serde(default)]
    pub reason: Option<String>,
    /// Put the person's source records on the suppression list, so pushing or ingesting them again stores
    /// nothing (default true).
    #[serde(default)]
    pub suppress: Option<bool>,
}

/// The receipt of an erasure.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ErasureResponse {
    /// Receipt number.
    pub receipt: i64,
    /// The entity erased (absent for a source record in no entity).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
    /// It and the entities merged into it (ids downstream systems may hold).
    pub entities: Vec<String>,
    /// When, seconds since the epoch.
    pub at: i64,
    /// Who carried it out.
    pub actor: String,
    /// On whose behalf.
    pub requested_by: String,
    /// Why, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Source records removed.
    pub records: i64,
    /// SHA-256 of the person's data as it was erased.
    pub digest: String,
    /// Source records put on the suppression list.
    pub suppressed: i64,
    /// Feed sequence of the `subject.erased` event (absent in a list of receipts).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event: Option<i64>,
    /// False when readers kept the database's write-ahead log from being emptied at once (absent in a list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_cleared: Option<bool>,
}

impl ErasureResponse {
    fn of(e: Erasure) -> Self {
        ErasureResponse {
            receipt: e.id,
            entity: e.entity.map(|e| e.to_string()),
            entities: e.entities.iter().map(ToString::to_string).collect(),
            at: e.at,
            actor: e.actor,
            requested_by: e.requested_by,
            reason: e.reason,
            records: e.records,
            digest: e.digest,
            suppressed: e.suppressed,
            event: None,
            log_cleared: None,
        }
    }
}

/// Erases a person: their source records (every version), quarantine entries, pairs and stewards' pins, the
/// golden record (the entity is retired), the payloads of their entities' feed events, their record keys in other
/// events, and the audit targets that name them. Appends a `subject.erased` event (to the feed and so to
/// webhooks) and keeps only a receipt. Irreversible. Named by a source record in no entity (quarantined, or not
/// resolved yet), the record and its quarantine entries go, and the audit trail records the request by its
/// receipt, not the key.
#[utoipa::path(
    post,
    path = "/subjects/{id}/erase",
    tag = "privacy",
    params(("id" = String, Path, description = "Entity id (E12) or source record (crm:K1)")),
    request_body = ErasureRequestBody,
    responses(
        (status = 200, description = "Erased; the receipt", body = ErasureResponse),
        (status = 400, description = "A malformed id or body", body = ApiError),
        (status = 404, description = "Nothing held (no live entity, or nothing under the record key)", body = ApiError),
    )
)]
pub async fn erase(
    State(state): State<Arc<ApiState>>,
    Extension(caller): Extension<Principal>,
    Path(id): Path<String>,
    request: Result<Json<ErasureRequestBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    let request = body(request)?;
    let who = subject_named(&id).map_err(|m| ApiError::invalid("id", m))?;
    let requested_by = request.requested_by.trim().to_string();
    if requested_by.is_empty() || requested_by.chars().count() > 200 {
        return Err(ApiError::invalid("requested_by", "requested_by must be 1 to 200 characters"));
    }
    let request = ErasureRequest {
        actor: caller.actor(),
        requested_by,
        reason: request.reason.map(|r| r.trim().to_string()).filter(|r| !r.is_empty()),
        suppress: request.suppress.unwrap_or(true),
    };
    let named = who.clone();
    let outcome = with_hub(&state, move |hub, store| hub.erase(store, &named, &request)).await?;
    let outcome = outcome.ok_or_else(|| ApiError::not_found(nothing_held(&who)))?;
    let mut body = ErasureResponse::of(outcome.receipt);
    body.event = Some(outcome.event);
    body.log_cleared = Some(outcome.log_cleared);
    let mut response = Json(&body).into_response();
    if let Subject::Record(_) = who {
        // The key named what was just erased: the trail records the receipt instead.
        response.extensions_mut().insert(AuditTarget(format!("POST /subjects/[receipt {}]/erase", body.receipt)));
    }
    Ok(response)
}

/// Every erasure receipt, oldest first: what was erased, when, by whom, on whose behalf, and its digest.
#[utoipa::path(
    get,
    path = "/erasures",
    tag = "privacy",
    responses((status = 200, description = "The receipts", body = [ErasureResponse]))
)]
pub async fn receipts(State(state): State<Arc<ApiState>>) -> Result<Json<Vec<ErasureResponse>>, ApiError> {
    with_store_mut(&state, |store, _| Ok(store.erasures()?.into_iter().map(ErasureResponse::of).collect()))
        .await
        .map(Json)
}
