//! OAuth / OpenID Connect login routes: `GET /oauth/{provider}/start`, `GET /oauth/{provider}/callback`,
//! `GET /oauth/accounts`, `DELETE /oauth/accounts/{provider}`.
//!
//! The flow's `state` is stored server-side by the core (hashed, single use, ten minutes) and is also
//! bound to the browser that started it: `start` sets a short-lived `HttpOnly` cookie holding it, and
//! `callback` refuses a `state` that does not match that cookie. So a callback URL from someone else's
//! flow (login CSRF) fails in a victim's browser. Each provider has its own callback path, and the
//! `iss` response parameter is checked when present (mix-up defence).
//!
//! A failed callback never sets a session. A browser navigation (a request whose `Accept` lists
//! `text/html`) is redirected to the error location with `oauth_error=<code>` added, where the page can
//! explain; any other client gets the usual JSON error. The code is one of Torii's fixed codes, never
//! text the provider or the request supplied.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{delete, get};
use axum::{Extension, Json, Router};
use chrono::{DateTime, Utc};
use cookie::Cookie;
use serde::{Deserialize, Serialize};
use torii_core::oauth::{OAuthCallback, OAuthError, OAuthOutcome, OAuthStartOptions, is_valid_provider_name};
use torii_core::storage::{OAuthStorage, PasskeyStorage};
use torii_core::{RepositoryProvider, TokenHash, ToriiError};
use tower_cookies::Cookies;

use super::oauth_browser::{accepts_html, decode_binding, encode_binding, with_error_code};
use super::{AuthRoutes, RouteState};
use crate::client::ClientInfo;
use crate::config::CookieConfig;
use crate::cookies::set_session_cookie;
use crate::error::ApiError;
use crate::extract::{AuthUser, FreshAuthUser};

/// How long the browser-binding cookie lives: as long as the server-side state.
const STATE_COOKIE_MAX_AGE: i64 = 10 * 60;

/// Longest accepted `next`.
const MAX_NEXT_LEN: usize = 2048;

/// Settings of the OAuth routes.
#[derive(Debug, Clone)]
pub struct OAuthRouteConfig {
    default_redirect: String,
    allowed_redirect_origins: Vec<String>,
    error_redirect: Option<String>,
}

impl Default for OAuthRouteConfig {
    fn default() -> Self {
        Self { default_redirect: "/".to_owned(), allowed_redirect_origins: Vec::new(), error_redirect: None }
    }
}

impl OAuthRouteConfig {
    /// Where the callback sends the browser when the flow has no (acceptable) `next` (default `/`).
    pub fn with_default_redirect(mut self, path: impl Into<String>) -> Self {
        self.default_redirect = path.into();
        self
    }

    /// Origins (e.g. `https://app.example`) that an absolute `next` may point to. Without any, only
    /// relative paths (`/dashboard`) are accepted; anything else falls back to the default redirect.
    pub fn with_allowed_redirect_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allowed_redirect_origins.extend(origins.into_iter().map(Into::into));
        self
    }

    /// Where a browser is sent when the callback fails (for example `/login`), with
    /// `oauth_error=<code>` added to the query. By default it goes back to the flow's `next` when this
    /// browser started the flow with an accepted one, else to the default redirect. Requests that do
    /// not accept `text/html` get a JSON error instead.
    pub fn with_error_redirect(mut self, location: impl Into<String>) -> Self {
        self.error_redirect = Some(location.into());
        self
    }
}

pub(super) type OAuthRouter<R> = fn(Arc<OAuthRouteConfig>) -> Router<RouteState<R>>;

impl<R: RepositoryProvider + OAuthStorage + PasskeyStorage> AuthRoutes<R> {
    /// Adds the OAuth routes for the providers configured on the coordinator
    /// ([`torii_core::Torii::with_oauth_provider`]), with the default [`OAuthRouteConfig`].
    ///
    /// | Method and path | What |
    /// |---|---|
    /// | `GET /oauth/{provider}/start?next=/path` | 303 to the provider; `link=true` links to the logged-in user (403 `reauthentication_required` without a recent login) |
    /// | `GET /oauth/{provider}/callback` | Sets the session cookie, 303 to `next` (or the default); on failure 303 to the error location with `?oauth_error=<code>` for browsers, a JSON error for other clients |
    /// | `GET /oauth/providers` | The configured provider names (no login needed), for "Sign in with" links |
    /// | `GET /oauth/accounts` | The user's linked identities and the configured providers |
    /// | `DELETE /oauth/accounts/{provider}` | Unlinks → 204; 409 when it is the last way to log in; 403 `reauthentication_required` without a recent login |
    ///
    /// Register each provider's redirect URL as `<where the router is nested>/oauth/{provider}/callback`.
    pub fn with_oauth(self) -> Self {
        self.with_oauth_config(OAuthRouteConfig::default())
    }

    /// Like [`AuthRoutes::with_oauth`], with these settings.
    pub fn with_oauth_config(mut self, config: OAuthRouteConfig) -> Self {
        self.oauth = Some((Arc::new(config), router::<R>));
        self
    }
}

fn router<R: RepositoryProvider + OAuthStorage + PasskeyStorage>(
    config: Arc<OAuthRouteConfig>,
) -> Router<RouteState<R>> {
    Router::new()
        .route("/oauth/providers", get(providers::<R>))
        .route("/oauth/accounts", get(accounts::<R>))
        .route("/oauth/accounts/{provider}", delete(unlink::<R>))
        .route("/oauth/{provider}/start", get(start::<R>))
        .route("/oauth/{provider}/callback", get(callback::<R>))
        .layer(Extension(config))
}

#[derive(Deserialize)]
pub(crate) struct StartQuery {
    next: Option<String>,
    #[serde(default)]
    link: bool,
}

/// `GET /oauth/{provider}/start`.
async fn start<R: RepositoryProvider + OAuthStorage>(
    State(state): State<RouteState<R>>,
    Extension(config): Extension<Arc<OAuthRouteConfig>>,
    Path(provider): Path<String>,
    Query(query): Query<StartQuery>,
    cookies: Cookies,
    user: Option<AuthUser>,
) -> Result<Response, ApiError> {
    let link_user_id = match (query.link, user) {
        (true, Some(user)) => {
            state.require_fresh(&user)?;
            Some(user.id.clone())
        }
        (true, None) => return Err(ApiError::unauthenticated()),
        (false, _) => None,
    };
    let redirect_to = query.next.as_deref().and_then(|next| safe_next(next, &config.allowed_redirect_origins));
    let redirect_to_cookie = redirect_to.clone();
    let start = state.torii.start_oauth_flow(&provider, OAuthStartOptions { redirect_to, link_user_id }).await?;
    let binding = encode_binding(&start.csrf_state, redirect_to_cookie.as_deref());
    cookies.add(state_cookie(&state.cookies, &provider, binding, STATE_COOKIE_MAX_AGE));
    Ok(Redirect::to(&start.url).into_response())
}

#[derive(Deserialize)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    iss: Option<String>,
    error: Option<String>,
}

/// `GET /oauth/{provider}/callback`. The URL carries a code: `Referrer-Policy: no-referrer` keeps it
/// out of the next page's requests, whatever the outcome.
#[allow(clippy::too_many_arguments)]
async fn callback<R: RepositoryProvider + OAuthStorage>(
    State(state): State<RouteState<R>>,
    Extension(config): Extension<Arc<OAuthRouteConfig>>,
    Path(provider): Path<String>,
    Query(query): Query<CallbackQuery>,
    headers: HeaderMap,
    cookies: Cookies,
    client: ClientInfo,
    user: Option<AuthUser>,
) -> Response {
    // The binding cookie is single-use too: read it, and clear it whatever happens next.
    let bound = is_valid_provider_name(&provider)
        .then(|| cookies.get(&state_cookie_name(&state.cookies, &provider)))
        .flatten()
        .map(|c| decode_binding(c.value(), &config.allowed_redirect_origins));
    if is_valid_provider_name(&provider) {
        cookies.add(state_cookie(&state.cookies, &provider, String::new(), 0));
    }
    let (bound_state, bound_next) = bound.unzip();
    let mut response = match finish(&state, &config, &provider, query, bound_state, &cookies, client, user).await {
        Ok(response) => response,
        Err(err) if accepts_html(&headers) => {
            // A browser lands on a page rather than on a JSON body; the code is a fixed string.
            let location = config
                .error_redirect
                .clone()
                .or(bound_next.flatten())
                .unwrap_or_else(|| config.default_redirect.clone());
            Redirect::to(&with_error_code(&location, err.code())).into_response()
        }
        Err(err) => err.into_response(),
    };
    response.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

#[allow(clippy::too_many_arguments)]
async fn finish<R: RepositoryProvider + OAuthStorage>(
    state: &RouteState<R>,
    config: &OAuthRouteConfig,
    provider: &str,
    query: CallbackQuery,
    bound: Option<String>,
    cookies: &Cookies,
    client: ClientInfo,
    user: Option<AuthUser>,
) -> Result<Response, ApiError> {
    if !is_valid_provider_name(provider) {
        return Err(ApiError::not_found("This authentication method is not enabled"));
    }

    let Some(returned) = query.state.filter(|s| !s.is_empty()) else {
        return Err(ToriiError::from(OAuthError::InvalidState).into());
    };
    let same_browser = bound.is_some_and(|bound| TokenHash::of(&bound).ct_eq(&TokenHash::of(&returned)));
    if !same_browser {
        return Err(ToriiError::from(OAuthError::InvalidState).into());
    }
    if query.error.is_some() {
        return Err(ToriiError::from(OAuthError::Denied).into());
    }
    let Some(code) = query.code.filter(|c| !c.is_empty()) else {
        return Err(ToriiError::from(OAuthError::InvalidState).into());
    };

    let previous = user.as_ref().map(|u| u.session().token.clone());
    let mut callback = OAuthCallback::new(&code, &returned);
    callback.iss = query.iss;
    callback.session_user_id = user.map(|u| u.id.clone());
    let login = state.torii.complete_oauth_flow(provider, callback, client.user_agent, client.ip_address).await?;
    // A new account whose provider did not vouch for the address gets the verification mail, like
    // `POST /register` (the mail does nothing for an address already verified).
    if login.outcome == OAuthOutcome::Registered
        && let Some(after_register) = &state.after_register
    {
        after_register(login.user.id.clone()).await;
    }

    if let Some(previous) = previous {
        // A login replaces the session the browser had; best effort, as for password logins.
        if let Err(err) = state.torii.delete_session(&previous).await {
            tracing::warn!(error = %err, "could not revoke the session replaced by an OAuth login");
        }
    }
    set_session_cookie(cookies, &state.cookies, login.session.token.as_str(), login.session.expires_at);
    let target = login.redirect_to.unwrap_or_else(|| config.default_redirect.clone());
    Ok(Redirect::to(&target).into_response())
}

/// A linked identity, as shown to its owner.
#[derive(Debug, Clone, Serialize)]
pub struct LinkedAccount {
    /// The provider name.
    pub provider: String,
    /// The email the provider reported.
    pub email: Option<String>,
    /// Whether the provider said that email was verified when the link was made.
    pub email_verified: bool,
    /// When it was linked.
    pub linked_at: DateTime<Utc>,
}

/// Body of `GET /oauth/accounts`.
#[derive(Debug, Clone, Serialize)]
pub struct LinkedAccountsResponse {
    /// The user's linked identities, oldest first.
    pub accounts: Vec<LinkedAccount>,
    /// Every configured provider (to offer "link" buttons for the others).
    pub providers: Vec<String>,
}

/// Body of `GET /oauth/providers`.
#[derive(Debug, Clone, Serialize)]
pub struct OAuthProvidersResponse {
    /// Every configured provider, sorted by name.
    pub providers: Vec<String>,
}

/// `GET /oauth/providers`: public, like the login page that shows them.
async fn providers<R: RepositoryProvider + OAuthStorage>(
    State(state): State<RouteState<R>>,
) -> Json<OAuthProvidersResponse> {
    Json(OAuthProvidersResponse { providers: state.torii.oauth_providers().into_iter().map(str::to_owned).collect() })
}

/// `GET /oauth/accounts`.
async fn accounts<R: RepositoryProvider + OAuthStorage>(
    State(state): State<RouteState<R>>,
    user: AuthUser,
) -> Result<Json<LinkedAccountsResponse>, ApiError> {
    let accounts = state.torii.list_oauth_accounts(&user.id).await?;
    Ok(Json(LinkedAccountsResponse {
        accounts: accounts
            .into_iter()
            .map(|a| LinkedAccount {
                provider: a.provider,
                email: a.email,
                email_verified: a.email_verified,
                linked_at: a.created_at,
            })
            .collect(),
        providers: state.torii.oauth_providers().into_iter().map(str::to_owned).collect(),
    }))
}

/// `DELETE /oauth/accounts/{provider}`.
async fn unlink<R: RepositoryProvider + OAuthStorage + PasskeyStorage>(
    State(state): State<RouteState<R>>,
    Path(provider): Path<String>,
    FreshAuthUser(user): FreshAuthUser,
) -> Result<StatusCode, ApiError> {
    state.torii.unlink_oauth_account(&user.id, &provider).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn state_cookie_name(config: &CookieConfig, provider: &str) -> String {
    // The `__Host-` prefix (secure configurations) stops a subdomain from planting the cookie.
    let prefix = if config.is_secure() { "__Host-" } else { "" };
    format!("{prefix}torii_oauth_{provider}")
}

fn state_cookie(config: &CookieConfig, provider: &str, value: String, max_age: i64) -> Cookie<'static> {
    // SameSite=Lax: the provider's redirect back is a top-level GET navigation, which Lax allows.
    Cookie::build((state_cookie_name(config, provider), value))
        .http_only(true)
        .secure(config.is_secure())
        .same_site(cookie::SameSite::Lax)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age))
        .build()
}

/// `next` when it is a relative path on this site or an absolute URL on an allowed origin; `None`
/// (the default redirect) for anything else, such as `//evil.example` or `https://evil.example`.
pub(crate) fn safe_next(next: &str, allowed_origins: &[String]) -> Option<String> {
    if next.len() > MAX_NEXT_LEN || next.contains('\\') || next.chars().any(char::is_control) {
        return None;
    }
    if next.starts_with('/') {
        // `//host` and `/\host` are protocol-relative URLs to another site.
        return (!next.starts_with("//")).then(|| next.to_owned());
    }
    let (scheme, rest) = next.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("https") && !scheme.eq_ignore_ascii_case("http") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    let origin = format!("{scheme}://{authority}");
    allowed_origins.iter().any(|allowed| allowed.eq_ignore_ascii_case(&origin)).then(|| next.to_owned())
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_is_relative_or_allow_listed() {
        let allowed = vec!["https://app.example".to_owned()];
        assert_eq!(safe_next("/dashboard?tab=1", &allowed).as_deref(), Some("/dashboard?tab=1"));
        assert_eq!(safe_next("https://app.example/x", &allowed).as_deref(), Some("https://app.example/x"));
        for bad in [
            "//evil.example/x",
            "/\\evil.example",
            "https://evil.example/",
            "https://app.example@evil.example/",
            "https://app.example.evil.example/",
            "javascript:alert(1)",
            "evil.example",
            "/ok\r\nSet-Cookie: x=y",
            "",
        ] {
            assert_eq!(safe_next(bad, &allowed), None, "{bad:?} must be refused");
        }
        assert_eq!(safe_next("https://app.example/x", &[]), None);
    }
}
