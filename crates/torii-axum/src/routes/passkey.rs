//! Passkey routes: sign-up and adding a passkey, login with or without email, listing, renaming and
//! deleting passkeys. Enabled with [`super::AuthRoutes::with_passkeys`].

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::{Deserialize, Serialize};
use torii_core::storage::PasskeyStorage;
use torii_core::throttle::ClientAction;
use torii_core::{
    ChallengeId, PasskeyEnrollmentCompletion, PasskeyInfo, PasskeyLoginCompletion, PasskeyOptions,
    PasskeyRegistrationCompletion, RepositoryProvider, ToriiError,
};
use tower_cookies::Cookies;

use super::RouteState;
use super::dto::{LoginResponse, SessionInfo, UserResponse};
use super::throttle::limit_client;
use crate::client::ClientInfo;
use crate::cookies::set_session_cookie;
use crate::error::ApiError;
use crate::extract::{AuthUser, FreshAuthUser, find_token};
use crate::json::ApiJson;

/// The passkey routes, relative to where the auth router is nested.
pub(super) fn router<R: RepositoryProvider + PasskeyStorage>() -> Router<RouteState<R>> {
    Router::new()
        .route("/passkey/register/start", post(register_start::<R>))
        .route("/passkey/register/finish", post(register_finish::<R>))
        .route("/passkey/login/start", post(login_start::<R>))
        .route("/passkey/login/finish", post(login_finish::<R>))
        .route("/passkeys", get(list::<R>))
        .route("/passkeys/{id}", delete(remove::<R>).patch(rename::<R>))
}

/// Body of `POST /passkey/register/start`. Logged out: the email of the account to create. Logged in:
/// nothing (the passkey is added to the current account).
#[derive(Deserialize)]
pub(crate) struct RegisterStart {
    #[serde(default)]
    email: Option<String>,
}

/// Body of `POST /passkey/register/finish`.
#[derive(Deserialize)]
pub(crate) struct RegisterFinish {
    challenge_id: String,
    response: serde_json::Value,
    /// The email the registration started with (new accounts only).
    #[serde(default)]
    email: Option<String>,
    /// A name for the passkey (added passkeys only).
    #[serde(default)]
    name: Option<String>,
    /// Bearer mode for a new account: the token in the body, no cookie.
    #[serde(default)]
    bearer: bool,
}

/// Body of `POST /passkey/login/start`: with an email, that account's passkeys; without, any
/// discoverable passkey.
#[derive(Deserialize)]
pub(crate) struct LoginStart {
    #[serde(default)]
    email: Option<String>,
}

/// Body of `POST /passkey/login/finish`.
#[derive(Deserialize)]
pub(crate) struct LoginFinish {
    challenge_id: String,
    response: serde_json::Value,
    #[serde(default)]
    bearer: bool,
}

/// Body of `PATCH /passkeys/{id}`.
#[derive(Deserialize)]
pub(crate) struct Rename {
    name: String,
}

/// Body of `GET /passkeys`.
#[derive(Debug, Clone, Serialize)]
pub struct PasskeysResponse {
    /// The user's passkeys, oldest first.
    pub passkeys: Vec<PasskeyInfo>,
}

/// Body of a passkey that was added or renamed.
#[derive(Debug, Clone, Serialize)]
pub struct PasskeyResponse {
    /// The passkey.
    pub passkey: PasskeyInfo,
}

/// `POST /passkey/register/start` → `{challenge_id, options}`.
pub(crate) async fn register_start<R: RepositoryProvider + PasskeyStorage>(
    State(state): State<RouteState<R>>,
    client: ClientInfo,
    auth: Option<AuthUser>,
    ApiJson(body): ApiJson<RegisterStart>,
) -> Result<Json<PasskeyOptions>, ApiError> {
    limit_client(&state.torii, ClientAction::PasskeyStart, &client).await?;
    let options = match (&auth, body.email) {
        (Some(auth), _) => {
            state.require_fresh(auth)?;
            state.torii.begin_passkey_enrollment(&auth.id).await?
        }
        (None, Some(email)) => match &state.existing_account {
            // Concealed sign-ups: a registered address gets a ceremony like any other (one that can
            // never complete) and its owner a notice.
            Some(notify) => {
                let (options, exists) = state.torii.begin_passkey_registration_concealed(&email).await?;
                if exists {
                    notify(email).await;
                }
                options
            }
            None => state.torii.begin_passkey_registration(&email).await?,
        },
        (None, None) => return Err(ApiError::invalid_body("An email is required to create an account")),
    };
    Ok(Json(options))
}

/// `POST /passkey/register/finish`. Logged out: creates the account and logs it in (201, like
/// `POST /register`; with concealed sign-ups 201 `{user}` without a session, also for an address that
/// already had an account). Logged in: adds the passkey to the account (201 `{passkey}`).
pub(crate) async fn register_finish<R: RepositoryProvider + PasskeyStorage>(
    State(state): State<RouteState<R>>,
    cookies: Cookies,
    client: ClientInfo,
    auth: Option<AuthUser>,
    ApiJson(body): ApiJson<RegisterFinish>,
) -> Result<Response, ApiError> {
    let challenge_id = ChallengeId::new(body.challenge_id);
    if let Some(auth) = auth {
        state.require_fresh(&auth)?;
        let completion = PasskeyEnrollmentCompletion { challenge_id, response: body.response, name: body.name };
        let passkey = state.torii.complete_passkey_enrollment(&auth.id, &completion).await?;
        return Ok((StatusCode::CREATED, Json(PasskeyResponse { passkey })).into_response());
    }
    let Some(email) = body.email else {
        return Err(ApiError::invalid_body("An email is required to create an account"));
    };
    let completion = PasskeyRegistrationCompletion { email, challenge_id, response: body.response };
    let user = match state.torii.complete_passkey_registration(&completion).await {
        Ok(user) => user,
        // Concealed sign-ups: the owner was notified when the ceremony started.
        Err(ToriiError::UserAlreadyExists) if state.existing_account.is_some() => {
            return super::password::placeholder_created(&state, &completion.email);
        }
        Err(err) => return Err(err.into()),
    };
    // Like `POST /register`: the address is unproven until its owner follows the mailed link.
    if let Some(after_register) = &state.after_register {
        after_register(user.id.clone()).await;
    }
    if state.existing_account.is_some() {
        return Ok((StatusCode::CREATED, Json(UserResponse { user })).into_response());
    }
    let session = state.torii.create_session(&user.id, client.user_agent, client.ip_address).await?;
    let token = respond_token(&state, &cookies, &session, body.bearer);
    let reply = LoginResponse { user, session: SessionInfo::from_session(&session), token };
    Ok((StatusCode::CREATED, Json(reply)).into_response())
}

/// `POST /passkey/login/start` → `{challenge_id, options}`. Unknown emails get an answer of the same
/// shape as known ones.
pub(crate) async fn login_start<R: RepositoryProvider + PasskeyStorage>(
    State(state): State<RouteState<R>>,
    client: ClientInfo,
    ApiJson(body): ApiJson<LoginStart>,
) -> Result<Json<PasskeyOptions>, ApiError> {
    limit_client(&state.torii, ClientAction::PasskeyStart, &client).await?;
    let options = match body.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        Some(email) => state.torii.begin_passkey_login(email).await?,
        None => state.torii.begin_passkey_login_usernameless().await?,
    };
    Ok(Json(options))
}

/// `POST /passkey/login/finish` → `{user, session}` and the session cookie; 401 `invalid_credentials`
/// for any failure. Like `POST /login`, it always issues a new session and revokes the one the request
/// carried.
pub(crate) async fn login_finish<R: RepositoryProvider + PasskeyStorage>(
    State(state): State<RouteState<R>>,
    cookies: Cookies,
    client: ClientInfo,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginFinish>,
) -> Result<Json<LoginResponse>, ApiError> {
    let completion =
        PasskeyLoginCompletion { challenge_id: ChallengeId::new(body.challenge_id), response: body.response };
    let (user, session) = state.torii.complete_passkey_login(&completion, client.user_agent, client.ip_address).await?;
    if let Some((previous, _)) = find_token(&headers, &state.cookies) {
        // Best effort: the new session is already valid; a stale one left behind expires on its own.
        if let Err(err) = state.torii.delete_session(&previous).await {
            tracing::warn!(error = %err, "could not revoke the session replaced by a new login");
        }
    }
    let token = respond_token(&state, &cookies, &session, body.bearer);
    Ok(Json(LoginResponse { user, session: SessionInfo::from_session(&session), token }))
}

/// `GET /passkeys`: the current user's passkeys.
pub(crate) async fn list<R: RepositoryProvider + PasskeyStorage>(
    State(state): State<RouteState<R>>,
    auth: AuthUser,
) -> Result<Json<PasskeysResponse>, ApiError> {
    Ok(Json(PasskeysResponse { passkeys: state.torii.list_passkeys(&auth.id).await? }))
}

/// `PATCH /passkeys/{id}` `{name}` → `{passkey}`, or 404 (another user's passkey looks unknown).
pub(crate) async fn rename<R: RepositoryProvider + PasskeyStorage>(
    State(state): State<RouteState<R>>,
    auth: AuthUser,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Rename>,
) -> Result<Json<PasskeyResponse>, ApiError> {
    if !state.torii.rename_passkey(&auth.id, &id, &body.name).await? {
        return Err(ApiError::not_found("No such passkey"));
    }
    let passkeys = state.torii.list_passkeys(&auth.id).await?;
    let passkey = passkeys.into_iter().find(|p| p.id == id).ok_or(ApiError::not_found("No such passkey"))?;
    Ok(Json(PasskeyResponse { passkey }))
}

/// `DELETE /passkeys/{id}` → 204, 404, or 409 `last_login_method`; 403 `reauthentication_required`
/// without a recent login.
pub(crate) async fn remove<R: RepositoryProvider + PasskeyStorage>(
    State(state): State<RouteState<R>>,
    FreshAuthUser(auth): FreshAuthUser,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !state.torii.delete_passkey(&auth.id, &id).await? {
        return Err(ApiError::not_found("No such passkey"));
    }
    Ok(StatusCode::NO_CONTENT)
}

fn respond_token<R>(
    state: &RouteState<R>,
    cookies: &Cookies,
    session: &torii_core::Session,
    bearer: bool,
) -> Option<String> {
    if bearer {
        Some(session.token.as_str().to_owned())
    } else {
        set_session_cookie(cookies, &state.cookies, session.token.as_str(), session.expires_at);
        None
    }
}
