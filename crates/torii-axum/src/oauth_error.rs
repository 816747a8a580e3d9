//! Statuses and codes for failed OAuth steps.

use axum::http::StatusCode;
use torii_core::OAuthError;

use crate::error::ApiError;

/// Maps an OAuth failure to its response. Messages are the error's fixed text; the provider's own
/// error (kept as the source) goes to the log only.
pub(crate) fn from_oauth(err: OAuthError) -> ApiError {
    let (status, code) = match &err {
        OAuthError::InvalidState => (StatusCode::BAD_REQUEST, "oauth_invalid_state"),
        OAuthError::ProviderMismatch => (StatusCode::BAD_REQUEST, "oauth_provider_mismatch"),
        OAuthError::IssuerMismatch => (StatusCode::BAD_REQUEST, "oauth_issuer_mismatch"),
        OAuthError::Denied => (StatusCode::FORBIDDEN, "oauth_denied"),
        OAuthError::CodeExchange(_) | OAuthError::InvalidIdToken(_) => (StatusCode::UNAUTHORIZED, "oauth_failed"),
        OAuthError::Provider(_) => (StatusCode::BAD_GATEWAY, "oauth_provider_unavailable"),
        OAuthError::MissingEmail => (StatusCode::UNPROCESSABLE_ENTITY, "oauth_missing_email"),
        OAuthError::EmailInUse => (StatusCode::CONFLICT, "oauth_email_in_use"),
        OAuthError::IdentityInUse => (StatusCode::CONFLICT, "oauth_identity_in_use"),
        OAuthError::ProviderAlreadyLinked => (StatusCode::CONFLICT, "oauth_provider_already_linked"),
        OAuthError::LinkRequiresLogin => (StatusCode::UNAUTHORIZED, "oauth_link_requires_login"),
        OAuthError::LastLoginMethod => (StatusCode::CONFLICT, "oauth_last_login_method"),
        OAuthError::NotLinked => (StatusCode::NOT_FOUND, "oauth_not_linked"),
        _ => {
            tracing::error!(error = %err, "OAuth misconfiguration");
            return ApiError::internal();
        }
    };
    if let Some(source) = std::error::Error::source(&err) {
        tracing::warn!(error = %err, source = %source, "OAuth step failed");
    }
    ApiError::new(status, code, err.to_string())
}
