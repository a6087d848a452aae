//! The HTTP API (`cdihub serve`): push source records (each matched and merged at once), let stewards merge and
//! unmerge, and read the 360° view — an entity with its golden record, provenance and member records, its
//! history, lookup by any source key, search, match explanations and the change feed — and a person's rights of
//! access and erasure,
//! documented by an OpenAPI 3 spec generated from the code (`/openapi.json`, readable at `/docs`). JSON in and
//! out; every error is `{code, message, field}`.

pub mod auth;
mod docs;
mod error;
mod hooks;
mod keys;
pub mod oidc;
mod reads;
mod stream;
mod subjects;
pub mod tls;
mod types;
mod writes;

pub use error::ApiError;
pub use types::*;

use crate::realtime::Hub;
use axum::Router;
use axum::routing::{get, post, put};
use model::Config;
use std::sync::{Arc, Mutex};
use store::Store;

/// What every request handler shares: the store (one connection, used by one request at a time), the
/// configuration it was opened with, and the real-time hub that makes changes (locked before the store).
pub struct ApiState {
    store: Mutex<Box<dyn Store + Send>>,
    hub: Mutex<Hub>,
    config: Config,
    roles: govern::Roles,
    verified_keys: Mutex<auth::VerifiedKeys>,
    oidc: Option<Arc<oidc::Oidc>>,
}

impl ApiState {
    /// State over an open store and the hub opened on it (so its blocking index is ready).
    pub fn with_hub(store: Box<dyn Store + Send>, hub: Hub) -> Self {
        let config = hub.config().clone();
        let roles = govern::Roles::new(&config);
        let oidc = config.oidc.clone().map(|o| Arc::new(oidc::Oidc::new(o)));
        ApiState {
            store: Mutex::new(store),
            hub: Mutex::new(hub),
            config,
            roles,
            verified_keys: Mutex::default(),
            oidc,
        }
    }
}

/// Runs `f` with the store on a blocking thread (SQLite calls block), one request at a time.
async fn with_store_mut<T: Send + 'static>(
    state: &Arc<ApiState>,
    f: impl FnOnce(&mut dyn Store, &Config) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let state = Arc::clone(state);
    tokio::task::spawn_blocking(move || {
        let mut store = state.store.lock().map_err(|_| ApiError::internal("the store is unusable after a failure"))?;
        f(store.as_mut(), &state.config)
    })
    .await
    .map_err(|e| ApiError::internal(format!("request failed: {e}")))?
}

/// A positive numeric id from a path (`what` names it in the error: "webhook", "key").
fn numeric_id(text: &str, what: &str) -> Result<i64, ApiError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::invalid("id", format!("`{text}` is not a {what} id")))
}

/// The `after` and `limit` of a paged log (the change feed, the audit trail): `after` at least 0 (default 0),
/// `limit` 1 to 10,000 (default `default_limit`).
fn page_params(after: Option<i64>, limit: Option<usize>, default_limit: usize) -> Result<(i64, usize), ApiError> {
    let after = after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::invalid("after", "after must be 0 or a sequence number"));
    }
    let limit = limit.unwrap_or(default_limit);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::invalid("limit", "limit must be between 1 and 10000"));
    }
    Ok((after, limit))
}

/// The routes of the API.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/health", get(reads::health))
        .route("/entities/{id}", get(reads::entity))
        .route("/entities/{id}/history", get(reads::history))
        .route("/entities/merge", post(writes::merge))
        .route("/entities/{id}/unmerge", post(writes::unmerge))
        .route("/sources/{source}/records/{id}", put(writes::put_record).delete(writes::delete_record))
        .route("/sources/{source}/records:batch", post(writes::post_batch))
        .route("/feed", get(reads::feed))
        .route("/feed/stream", get(stream::stream))
        .route("/webhooks", post(hooks::register).get(hooks::list))
        .route("/webhooks/{id}", get(hooks::show).delete(hooks::remove))
        .route("/api-keys", post(keys::create).get(keys::list))
        .route("/api-keys/{id}", axum::routing::delete(keys::revoke))
        .route("/audit", get(keys::audit))
        .route("/subjects/{id}/export", get(subjects::export))
        .route("/subjects/{id}/erase", post(subjects::erase))
        .route("/erasures", get(subjects::receipts))
        .route("/lookup", get(reads::lookup))
        .route("/search", get(reads::search))
        .route("/explain", get(reads::explain))
        .route("/openapi.json", get(docs::spec))
        .route("/docs", get(docs::page))
        .route_layer(axum::middleware::from_fn_with_state(Arc::clone(&state), auth::authorize))
        .fallback(error::not_found)
        .layer(axum::extract::DefaultBodyLimit::max(writes::MAX_BODY))
        .with_state(state)
}

/// Serves the API on `listener` (plain TCP, or [`tls::TlsListener`]) until `shutdown` completes.
pub async fn serve<L>(
    listener: L,
    state: Arc<ApiState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
    tls::Peer: for<'a> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    let app = router(state).into_make_service_with_connect_info::<tls::Peer>();
    axum::serve(listener, app).with_graceful_shutdown(shutdown).await
}

/// Purges the records past their source's retention now and then every `every`, for as long as the server runs
/// (through the hub, as any change): each run that purged something is recorded in the audit trail and told on
/// standard error; a failed run is told and tried again next time.
pub async fn retention_schedule(state: Arc<ApiState>, every: std::time::Duration) {
    loop {
        let outcome = writes::with_hub(&state, |hub, store| {
            let report = hub.purge_expired(store)?;
            for (source, purged) in report.iter().filter(|(_, n)| *n > 0) {
                let entry = store::NewAuditEntry {
                    actor: "system:retention".into(),
                    action: "change".into(),
                    target: format!("retention: {purged} records of {source} purged"),
                    origin: "local".into(),
                    status: 0,
                };
                store.append_audit(&entry, crate::clock::now())?;
            }
            Ok(report)
        })
        .await;
        match outcome {
            Ok(report) => {
                for (source, purged) in report.iter().filter(|(_, n)| *n > 0) {
                    eprintln!("cdihub: retention purged {purged} records of {source}");
                }
            }
            Err(e) => eprintln!("cdihub: retention failed (tried again later): {}", e.message),
        }
        tokio::time::sleep(every).await;
    }
}

/// The OpenAPI document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    docs::document()
}
