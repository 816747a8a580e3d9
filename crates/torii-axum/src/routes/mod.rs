//! The auth router and its builder.

mod dto;
mod email;
mod health;
mod oauth;
mod oauth_browser;
#[cfg(feature = "passkey")]
mod passkey;
mod password;
mod reauth;
mod security_events;
mod sessions;
mod throttle;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, FromRef};
use axum::routing::{delete, get, post};
use axum::{Router, middleware};
use torii_core::{RepositoryProvider, Torii};
use tower_cookies::CookieManagerLayer;

pub use dto::{LoginResponse, RevokedResponse, SessionInfo, SessionResponse, SessionsResponse, UserResponse};
pub use oauth::{LinkedAccount, LinkedAccountsResponse, OAuthProvidersResponse, OAuthRouteConfig};
#[cfg(feature = "passkey")]
pub use passkey::{PasskeyResponse, PasskeysResponse};
pub use security_events::{
    DEFAULT_SECURITY_EVENTS, MAX_SECURITY_EVENTS_PER_REQUEST, SecurityEventInfo, SecurityEventsResponse,
};

use crate::config::CookieConfig;
use crate::context::AuthContext;
use crate::csrf::{CsrfConfig, csrf_guard};
use crate::error::ApiError;
use crate::proxy::TrustedProxies;

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
        oauth: None,
        email: None,
        after_register: None,
        existing_account: None,
        trusted_proxies: TrustedProxies::none(),
        #[cfg(feature = "passkey")]
        passkeys: None,
    }
}

/// Builder of the auth router.
///
/// Routes (relative to where the router is nested):
///
/// | Method and path | What |
/// |---|---|
/// | `POST /register` | `{email, password, bearer?}` → 201 `{user, session}` and the session cookie; 409 `email_taken`. With [`Torii::require_verified_email`], or email flows that conceal existing accounts: 201 `{user}` and no session |
/// | `POST /login` | `{email, password, bearer?}` → 200 `{user, session}` and the cookie (plus the device cookie); 401 `invalid_credentials`; 403 `email_not_verified` (right password, unverified address, [`Torii::require_verified_email`] on) |
/// | `POST /logout` | Revokes the current session, clears the cookie → 204 |
/// | `GET /user` | The current user |
/// | `GET /session` | The current session |
/// | `GET /sessions` | The user's live sessions (devices), `current` marks this one |
/// | `DELETE /sessions/{id}` | Revokes one of the user's sessions → 204, or 404 |
/// | `POST /sessions/revoke-others` | Revokes every other session → `{revoked}` |
/// | `GET /security-events?limit=` | The user's recent security events, newest first → `{events}` (20 by default, at most 100) |
/// | `POST /reauthenticate` | Logged in: `{password, bearer?}` → `{user, session}` with a new token that counts as freshly authenticated; 401 `invalid_credentials` |
/// | `GET /health` | 200 when storage answers, 503 otherwise |
///
/// Routes that add or remove a way into the account (adding or deleting a passkey, linking or
/// unlinking a provider, changing the password) need a session authenticated within the session
/// policy's [`fresh_for`](torii_core::SessionPolicy::fresh_for) window (ten minutes by default);
/// otherwise they answer 403 `reauthentication_required`, and the client calls `POST /reauthenticate`
/// (or the passkey variant) and retries.
///
/// Login, registration, reset and magic-link requests and passkey ceremony starts are limited per
/// client address and overall, and password attempts per account (see `torii_core::throttle`): past a
/// limit the answer is 429 `too_many_requests` with `Retry-After`.
pub struct AuthRoutes<R> {
    torii: Arc<Torii<R>>,
    cookie_config: CookieConfig,
    body_limit: usize,
    allowed_origins: Vec<String>,
    /// The OAuth route group, when enabled (see [`AuthRoutes::with_oauth`]).
    oauth: Option<(Arc<OAuthRouteConfig>, oauth::OAuthRouter<R>)>,
    /// The email route group, when enabled (see `AuthRoutes::with_email_flows`).
    email: Option<Router<RouteState<R>>>,
    /// Runs after `POST /register` created an account (the email flows mail the verification link).
    after_register: Option<AfterRegister>,
    /// Set when sign-ups with a registered address are concealed (see `AuthRoutes::with_email_flows`).
    existing_account: Option<ExistingAccount>,
    /// The proxies whose forwarding headers give the client address (none by default).
    trusted_proxies: TrustedProxies,
    /// The passkey route group, when enabled (see `AuthRoutes::with_passkeys`).
    #[cfg(feature = "passkey")]
    passkeys: Option<Router<RouteState<R>>>,
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

/// Work done for a freshly registered account before `POST /register` answers. Type-erased so the
/// base routes need no storage bound beyond [`RepositoryProvider`]; it cannot fail the registration.
pub(crate) type AfterRegister =
    Arc<dyn Fn(torii_core::UserId) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Mails the owner of an address someone tried to sign up with. When set, sign-ups with a registered
/// address are answered like new ones, and sign-ups log nobody in.
pub(crate) type ExistingAccount = Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// State shared by the auth handlers.
pub(crate) struct RouteState<R> {
    pub(crate) torii: Arc<Torii<R>>,
    pub(crate) cookies: Arc<CookieConfig>,
    pub(crate) context: AuthContext,
    pub(crate) after_register: Option<AfterRegister>,
    pub(crate) existing_account: Option<ExistingAccount>,
}

impl<R> Clone for RouteState<R> {
    fn clone(&self) -> Self {
        Self {
            torii: Arc::clone(&self.torii),
            cookies: Arc::clone(&self.cookies),
            context: self.context.clone(),
            after_register: self.after_register.clone(),
            existing_account: self.existing_account.clone(),
        }
    }
}

impl<R> RouteState<R> {
    /// Refuses (403 `reauthentication_required`) a session that was not authenticated recently, for
    /// handlers that need a recent login only in some cases (adding a passkey when logged in, linking a
    /// provider); the others take [`crate::FreshAuthUser`].
    pub(crate) fn require_fresh(&self, auth: &crate::AuthUser) -> Result<(), ApiError> {
        crate::extract::require_fresh(&self.context, auth).map_err(ApiError::from)
    }
}

impl<R> FromRef<RouteState<R>> for AuthContext {
    fn from_ref(state: &RouteState<R>) -> Self {
        state.context.clone()
    }
}

impl<R: RepositoryProvider> AuthRoutes<R> {
    /// Sets how the session cookie is written (default: [`CookieConfig::secure`]). When the router is
    /// built, the configuration is also given to the coordinator, so [`crate::AuthUser`] on the
    /// application's own routes reads the same cookie, and only that one.
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

    /// Believes forwarding headers (`Forwarded`, `X-Forwarded-For`, `X-Real-IP`) from these proxies
    /// when finding the client address the per-client limits count (see [`TrustedProxies`]). Without
    /// it, the socket's peer address is the client and forwarding headers are ignored.
    pub fn with_trusted_proxies(mut self, proxies: TrustedProxies) -> Self {
        self.trusted_proxies = proxies;
        self
    }

    /// Builds the router. Its state is already provided, so it nests into a router of any state.
    ///
    /// The cookie configuration is attached to the coordinator here (see
    /// [`AuthRoutes::with_cookie_config`]); building a second router over the same coordinator with
    /// another configuration replaces it, and is logged as a warning.
    pub fn build<S: Clone + Send + Sync + 'static>(self) -> Router<S> {
        let cookies = Arc::new(self.cookie_config);
        let replaced = self.torii.extensions().insert(CookieConfig::clone(&cookies));
        if replaced.is_some_and(|previous| *previous != *cookies) {
            tracing::warn!(
                cookie = cookies.name(),
                "auth routes built again with another cookie configuration: extractors now read this one"
            );
        }
        let context = AuthContext::new(Arc::clone(&self.torii)).with_cookie_config(&cookies);
        let state = RouteState {
            context: context.clone(),
            torii: self.torii,
            cookies,
            after_register: self.after_register,
            existing_account: self.existing_account,
        };
        let csrf = CsrfConfig { allowed_origins: Arc::from(self.allowed_origins), context };
        let mut router = Router::new();
        if let Some((config, oauth_router)) = self.oauth {
            router = router.merge(oauth_router(config));
        }
        #[cfg(feature = "passkey")]
        if let Some(passkeys) = self.passkeys {
            router = router.merge(passkeys);
        }
        if let Some(email) = self.email {
            router = router.merge(email);
        }
        router
            .route("/register", post(password::register::<R>))
            .route("/login", post(password::login::<R>))
            .route("/logout", post(sessions::logout::<R>))
            .route("/user", get(sessions::current_user))
            .route("/session", get(sessions::current_session))
            .route("/sessions", get(sessions::list::<R>))
            .route("/sessions/revoke-others", post(sessions::revoke_others::<R>))
            .route("/sessions/{id}", delete(sessions::revoke::<R>))
            .route("/security-events", get(security_events::list::<R>))
            .route("/reauthenticate", post(reauth::with_password::<R>))
            .route("/health", get(health::health::<R>))
            .fallback(|| async { ApiError::not_found("No such endpoint") })
            .layer(middleware::from_fn_with_state(csrf, csrf_guard))
            .layer(DefaultBodyLimit::max(self.body_limit))
            .layer(middleware::from_fn(crate::client::audit_client_context))
            .layer(CookieManagerLayer::new())
            .layer(axum::Extension(self.trusted_proxies))
            // Auth responses carry personal data and set credentials: no cache may keep them.
            .layer(crate::no_store::no_store())
            .with_state(state)
    }
}

#[cfg(feature = "passkey")]
impl<R: RepositoryProvider + torii_core::storage::PasskeyStorage> AuthRoutes<R> {
    /// Adds the passkey routes (the coordinator needs [`Torii::with_passkeys`]; without it they answer
    /// 404 `not_found`):
    ///
    /// | Method and path | What |
    /// |---|---|
    /// | `POST /passkey/register/start` | Logged out `{email}`: a new passkey-only account; logged in `{}`: another passkey for this account → `{challenge_id, options}` |
    /// | `POST /passkey/register/finish` | `{challenge_id, response, email?, name?, bearer?}` → 201 `{user, session}` and the cookie (new account) or 201 `{passkey}` (added) |
    /// | `POST /passkey/login/start` | `{email}` or `{}` (usernameless) → `{challenge_id, options}`; unknown emails get the same shape |
    /// | `POST /passkey/login/finish` | `{challenge_id, response, bearer?}` → `{user, session}` and the cookie; 401 `invalid_credentials` |
    /// | `GET /passkeys` | The current user's passkeys |
    /// | `PATCH /passkeys/{id}` | `{name}` → `{passkey}`, or 404 |
    /// | `DELETE /passkeys/{id}` | 204, 404, or 409 `last_login_method` |
    /// | `POST /reauthenticate/passkey/start` | Logged in: `{}` → `{challenge_id, options}` listing the user's passkeys |
    /// | `POST /reauthenticate/passkey/finish` | `{challenge_id, response, bearer?}` → `{user, session}` with a new, freshly authenticated token; 401 `invalid_credentials` |
    ///
    /// Adding a passkey to an account (both steps) and deleting one need a recent login (403
    /// `reauthentication_required` otherwise).
    pub fn with_passkeys(mut self) -> Self {
        self.passkeys = Some(passkey::router::<R>().merge(reauth::passkey_router::<R>()));
        self
    }
}

impl<R: RepositoryProvider + torii_core::storage::MagicLinkStorage> AuthRoutes<R> {
    /// Adds the email routes over these flows (build them over the same coordinator):
    ///
    /// | Method and path | What |
    /// |---|---|
    /// | `POST /magic-link` | `{email}` → 202 with one fixed body, whether or not the address has an account |
    /// | `GET /magic-link?token=` | A page whose button redeems the link (a `GET` never uses a token up) |
    /// | `POST /magic-link/verify` | `{token, bearer?}` → `{user, session}` and the cookie, like `POST /login`; 400 `invalid_token` |
    /// | `POST /verify-email` | `{token}` → `{user}` with `email_verified_at` set; 400 `invalid_token` |
    /// | `GET /verify-email?token=` | A page whose button confirms the address |
    /// | `POST /verify-email/resend` | Logged in: mails a new verification link → 202 |
    /// | `POST /password/forgot` | `{email}` → 202 with the same fixed body for every address |
    /// | `POST /password/reset` | `{token, new_password, bearer?}` → 204 (every session signed out), or `{user, session}` when the flows log in after a reset; 400 `invalid_token`, 422 `weak_password` |
    /// | `GET /password/reset?token=` | A page with the new-password form |
    /// | `POST /password/change` | Logged in recently: `{current_password, new_password, revoke_other_sessions?}` → `{revoked}` (with JWT sessions also `session` and a new cookie, or `token` for a bearer client: the old token ends with the others); 401 `invalid_credentials`; 403 `reauthentication_required` |
    ///
    /// `POST /register` then also mails the new account its verification link (unless
    /// [`torii_core::email_flows::EmailConfig::send_verification_on_register`] is off). The mail goes
    /// out in the background; its fate never changes the registration's answer.
    ///
    /// With [`torii_core::email_flows::EmailConfig::conceal_existing_accounts`], `POST /register` and
    /// passkey sign-up answer an address that already has an account exactly like a new one (201
    /// `{user}`, no session, for both) and mail its owner a notice instead of answering 409.
    pub fn with_email_flows(mut self, flows: torii_core::email_flows::EmailFlows<R>) -> Self {
        let hook_flows = flows.clone();
        self.after_register = Some(Arc::new(move |user_id| {
            let flows = hook_flows.clone();
            Box::pin(async move { flows.after_registration(&user_id).await })
        }));
        if flows.config().conceals_existing_accounts() {
            let hook_flows = flows.clone();
            self.existing_account = Some(Arc::new(move |email| {
                let flows = hook_flows.clone();
                Box::pin(async move { flows.notify_existing_account(&email).await })
            }));
        }
        self.email = Some(email::router(flows));
        self
    }
}
