//! The HTTP API (`cdihub serve`): read the 360° view over HTTP — an entity with its golden record, provenance
//! and member records, its history, lookup by any source key, search, match explanations and the change feed —
//! documented by an OpenAPI 3 spec generated from the code (`/openapi.json`, readable at `/docs`). JSON in and
//! out; every error is `{code, message, field}`.

mod docs;
mod error;
mod reads;
mod stream;
mod types;

pub use error::ApiError;
pub use types::*;

use axum::Router;
use axum::routing::get;
use model::Config;
use std::sync::{Arc, Mutex};
use store::Store;

/// What every request handler shares: the store (one connection, used by one request at a time) and the
/// configuration it was opened with.
pub struct ApiState {
    store: Mutex<Box<dyn Store + Send>>,
    config: Config,
}

impl ApiState {
    /// State over an open store.
    pub fn new(store: Box<dyn Store + Send>, config: Config) -> Self {
        ApiState { store: Mutex::new(store), config }
    }
}

/// The routes of the API.
pub fn router(state: Arc<ApiState>) -> Router {
    Router::new()
        .route("/health", get(reads::health))
        .route("/entities/{id}", get(reads::entity))
        .route("/entities/{id}/history", get(reads::history))
        .route("/feed", get(reads::feed))
        .route("/feed/stream", get(stream::stream))
        .route("/lookup", get(reads::lookup))
        .route("/search", get(reads::search))
        .route("/explain", get(reads::explain))
        .route("/openapi.json", get(docs::spec))
        .route("/docs", get(docs::page))
        .fallback(error::not_found)
        .with_state(state)
}

/// Serves the API on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<ApiState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state)).with_graceful_shutdown(shutdown).await
}

/// The OpenAPI document of the API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    docs::document()
}
