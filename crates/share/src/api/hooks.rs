//! The webhook endpoints: register an endpoint for the change feed, list, inspect (how far delivery is, why it
//! fails) and remove. Delivery itself is [`crate::webhooks`].

use super::error::ApiError;
use super::writes::body;
use super::{ApiState, numeric_id, with_store_mut};
use crate::webhooks::{WebhookError, check_events, check_secret, check_url, new_secret};
use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use store::{NewWebhook, Webhook};
use utoipa::ToSchema;

/// A webhook to register.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookRequest {
    /// Where to POST events: an `http://` or `https://` URL. Redirects are not followed.
    pub url: String,
    /// The event kinds wanted (`entity.created`, `entity.updated`, `entity.split`, `entity.merged`,
    /// `entity.retired`, `record.quarantined`); absent or empty: all.
    #[serde(default)]
    pub events: Vec<String>,
    /// The signing secret (16–256 printable characters); absent: one is generated and returned once.
    #[serde(default)]
    pub secret: Option<String>,
    /// Deliver the events after this feed sequence; absent: only events from now on; 0: the whole feed.
    #[serde(default)]
    pub after: Option<i64>,
}

/// A registered webhook and how far delivery is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookResponse {
    /// Its id.
    pub id: i64,
    /// Where events go.
    pub url: String,
    /// The event kinds it receives; empty: all.
    pub events: Vec<String>,
    /// When it was registered, seconds since the epoch.
    pub created_at: i64,
    /// The last feed sequence delivered (or passed over as unwanted).
    pub cursor: i64,
    /// The newest feed sequence: `feed_head - cursor` events are still to go.
    pub feed_head: i64,
    /// Failed attempts in a row at the next batch; 0 when delivery is healthy.
    pub attempts: u32,
    /// When the next attempt is due, milliseconds since the epoch (while failing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<i64>,
    /// When the current run of failures began, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failing_since: Option<i64>,
    /// Why the last attempt failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// When events were last delivered, seconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_at: Option<i64>,
}

/// A new registration, with its secret — shown this once.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookCreated {
    /// The webhook.
    pub webhook: WebhookResponse,
    /// The signing secret: deliveries carry `Cdihub-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
    /// "<t>.<body>" under this secret>`.
    pub secret: String,
}

/// Every registered webhook.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WebhookList {
    /// By id.
    pub webhooks: Vec<WebhookResponse>,
}

fn response(hook: Webhook, feed_head: i64) -> WebhookResponse {
    WebhookResponse {
        id: hook.id,
        url: hook.url,
        events: hook.events,
        created_at: hook.created_at,
        cursor: hook.cursor,
        feed_head,
        attempts: hook.attempts,
        retry_at: hook.retry_at,
        failing_since: hook.failing_since,
        last_error: hook.last_error,
        delivered_at: hook.delivered_at,
    }
}

fn invalid(e: WebhookError) -> ApiError {
    match e {
        WebhookError::Invalid { field, message } => ApiError::invalid(field, message),
        other => ApiError::internal(other.to_string()),
    }
}

/// Registers an endpoint for the change feed. It receives the events after `after` as signed `POST`s of
/// `WebhookDelivery` batches, in feed order (so in order per entity); a batch not answered with a 2xx within the
/// timeout is retried with exponential backoff until it is (at least once: deduplicate by `seq`).
#[utoipa::path(
    post,
    path = "/webhooks",
    tag = "webhooks",
    request_body = WebhookRequest,
    responses(
        (status = 201, description = "Registered; the secret is shown this once", body = WebhookCreated),
        (status = 400, description = "A malformed URL, an unknown event kind, a weak secret or a negative `after`", body = ApiError),
    )
)]
pub async fn register(
    State(state): State<Arc<ApiState>>,
    request: Result<Json<WebhookRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<WebhookCreated>), ApiError> {
    let request = body(request)?;
    check_url(&request.url).map_err(invalid)?;
    check_events(&request.events).map_err(invalid)?;
    let secret = match request.secret {
        Some(secret) => {
            check_secret(&secret).map_err(invalid)?;
            secret
        }
        None => new_secret().map_err(invalid)?,
    };
    if request.after.is_some_and(|a| a < 0) {
        return Err(ApiError::invalid("after", "after must be 0 or a feed sequence"));
    }
    let (url, events, after) = (request.url, request.events, request.after);
    with_store_mut(&state, move |store, _| {
        let head = store.feed_head()?;
        let hook = NewWebhook { url, secret: secret.clone(), events, after: after.unwrap_or(head) };
        let hook = store.add_webhook(&hook, crate::clock::now())?;
        Ok((StatusCode::CREATED, Json(WebhookCreated { webhook: response(hook, head), secret })))
    })
    .await
}

/// Every registered webhook with its delivery state (secrets are not shown).
#[utoipa::path(
    get,
    path = "/webhooks",
    tag = "webhooks",
    responses((status = 200, description = "The webhooks", body = WebhookList))
)]
pub async fn list(State(state): State<Arc<ApiState>>) -> Result<Json<WebhookList>, ApiError> {
    with_store_mut(&state, |store, _| {
        let head = store.feed_head()?;
        let webhooks = store.webhooks()?.into_iter().map(|h| response(h, head)).collect();
        Ok(Json(WebhookList { webhooks }))
    })
    .await
}

/// One webhook: how far delivery is, and while it fails, why and when it is tried next.
#[utoipa::path(
    get,
    path = "/webhooks/{id}",
    tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 200, description = "The webhook", body = WebhookResponse),
        (status = 400, description = "Not a webhook id", body = ApiError),
        (status = 404, description = "No such webhook", body = ApiError),
    )
)]
pub async fn show(
    State(state): State<Arc<ApiState>>,
    Path(id): Path<String>,
) -> Result<Json<WebhookResponse>, ApiError> {
    let id = numeric_id(&id, "webhook")?;
    with_store_mut(&state, move |store, _| {
        let hook = store.webhook(id)?.ok_or_else(|| ApiError::not_found(format!("no webhook {id}")))?;
        Ok(Json(response(hook, store.feed_head()?)))
    })
    .await
}

/// Removes a webhook: nothing more is delivered to it (a delivery in flight finishes).
#[utoipa::path(
    delete,
    path = "/webhooks/{id}",
    tag = "webhooks",
    params(("id" = i64, Path, description = "Webhook id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Not a webhook id", body = ApiError),
        (status = 404, description = "No such webhook", body = ApiError),
    )
)]
pub async fn remove(State(state): State<Arc<ApiState>>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let id = numeric_id(&id, "webhook")?;
    with_store_mut(&state, move |store, _| match store.remove_webhook(id)? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::not_found(format!("no webhook {id}"))),
    })
    .await
}
