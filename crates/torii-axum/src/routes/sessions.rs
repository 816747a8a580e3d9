//! Session endpoints: logout, current user and session, device list and revocation.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use torii_core::{RepositoryProvider, SessionId};
use tower_cookies::Cookies;

use super::RouteState;
use super::dto::{RevokedResponse, SessionInfo, SessionResponse, SessionsResponse, UserResponse};
use crate::cookies::clear_session_cookie;
use crate::error::ApiError;
use crate::extract::{AuthUser, find_token};

/// `POST /logout`: deletes the session server-side and clears the cookie. Idempotent: without a session
/// it still answers 204 and clears the cookie.
pub(crate) async fn logout<R: RepositoryProvider>(
    State(state): State<RouteState<R>>,
    cookies: Cookies,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    if let Some((token, _)) = find_token(&headers, &state.cookies) {
        state.torii.delete_session(&token).await?;
    }
    clear_session_cookie(&cookies, &state.cookies);
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /user`.
pub(crate) async fn current_user(auth: AuthUser) -> Json<UserResponse> {
    Json(UserResponse { user: auth.into_parts().0 })
}

/// `GET /session`.
pub(crate) async fn current_session(auth: AuthUser) -> Json<SessionResponse> {
    Json(SessionResponse { session: SessionInfo::from_session(auth.session()) })
}

/// `GET /sessions`: the user's live sessions, newest first.
pub(crate) async fn list<R: RepositoryProvider>(
    State(state): State<RouteState<R>>,
    auth: AuthUser,
) -> Result<Json<SessionsResponse>, ApiError> {
    let current = &auth.session().id;
    let records = state.torii.list_sessions(&auth.id).await?;
    let sessions = records.into_iter().map(|r| SessionInfo::from_record(r, current)).collect();
    Ok(Json(SessionsResponse { sessions }))
}

/// `DELETE /sessions/{id}`: revokes one of the user's sessions. Another user's session id is answered
/// exactly like an unknown one (404).
pub(crate) async fn revoke<R: RepositoryProvider>(
    State(state): State<RouteState<R>>,
    cookies: Cookies,
    auth: AuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = SessionId::new(id);
    if !state.torii.delete_session_by_id(&auth.id, &id).await? {
        return Err(ApiError::not_found("No such session"));
    }
    if id == auth.session().id {
        clear_session_cookie(&cookies, &state.cookies);
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /sessions/revoke-others`: logs out every other device.
pub(crate) async fn revoke_others<R: RepositoryProvider>(
    State(state): State<RouteState<R>>,
    auth: AuthUser,
) -> Result<Json<RevokedResponse>, ApiError> {
    let revoked = state.torii.delete_other_sessions(&auth.id, &auth.session().id).await?;
    Ok(Json(RevokedResponse { revoked }))
}
