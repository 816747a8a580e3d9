//! Re-authentication: a logged-in user proves again who they are, and their session counts as freshly
//! authenticated for the session policy's freshness window (ten minutes by default), which the routes
//! that add or remove a way into the account require.
//!
//! The session keeps its id but gets a new token (with JWT sessions, a new token is the only way to
//! carry the new authentication time); the old token stops working. A cookie client gets the new
//! token in the cookie; a client that authenticated with `Authorization: Bearer`, or asked with
//! `"bearer": true`, gets it in the body.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use torii_core::{RepositoryProvider, Session};
use tower_cookies::Cookies;

use super::RouteState;
use super::dto::LoginResponse;
use super::password::respond;
use crate::error::ApiError;
use crate::extract::AuthUser;
use crate::json::ApiJson;

/// Body of `POST /reauthenticate`.
#[derive(Deserialize)]
pub(crate) struct PasswordReauth {
    password: String,
    #[serde(default)]
    bearer: bool,
}

/// `POST /reauthenticate` `{password}` → `{user, session}` with a new token; 401 `invalid_credentials`
/// for a wrong password (the session stays as it was).
pub(crate) async fn with_password<R: RepositoryProvider>(
    State(state): State<RouteState<R>>,
    cookies: Cookies,
    auth: AuthUser,
    ApiJson(body): ApiJson<PasswordReauth>,
) -> Result<Json<LoginResponse>, ApiError> {
    let session = state.torii.reauthenticate_with_password(&auth.session().token, &body.password).await?;
    Ok(Json(answer(&state, &cookies, auth, session, body.bearer)))
}

fn answer<R>(
    state: &RouteState<R>,
    cookies: &Cookies,
    auth: AuthUser,
    session: Session,
    bearer: bool,
) -> LoginResponse {
    let bearer = bearer || auth.is_bearer();
    respond(state, cookies, auth.into_parts().0, session, bearer)
}

#[cfg(feature = "passkey")]
pub(super) use passkey::router as passkey_router;

#[cfg(feature = "passkey")]
mod passkey {
    use axum::Json;
    use axum::Router;
    use axum::extract::State;
    use axum::routing::post;
    use serde::Deserialize;
    use torii_core::storage::PasskeyStorage;
    use torii_core::{ChallengeId, PasskeyLoginCompletion, PasskeyOptions, RepositoryProvider};
    use tower_cookies::Cookies;

    use super::super::RouteState;
    use super::super::dto::LoginResponse;
    use super::answer;
    use crate::error::ApiError;
    use crate::extract::AuthUser;
    use crate::json::ApiJson;

    /// The passkey re-authentication routes (added with the other passkey routes).
    pub(crate) fn router<R: RepositoryProvider + PasskeyStorage>() -> Router<RouteState<R>> {
        Router::new()
            .route("/reauthenticate/passkey/start", post(start::<R>))
            .route("/reauthenticate/passkey/finish", post(finish::<R>))
    }

    /// Body of `POST /reauthenticate/passkey/finish`.
    #[derive(Deserialize)]
    pub(crate) struct Finish {
        challenge_id: String,
        response: serde_json::Value,
        #[serde(default)]
        bearer: bool,
    }

    /// `POST /reauthenticate/passkey/start` `{}` → `{challenge_id, options}` listing the user's passkeys.
    async fn start<R: RepositoryProvider + PasskeyStorage>(
        State(state): State<RouteState<R>>,
        auth: AuthUser,
    ) -> Result<Json<PasskeyOptions>, ApiError> {
        Ok(Json(state.torii.begin_passkey_reauthentication(&auth.session().token).await?))
    }

    /// `POST /reauthenticate/passkey/finish` → `{user, session}` with a new token; 401
    /// `invalid_credentials` when the passkey does not verify or belongs to another account.
    async fn finish<R: RepositoryProvider + PasskeyStorage>(
        State(state): State<RouteState<R>>,
        cookies: Cookies,
        auth: AuthUser,
        ApiJson(body): ApiJson<Finish>,
    ) -> Result<Json<LoginResponse>, ApiError> {
        let completion =
            PasskeyLoginCompletion { challenge_id: ChallengeId::new(body.challenge_id), response: body.response };
        let session = state.torii.reauthenticate_with_passkey(&auth.session().token, &completion).await?;
        Ok(Json(answer(&state, &cookies, auth, session, body.bearer)))
    }
}
