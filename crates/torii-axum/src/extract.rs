//! Extractors: [`AuthUser`], `Option<AuthUser>`, [`AuthSession`].

use std::ops::Deref;

use axum::extract::{FromRef, FromRequestParts, OptionalFromRequestParts};
use axum::http::HeaderMap;
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use torii_core::{ClientContext, Session, SessionToken, ToriiError, User};

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
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Unauthenticated => ApiError::unauthenticated().into_response(),
            Self::Failed(err) => err.into_response(),
        }
    }
}

/// Where a request's token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenSource {
    Cookie,
    Bearer,
}

/// Finds the session token: the first of the accepted cookie names present, else a bearer header.
pub(crate) fn find_token(headers: &HeaderMap, cookie_names: &[String]) -> Option<(SessionToken, TokenSource)> {
    for value in headers.get_all(COOKIE) {
        let Ok(text) = value.to_str() else { continue };
        for c in cookie::Cookie::split_parse(text).flatten() {
            if cookie_names.iter().any(|n| n == c.name()) && !c.value().is_empty() {
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

async fn authenticate<S>(parts: &mut Parts, state: &S) -> Result<Option<AuthUser>, AuthRejection>
where
    AuthContext: FromRef<S>,
{
    // Several extractors in one handler share one lookup.
    if let Some(cached) = parts.extensions.get::<AuthUser>() {
        return Ok(Some(cached.clone()));
    }
    let context = AuthContext::from_ref(state);
    let Some((token, _)) = find_token(&parts.headers, &context.cookie_names) else {
        return Ok(None);
    };
    let client = crate::client::ClientInfo::from_parts(parts);
    let client = ClientContext { ip_address: client.ip_address, user_agent: client.user_agent };
    match context.authority.authenticate(&token, &client).await {
        Ok((user, session)) => {
            let auth = AuthUser { user, session };
            parts.extensions.insert(auth.clone());
            Ok(Some(auth))
        }
        Err(err) if err.is_unauthenticated() || matches!(err, ToriiError::UserNotFound) => Ok(None),
        Err(err) => Err(AuthRejection::Failed(err.into())),
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    S: Send + Sync,
    AuthContext: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        authenticate(parts, state).await?.ok_or(AuthRejection::Unauthenticated)
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
        authenticate(parts, state).await
    }
}

impl<S> FromRequestParts<S> for AuthSession
where
    S: Send + Sync,
    AuthContext: FromRef<S>,
{
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let auth = authenticate(parts, state).await?.ok_or(AuthRejection::Unauthenticated)?;
        Ok(Self(auth.session))
    }
}
