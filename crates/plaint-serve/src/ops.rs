//! Operations: health, readiness, metrics, and the answers to unknown routes.

use crate::error::ApiError;
use crate::AppState;
use axum::http::{Method, StatusCode, Uri};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

/// `GET /healthz`: the process answers.
pub(crate) async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Any path no route serves: 404 as a problem document.
pub(crate) async fn unknown_route(method: Method, uri: Uri) -> ApiError {
    ApiError::not_found(format!(
        "no route {method} {}; the API is described at /v1/openapi.json",
        uri.path()
    ))
    .with_instance(uri.path().to_owned())
}

/// A known path with a method it does not serve: 405 as a problem document.
pub(crate) async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        format!("{} does not accept {method}; see /v1/openapi.json", uri.path()),
    )
    .with_instance(uri.path().to_owned())
}
