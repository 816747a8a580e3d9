//! The auth router and its builder.

mod dto;
mod health;
mod password;
mod sessions;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::{delete, get, post};
use axum::{Router, middleware};
use torii_core::{RepositoryProvider, Torii};
use tower_cookies::CookieManagerLayer;

pub use dto::{LoginResponse, RevokedResponse, SessionInfo, SessionResponse, SessionsResponse, UserResponse};

use crate::config::CookieConfig;
use crate::context::AuthContext;
use crate::csrf::{CsrfConfig, csrf_guard};
use crate::error::ApiError;

/// Default limit on request bodies of auth routes: credentials are tiny, so anything larger is refused
/// before it is buffered.
pub const DEFAULT_BODY_LIMIT: usize = 16 * 1024;

/// Starts building the auth router for this coordinator. Finish with [`AuthRoutes::build`] and nest the
/// result, e.g. under `/auth`.
pub fn routes<R: RepositoryProvider>(torii: Arc<Torii<R>>) -> AuthRoutes<R> {
    AuthRoutes {
        torii,
        cookie_config: CookieConfig::default(),
        body_limit: DEFAULT_BODY_LIMIT,
        allowed_origins: Vec::new(),
    }
}

/// Builder of the auth router.
///
/// Routes (relative to where the router is nested):
///
/// | Method and path | What |
/// |---|---|
/// | `POST /register` | `{email, password, bearer?}` → 201 `{user, session}` and the session cookie; 409 `email_taken` |
/// | `POST /login` | `{email, password, bearer?}` → 200 `{user, session}` and the cookie; 401 `invalid_credentials` |
/// | `POST /logout` | Revokes the current session, clears the cookie → 204 |
/// | `GET /user` | The current user |
/// | `GET /session` | The current session |
/// | `GET /sessions` | The user's live sessions (devices), `current` marks this one |
/// | `DELETE /sessions/{id}` | Revokes one of the user's sessions → 204, or 404 |
/// | `POST /sessions/revoke-others` | Revokes every other session → `{revoked}` |
/// | `GET /health` | 200 when storage answers, 503 otherwise |
pub struct AuthRoutes<R> {
    torii: Arc<Torii<R>>,
    cookie_config: CookieConfig,
    body_limit: usize,
    allowed_origins: Vec<String>,
}

impl<R> std::fmt::Debug for AuthRoutes<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthRoutes")
            .field("cookie_config", &self.cookie_config)
            .field("body_limit", &self.body_limit)
            .field("allowed_origins", &self.allowed_origins)
            .finish_non_exhaustive()
    }
}

/// State shared by the auth handlers.
pub(crate) struct RouteState<R> {
    pub(crate) torii: Arc<Torii<R>>,
    pub(crate) cookies: Arc<CookieConfig>,
    pub(crate) context: AuthContext,
}

impl<R> Clone for RouteState<R> {
    fn clone(&self) -> Self {
        Self { torii: Arc::clone(&self.torii), cookies: Arc::clone(&self.cookies), context: self.context.clone() }
    }
}

impl<R> FromRef<RouteState<R>> for AuthContext {
    fn from_ref(state: &RouteState<R>) -> Self {
        state.context.clone()
    }
}

impl<R: RepositoryProvider> AuthRoutes<R> {
    /// Sets how the session cookie is written (default: [`CookieConfig::secure`]).
    pub fn with_cookie_config(mut self, config: CookieConfig) -> Self {
        self.cookie_config = config;
        self
    }

    /// Sets the request body limit (default 16 KiB).
    pub fn with_body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    /// Origins (e.g. `https://app.example`) allowed to make cookie-authenticated state-changing
    /// requests besides the request's own host — needed behind a proxy that rewrites `Host`.
    pub fn with_allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_origins.extend(origins.into_iter().map(Into::into));
        self
    }

    /// Builds the router. Its state is already provided, so it nests into a router of any state.
    pub fn build<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        let cookies = Arc::new(self.cookie_config);
        let state = RouteState {
            context: AuthContext::new(Arc::clone(&self.torii)).with_cookie_config(&cookies),
            torii: self.torii,
            cookies,
        };
        let csrf = CsrfConfig { allowed_origins: Arc::from(self.allowed_origins) };
        Router::new()
            .route("/register", post(password::register::<R>))
            .route("/login", post(password::login::<R>))
            .route("/logout", post(sessions::logout::<R>))
            .route("/user", get(sessions::current_user))
            .route("/session", get(sessions::current_session))
            .route("/sessions", get(sessions::list::<R>))
            .route("/sessions/revoke-others", post(sessions::revoke_others::<R>))
            .route("/sessions/{id}", delete(sessions::revoke::<R>))
            .route("/health", get(health::health::<R>))
            .fallback(|| async { ApiError::not_found("No such endpoint") })
            .layer(middleware::from_fn_with_state(csrf, csrf_guard))
            .layer(DefaultBodyLimit::max(self.body_limit))
            .layer(CookieManagerLayer::new())
            .layer(middleware::map_response(no_store))
            .with_state(state)
    }
}

/// Auth responses carry personal data and set credentials: no cache may keep them.
async fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
