//! The access endpoints: issue an API key (shown once), list keys, revoke one, and read the audit trail. Keys
//! are checked by [`super::auth`]; the first key is made with `cdihub api-keys create`.

use super::auth::Principal;
use super::error::ApiError;
use super::writes::body;
use super::{ApiState, numeric_id, page_params, with_store_mut};
use crate::api_keys::{DEFAULT_DAYS, IssueError, KeyRequest, issue};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use store::{ApiKey, AuditEntry};
use utoipa::IntoParams;
use utoipa::ToSchema;

/// A key to issue.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyRequest {
    /// Who or what holds it (1–100 characters), shown in lineage and the audit trail.
    pub name: String,
    /// Its role: `admin`, `steward`, `analyst`, `ingest-service`, `auditor`, or one configured under `[roles]`.
    pub role: String,
    /// Days until it expires, 1–3650 (default 90).
    #[serde(default)]
    pub expires_in_days: Option<u32>,
}

/// An API key (never its secret).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyResponse {
    /// Its id: the number in `cdh_<id>_…`.
    pub id: i64,
    /// Holder.
    pub name: String,
    /// Role.
    pub role: String,
    /// Who issued it.
    pub created_by: String,
    /// When, seconds since the epoch.
    pub created_at: i64,
    /// When it expires, seconds since the epoch; absent: never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// When it was revoked, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<i64>,
}

/// A newly issued key, with the key itself — shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyCreated {
    /// The stored key.
    pub key: ApiKeyResponse,
    /// The key to send as `Authorization: Bearer <token>`.
    pub token: String,
}

/// Every key.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApiKeyList {
    /// By id, revoked and expired ones included.
    pub keys: Vec<ApiKeyResponse>,
}

fn response(key: ApiKey) -> ApiKeyResponse {
    ApiKeyResponse {
        id: key.id,
        name: key.name,
        role: key.role,
        created_by: key.created_by,
        created_at: key.created_at,
        expires_at: key.expires_at,
        revoked_at: key.revoked_at,
    }
}

/// Issues an API key. The key (`token`) is in this answer only: store it safely; only its hash is kept.
#[utoipa::path(
    post,
    path = "/api-keys",
    tag = "access",
    request_body = ApiKeyRequest,
    responses(
        (status = 201, description = "Issued; the token is shown this once", body = ApiKeyCreated),
        (status = 400, description = "No name, an unknown role, or an expiry out of range", body = ApiError),
    )
)]
pub async fn create(
    State(state): State<Arc<ApiState>>,
    Extension(caller): Extension<Principal>,
    request: Result<Json<ApiKeyRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<ApiKeyCreated>), ApiError> {
    let request = body(request)?;
    let roles = state.roles.clone();
    let request = KeyRequest {
        name: request.name,
        role: request.role,
        expires_in_days: Some(request.expires_in_days.unwrap_or(DEFAULT_DAYS)),
        created_by: caller.actor(),
    };
    with_store_mut(&state, move |store, _| {
        let (key, token) = issue(store, &roles, request, crate::clock::now()).map_err(|e| match e {
            IssueError::Invalid { field, message } => ApiError::invalid(field, message),
            other => ApiError::internal(other.to_string()),
        })?;
        Ok((StatusCode::CREATED, Json(ApiKeyCreated { key: response(key), token })))
    })
    .await
}

/// Every API key, revoked and expired ones included (never their secrets).
#[utoipa::path(
    get,
    path = "/api-keys",
    tag = "access",
    responses((status = 200, description = "The keys", body = ApiKeyList))
)]
pub async fn list(State(state): State<Arc<ApiState>>) -> Result<Json<ApiKeyList>, ApiError> {
    with_store_mut(&state, |store, _| {
        Ok(Json(ApiKeyList { keys: store.api_keys()?.into_iter().map(response).collect() }))
    })
    .await
}

/// Revokes an API key: it stops working at once, in every server using this store.
#[utoipa::path(
    delete,
    path = "/api-keys/{id}",
    tag = "access",
    params(("id" = i64, Path, description = "Key id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 400, description = "Not a key id", body = ApiError),
        (status = 404, description = "No such key, or revoked already", body = ApiError),
    )
)]
pub async fn revoke(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let id = numeric_id(&id, "key")?;
    with_store_mut(&state, move |store, _| match store.revoke_api_key(id, crate::clock::now())? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::not_found(format!("no active API key {id}"))),
    })
    .await
}

/// Parameters of `GET /audit`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Entries after this sequence number (default 0: from the start).
    after: Option<i64>,
    /// Most entries (default 100, at most 10,000).
    limit: Option<usize>,
}

/// A page of the audit trail.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditPage {
    /// Oldest first.
    pub entries: Vec<AuditEntryResponse>,
    /// The last sequence number in this page (pass as `after` for the next), or `after` when empty.
    pub last: i64,
}

/// One audit entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditEntryResponse {
    /// Sequence number.
    pub seq: i64,
    /// When, seconds since the epoch.
    pub at: i64,
    /// Who: `key:3:crm-sync`, `cli:alice`.
    pub actor: String,
    /// `change`, or `read` of personal data unmasked.
    pub action: String,
    /// The request (`PUT /sources/crm/records/7`) or the command.
    pub target: String,
    /// The client's address, or `local`.
    pub origin: String,
    /// HTTP status, or 0 for a command that succeeded.
    pub status: i64,
    /// SHA-256 (hex) chaining this entry to the one before.
    pub hash: String,
}

impl From<AuditEntry> for AuditEntryResponse {
    fn from(e: AuditEntry) -> Self {
        AuditEntryResponse {
            seq: e.seq,
            at: e.at,
            actor: e.actor,
            action: e.action,
            target: e.target,
            origin: e.origin,
            status: e.status,
            hash: e.hash,
        }
    }
}

/// The audit trail: every change (over the API or by a command) and every read of personal data unmasked,
/// oldest first, each chained to the one before by its hash (`cdihub audit verify` checks the chain).
#[utoipa::path(
    get,
    path = "/audit",
    tag = "access",
    params(AuditParams),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 400, description = "A negative `after`, or `limit` out of range", body = ApiError),
    )
)]
pub async fn audit(
    State(state): State<Arc<ApiState>>,
    Query(params): Query<AuditParams>,
) -> Result<Json<AuditPage>, ApiError> {
    let (after, limit) = page_params(params.after, params.limit, 100)?;
    with_store_mut(&state, move |store, _| {
        let entries: Vec<AuditEntryResponse> = store.audit(after, limit)?.into_iter().map(Into::into).collect();
        let last = entries.last().map_or(after, |e| e.seq);
        Ok(Json(AuditPage { entries, last }))
    })
    .await
}
