use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use torii_core::RepositoryProvider;

use super::RouteState;
use crate::error::ApiError;

/// `GET /health`: 200 when the storage answers, 503 when it does not.
pub(crate) async fn health<R: RepositoryProvider>(State(state): State<RouteState<R>>) -> Result<Json<Value>, ApiError> {
    match state.torii.storage().health_check().await {
        Ok(()) => Ok(Json(json!({ "status": "ok" }))),
        Err(err) => {
            tracing::warn!(error = %err, "health check failed");
            Err(ApiError::unavailable())
        }
    }
}
