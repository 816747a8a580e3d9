//! `POST /register` and `POST /login`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use serde::Deserialize;
use torii_core::throttle::ClientAction;
use torii_core::{RepositoryProvider, Session, User};
use tower_cookies::Cookies;

use super::RouteState;
use super::dto::{LoginResponse, SessionInfo, UserResponse};
use super::throttle::limit_client;
use crate::client::ClientInfo;
use crate::cookies::set_session_cookie;
use crate::device::{read_device_cookie, set_device_cookie};
use crate::error::ApiError;
use crate::extract::find_token;
use crate::json::ApiJson;

/// Body of `POST /register` and `POST /login`.
#[derive(Deserialize)]
pub(crate) struct Credentials {
    email: String,
    password: String,
    /// Bearer mode: return the token in the body and set no cookie (for API and mobile clients).
    #[serde(default)]
    bearer: bool,
}

/// `POST /register`: creates the account and logs it in. An email that is already registered gets 409
/// and changes nothing: the existing account is neither logged into nor modified.
///
/// With email flows, the new account is mailed its verification link (in the background: the answer
/// is the same whatever happens to the mail). When the coordinator requires a verified address for
/// password login, registering does not log in either: the answer is 201 `{user}` without a session,
/// and the account logs in once the link was followed.
pub(crate) async fn register<R: RepositoryProvider>(
    State(state): State<RouteState<R>>,
    cookies: Cookies,
    client: ClientInfo,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    limit_client(&state.torii, ClientAction::Register, &client).await?;
    let user = state.torii.register_user_with_password(&body.email, &body.password).await?;
    if let Some(after_register) = &state.after_register {
        after_register(user.id.clone()).await;
    }
    if state.torii.requires_verified_email() && !user.is_email_verified() {
        return Ok((StatusCode::CREATED, Json(UserResponse { user })).into_response());
    }
    let session = state.torii.create_session(&user.id, client.user_agent, client.ip_address).await?;
    Ok((StatusCode::CREATED, Json(respond(&state, &cookies, user, session, body.bearer))).into_response())
}

/// `POST /login`. Always issues a new session (a token the client already holds is never adopted) and
/// revokes the one the request carried, if any.
///
/// Guessing is limited per client address and per account (429 `too_many_requests` with
/// `Retry-After`, the same for known and unknown addresses). A browser that logged in here before
/// holds a device cookie; its attempts count for it alone, so a lock caused by others does not apply.
pub(crate) async fn login<R: RepositoryProvider>(
    State(state): State<RouteState<R>>,
    cookies: Cookies,
    client: ClientInfo,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Json<LoginResponse>, ApiError> {
    limit_client(&state.torii, ClientAction::Login, &client).await?;
    let device = read_device_cookie(&cookies, &state.cookies);
    let login = state
        .torii
        .login_user_with_password_on_device(
            &body.email,
            &body.password,
            client.user_agent,
            client.ip_address,
            device.as_ref(),
        )
        .await?;
    // Bearer clients get no cookie at all (their attempts count against the account).
    if let Some(device) = login.device.as_ref().filter(|_| !body.bearer) {
        let lifetime = state.torii.throttle_policy().device_cookie_lifetime();
        set_device_cookie(&cookies, &state.cookies, device, lifetime);
    }
    let (user, session) = (login.user, login.session);
    if let Some((previous, _)) = find_token(&headers, &state.context.cookie_names) {
        // Best effort: the new session is already valid; a stale one left behind expires on its own.
        if let Err(err) = state.torii.delete_session(&previous).await {
            tracing::warn!(error = %err, "could not revoke the session replaced by a new login");
        }
    }
    Ok(Json(respond(&state, &cookies, user, session, body.bearer)))
}

fn respond<R>(state: &RouteState<R>, cookies: &Cookies, user: User, session: Session, bearer: bool) -> LoginResponse {
    let token = if bearer {
        Some(session.token.as_str().to_owned())
    } else {
        set_session_cookie(cookies, &state.cookies, session.token.as_str(), session.expires_at);
        None
    };
    LoginResponse { user, session: SessionInfo::from_session(&session), token }
}
