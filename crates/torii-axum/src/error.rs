//! JSON error responses.
//!
//! Every failure leaves as `{"code": "...", "message": "..."}` with the right status. Messages are fixed
//! strings or policy messages that never echo input, so no password, token, SQL or stack trace can end
//! up in a body. Server-side failures are logged (without secrets) and answered with a generic message.

use std::borrow::Cow;

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use torii_core::{PasskeyError, StorageError, ToriiError};

/// An error answered as JSON: `{"code": "...", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: Cow<'static, str>,
    /// Seconds to wait, for 429 (sent as `Retry-After` and in the body).
    retry_after: Option<u64>,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with this status, machine-readable code and human message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<Cow<'static, str>>) -> Self {
        Self { status, code, message: message.into(), retry_after: None }
    }

    /// 429 `too_many_requests`, with `Retry-After: <seconds>` and `retry_after` in the body. One answer
    /// for every limit and every account, known or not.
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        Self {
            retry_after: Some(retry_after_secs.max(1)),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "too_many_requests", "Too many attempts; try again later")
        }
    }

    /// 401: no valid session.
    pub fn unauthenticated() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", "Authentication required")
    }

    /// 401: wrong email or password (one body for both).
    pub fn invalid_credentials() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_credentials", "Invalid email or password")
    }

    /// 403: a cross-site request to a cookie-authenticated endpoint.
    pub fn cross_site() -> Self {
        Self::new(StatusCode::FORBIDDEN, "cross_site_request", "Cross-site requests are not allowed")
    }

    /// 403: the session is older than the freshness window; re-authenticate (`POST /reauthenticate`)
    /// and try again.
    pub fn reauthentication_required() -> Self {
        Self::new(StatusCode::FORBIDDEN, "reauthentication_required", "Confirm it is you: sign in again to continue")
    }

    /// 404.
    pub fn not_found(what: &'static str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", what)
    }

    /// 415: the body must be JSON.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Expected a request with Content-Type: application/json",
        )
    }

    /// 422: the body is not what this endpoint takes.
    pub fn invalid_body(message: &'static str) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", message)
    }

    /// 500, for misconfiguration and bugs.
    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Internal server error")
    }

    /// 503: the database is unreachable; try again later.
    pub fn unavailable() -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "service_unavailable", "Service temporarily unavailable")
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine-readable code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The human-readable message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// For 429: how many seconds to wait.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body { code: self.code, message: &self.message, retry_after: self.retry_after };
        let mut response = (self.status, Json(body)).into_response();
        response.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(secs));
        }
        response
    }
}

impl From<StorageError> for ApiError {
    fn from(err: StorageError) -> Self {
        ToriiError::Storage(err).into()
    }
}

impl From<ToriiError> for ApiError {
    fn from(err: ToriiError) -> Self {
        match err {
            ToriiError::InvalidCredentials => Self::invalid_credentials(),
            ToriiError::AuthError(_) | ToriiError::SessionNotFound | ToriiError::SessionExpired => {
                Self::unauthenticated()
            }
            ToriiError::UserNotFound => Self::unauthenticated(),
            ToriiError::TooManyAttempts { retry_after } => Self::too_many_requests(retry_after.as_secs()),
            // Only ever returned after the password was checked, so it reveals nothing to a guesser.
            ToriiError::EmailNotVerified => Self::new(
                StatusCode::FORBIDDEN,
                "email_not_verified",
                "Confirm your email address first: follow the link we sent you",
            ),
            // A bad or stale link or token in a request body is the caller's problem, not the server's.
            ToriiError::InvalidToken(_) => {
                Self::new(StatusCode::BAD_REQUEST, "invalid_token", "This link is invalid or has expired")
            }
            ToriiError::UserAlreadyExists => {
                Self::new(StatusCode::CONFLICT, "email_taken", "An account with this email address already exists")
            }
            ToriiError::InvalidEmail(reason) => Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_email", reason),
            ToriiError::WeakPassword(policy) => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, "weak_password", policy.to_string())
            }
            ToriiError::Unsupported(reason) => Self::new(StatusCode::NOT_IMPLEMENTED, "not_supported", reason),
            ToriiError::ServiceNotFound(_) => Self::not_found("This authentication method is not enabled"),
            ToriiError::OAuth(err) => crate::oauth_error::from_oauth(err),
            ToriiError::Passkey(err) => from_passkey(err),
            ToriiError::Storage(storage) if storage.is_unavailable() => {
                tracing::warn!(error = %storage, "storage unavailable");
                Self::unavailable()
            }
            other => {
                // Display of these errors carries no secrets; the source chain stays in the logs.
                tracing::error!(error = %other, "request failed");
                Self::internal()
            }
        }
    }
}

/// Passkey refusals: 400 for a ceremony that failed, 409 for conflicts, 422 for a bad name.
fn from_passkey(err: PasskeyError) -> ApiError {
    match err {
        PasskeyError::AlreadyRegistered => {
            ApiError::new(StatusCode::CONFLICT, "passkey_exists", "This passkey is already registered")
        }
        PasskeyError::LastLoginMethod => ApiError::new(
            StatusCode::CONFLICT,
            "last_login_method",
            "This is the account's last way to log in; add another before removing it",
        ),
        PasskeyError::InvalidName(reason) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_name", reason),
        _ => ApiError::new(
            StatusCode::BAD_REQUEST,
            "passkey_rejected",
            "The passkey could not be registered; start again",
        ),
    }
}
