//! Extractors: [`AuthUser`], `Option<AuthUser>`, [`AuthSession`], [`FreshAuthUser`], and the
//! [`require_fresh_auth`] middleware.

use std::ops::Deref;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts, Request, State};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use torii_core::{ClientContext, Session, SessionToken, ToriiError, User};

use crate::config::CookieConfig;
use crate::context::AuthContext;
use crate::error::ApiError;

/// The authenticated user of a request.
///
/// The session token is taken from the session cookie first, then from an `Authorization: Bearer`
/// header; never from the query string. A missing, invalid, revoked or expired token is answered with
/// 401 and a JSON body; a storage outage with 503. Dereferences to [`User`], so `user.id` and
/// `user.email` work directly.
#[derive(Debug, Clone)]
pub struct AuthUser {
    user: User,
    session: Session,
    source: TokenSource,
}

impl AuthUser {
    /// The user.
    pub fn user(&self) -> &User {
        &self.user
    }

    /// The session the request was authenticated with.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Both, by value.
    pub fn into_parts(self) -> (User, Session) {
        (self.user, self.session)
    }

    /// True when the request was authenticated by an `Authorization: Bearer` token rather than by the
    /// session cookie.
    pub fn is_bearer(&self) -> bool {
        self.source == TokenSource::Bearer
    }
}

impl Deref for AuthUser {
    type Target = User;

    fn deref(&self) -> &User {
        &self.user
    }
}

/// The session of a request (see [`AuthUser`] for how the token is found and what rejections mean).
#[derive(Debug, Clone)]
pub struct AuthSession(pub Session);

impl Deref for AuthSession {
    type Target = Session;

    fn deref(&self) -> &Session {
        &self.0
    }
}

/// Why an extractor refused a request. Answers with a JSON body and the matching status.
#[derive(Debug)]
#[non_exhaustive]
pub enum AuthRejection {
    /// No token, or one that is not a live session: 401.
    Unauthenticated,
    /// The storage failed: 503 when it is unreachable, 500 otherwise.
    Failed(ApiError),
    /// A session, but not a recent enough login for this action: 403 `reauthentication_required`.
    ReauthenticationRequired,
}

impl From<AuthRejection> for ApiError {
    fn from(rejection: AuthRejection) -> Self {
        match rejection {
            AuthRejection::Unauthenticated => ApiError::unauthenticated(),
            AuthRejection::Failed(err) => err,
            AuthRejection::ReauthenticationRequired => ApiError::reauthentication_required(),
        }
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        ApiError::from(self).into_response()
    }
}

/// Where a request's token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenSource {
    Cookie,
    Bearer,
}

/// Finds the session token: the session cookie under the configured name (and no other name, so a
/// `torii_session` cookie tossed in by a sibling subdomain is never read next to `__Host-torii_session`),
/// else an `Authorization: Bearer` header. A cookie, when present, is the credential: a bearer header
/// next to it is ignored.
pub(crate) fn find_token(headers: &HeaderMap, cookies: &CookieConfig) -> Option<(SessionToken, TokenSource)> {
    for value in headers.get_all(COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for c in cookie::Cookie::split_parse(text).flatten() {
            if c.name() == cookies.name() && !c.value().is_empty() {
                return Some((SessionToken::new(c.value()), TokenSource::Cookie));
            }
        }
    }
    bearer_token(headers).map(|t| (t, TokenSource::Bearer))
}

fn bearer_token(headers: &HeaderMap) -> Option<SessionToken> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| SessionToken::new(token))
}

/// Authenticates the request once: the result is kept in the request's extensions, so several
/// extractors (and the cross-site guard before them) share one lookup.
pub(crate) async fn authenticate(parts: &mut Parts, context: &AuthContext) -> Result<Option<AuthUser>, AuthRejection> {
    if let Some(cached) = parts.extensions.get::<AuthUser>() {
        return Ok(Some(cached.clone()));
    }
    let Some((token, source)) = find_token(&parts.headers, &context.cookie_config()) else {
        return Ok(None);
    };
    let client = crate::client::ClientInfo::from_parts(parts);
    let client = ClientContext { ip_address: client.ip_address, user_agent: client.user_agent };
    match context.authority.authenticate(&token, &client).await {
        Ok((user, session)) => {
            let auth = AuthUser { user, session, source };
            parts.extensions.insert(auth.clone());
            Ok(Some(auth))
        }
        Err(err) if err.is_unauthenticated() || matches!(err, ToriiError::UserNotFound) => Ok(None),
        Err(err) => Err(AuthRejection::Failed(err.into())),
    }
}

/// The one freshness decision: every route and extractor that needs a recent login asks this.
pub(crate) fn require_fresh(context: &AuthContext, auth: &AuthUser) -> Result<(), AuthRejection> {
    if context.authority.is_session_fresh(auth.session()) {
        Ok(())
    } else {
        Err(AuthRejection::ReauthenticationRequired)
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    S: Send + Sync,
    AuthContext: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        authenticate(parts, &AuthContext::from_ref(state)).await?.ok_or(AuthRejection::Unauthenticated)
    }
}

/// `Option<AuthUser>`: `None` when there is no valid session; a storage failure is still an error.
impl<S> OptionalFromRequestParts<S> for AuthUser
where
    S: Send + Sync,
    AuthContext: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Option<Self>, Self::Rejection> {
        authenticate(parts, &AuthContext::from_ref(state)).await
    }
}

impl<S> FromRequestParts<S> for AuthSession
where
    S: Send + Sync,
    AuthContext: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = authenticate(parts, &AuthContext::from_ref(state)).await?.ok_or(AuthRejection::Unauthenticated)?;
        Ok(Self(auth.session))
    }
}

/// The authenticated user of a request whose session was authenticated recently: within the session
/// policy's [`fresh_for`](torii_core::SessionPolicy::fresh_for) window (ten minutes by default). Use it
/// instead of [`AuthUser`] on routes that add a way into the account or change how it is reached.
///
/// No session: 401 `unauthenticated`. A session older than the window: 403
/// `reauthentication_required`; the client re-authenticates (`POST /reauthenticate` on the auth
/// routes) and retries. Dereferences to [`AuthUser`] (and so to [`User`]).
#[derive(Debug, Clone)]
pub struct FreshAuthUser(pub AuthUser);

impl Deref for FreshAuthUser {
    type Target = AuthUser;

    fn deref(&self) -> &AuthUser {
        &self.0
    }
}

impl<S> FromRequestParts<S> for FreshAuthUser
where
    S: Send + Sync,
    AuthContext: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let context = AuthContext::from_ref(state);
        let auth = authenticate(parts, &context).await?.ok_or(AuthRejection::Unauthenticated)?;
        require_fresh(&context, &auth)?;
        Ok(Self(auth))
    }
}

/// Middleware that lets a request through only with a recently authenticated session (see
/// [`FreshAuthUser`] for the answers otherwise), for a whole group of an application's routes:
///
/// ```
/// # use std::sync::Arc;
/// # use axum::{Router, middleware, routing::post};
/// # use torii_axum::{AuthContext, require_fresh_auth};
/// # fn app<S: Send + Sync + 'static>(torii: Arc<torii_core::Torii<S>>) -> Router {
/// let sensitive = Router::new()
///     .route("/account/delete", post(|| async { "deleted" }))
///     .layer(middleware::from_fn_with_state(AuthContext::new(torii), require_fresh_auth));
/// # sensitive }
/// ```
pub async fn require_fresh_auth(State(context): State<AuthContext>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let checked = match authenticate(&mut parts, &context).await {
        Ok(Some(auth)) => require_fresh(&context, &auth),
        Ok(None) => Err(AuthRejection::Unauthenticated),
        Err(rejection) => Err(rejection),
    };
    match checked {
        Ok(()) => next.run(Request::from_parts(parts, body)).await,
        Err(rejection) => rejection.into_response(),
    }
}
