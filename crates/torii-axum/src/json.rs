//! A JSON body extractor whose rejections are Torii's JSON errors.
//!
//! axum's own `Json` rejections answer in plain text and can quote the offending input, which for an
//! auth endpoint may be a password. This wrapper maps every rejection to a fixed message: 415 for a
//! missing or wrong content type, 413 for an oversized body, 422 for anything malformed.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON request body.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(map_rejection(&rejection)),
        }
    }
}

fn map_rejection(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::unsupported_media_type(),
        JsonRejection::JsonSyntaxError(_) => ApiError::invalid_body("The request body is not valid JSON"),
        JsonRejection::JsonDataError(_) => {
            ApiError::invalid_body("The request body is missing a field or has a field of the wrong type")
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "The request body is too large")
        }
        _ => ApiError::invalid_body("The request body could not be read"),
    }
}
