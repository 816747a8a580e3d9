//! `POST /register` and `POST /login`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse as _, Response};
use serde::Deserialize;
use torii_core::email::validate_email;
use torii_core::throttle::ClientAction;
use torii_core::{NewUser, RepositoryProvider, Session, ToriiError, User};
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
///
/// When the email flows conceal existing accounts, a registered address gets the same 201 `{user}` as
/// a new one (a placeholder user that is stored nowhere) and its owner a notice by mail; then no
/// registration logs in, so the two answers cannot be told apart.
pub(crate) async fn register<R: RepositoryProvider>(
    State(state): State<RouteState<R>>,
    cookies: Cookies,
    client: ClientInfo,
    ApiJson(body): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    limit_client(&state.torii, ClientAction::Register, &client).await?;
    let user = match state.torii.register_user_with_password(&body.email, &body.password).await {
        Ok(user) => user,
        Err(ToriiError::UserAlreadyExists) if state.existing_account.is_some() => {
            return concealed_registration(&state, &body.email).await;
        }
        Err(err) => return Err(err.into()),
    };
    if let Some(after_register) = &state.after_register {
        after_register(user.id.clone()).await;
    }
    if state.existing_account.is_some() || (state.torii.requires_verified_email() && !user.is_email_verified()) {
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
    if let Some((previous, _)) = find_token(&headers, &state.cookies) {
        // Best effort: the new session is already valid; a stale one left behind expires on its own.
        if let Err(err) = state.torii.delete_session(&previous).await {
            tracing::warn!(error = %err, "could not revoke the session replaced by a new login");
        }
    }
    Ok(Json(respond(&state, &cookies, user, session, body.bearer)))
}

/// The answer of every login and re-authentication: the user, the session, and the token (in the body
/// only in bearer mode; otherwise it goes into the session cookie).
pub(super) fn respond<R>(
    state: &RouteState<R>,
    cookies: &Cookies,
    user: User,
    session: Session,
    bearer: bool,
) -> LoginResponse {
    let token = if bearer {
        Some(session.token.as_str().to_owned())
    } else {
        set_session_cookie(cookies, &state.cookies, session.token.as_str(), session.expires_at);
        None
    };
    LoginResponse { user, session: SessionInfo::from_session(&session), token }
}

/// The answer to a sign-up with a registered address when existing accounts are concealed: the owner is
/// notified, and the caller gets what a new address gets (201 and a user that looks newly created but
/// is stored nowhere).
async fn concealed_registration<R>(state: &RouteState<R>, email: &str) -> Result<Response, ApiError> {
    if let Some(notify) = &state.existing_account {
        notify(email.to_owned()).await;
    }
    placeholder_created(state, email)
}

/// 201 `{user}` with a user that looks newly created for `email` but is stored nowhere.
pub(crate) fn placeholder_created<R>(state: &RouteState<R>, email: &str) -> Result<Response, ApiError> {
    let user = NewUser::new(validate_email(email)?, state.torii.now()).to_user();
    Ok((StatusCode::CREATED, Json(UserResponse { user })).into_response())
}
