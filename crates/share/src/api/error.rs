//! The one error body of the API: `{code, message, field}` with a matching HTTP status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ApiError {
    /// Stable machine-readable code: `not_found`, `invalid`, `unauthenticated`, `forbidden`, `not_ready`,
    /// `conflict`, `internal`.
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// The request field or parameter at fault, if one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip)]
    status: StatusCode,
}

impl ApiError {
    /// 404: nothing under that name.
    pub fn not_found(message: impl Into<String>) -> Self {
        ApiError { code: "not_found".into(), message: message.into(), field: None, status: StatusCode::NOT_FOUND }
    }

    /// 400: a parameter is missing or malformed.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ApiError {
            code: "invalid".into(),
            message: message.into(),
            field: Some(field.into()),
            status: StatusCode::BAD_REQUEST,
        }
    }

    /// 401: no credential, or one that is unknown, expired or revoked.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError {
            code: "unauthenticated".into(),
            message: message.into(),
            field: None,
            status: StatusCode::UNAUTHORIZED,
        }
    }

    /// 403: the caller's role does not allow this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError { code: "forbidden".into(), message: message.into(), field: None, status: StatusCode::FORBIDDEN }
    }

    /// 405: the route exists, the method is not one of its (the response's `Allow` header lists them).
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        ApiError {
            code: "method_not_allowed".into(),
            message: message.into(),
            field: None,
            status: StatusCode::METHOD_NOT_ALLOWED,
        }
    }

    /// 409: the hub has no result of that kind yet (no resolution, no model).
    pub fn not_ready(message: impl Into<String>) -> Self {
        ApiError { code: "not_ready".into(), message: message.into(), field: None, status: StatusCode::CONFLICT }
    }

    /// 409: the request conflicts with the current state (retry, or ask differently).
    pub fn conflict(message: impl Into<String>) -> Self {
        ApiError { code: "conflict".into(), message: message.into(), field: None, status: StatusCode::CONFLICT }
    }

    /// 503: something the server depends on (the identity provider) cannot be reached; try again later.
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError {
            code: "unavailable".into(),
            message: message.into(),
            field: None,
            status: StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// 500: the store or the server failed.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError {
            code: "internal".into(),
            message: message.into(),
            field: None,
            status: StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The HTTP status of this error.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<store::Error> for ApiError {
    fn from(e: store::Error) -> Self {
        ApiError::internal(format!("store: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let challenge = self.status == StatusCode::UNAUTHORIZED;
        let mut response = (self.status(), Json(self)).into_response();
        if challenge {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"cdihub\""),
            );
        }
        response
    }
}

/// Unknown paths answer with the error body too.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint; see /docs")
}
