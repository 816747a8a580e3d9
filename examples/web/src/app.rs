//! The application router: the page, the auth routes, and one protected route.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use torii::email_flows::EmailFlows;
use torii::storage::{MagicLinkStorage, OAuthStorage, PasskeyStorage};
use torii::{RepositoryProvider, Torii};
use torii_axum::{AuthUser, CookieConfig, FreshAuthUser, TrustedProxies, no_store};

use crate::page;

/// Builds the whole app. The state is the coordinator itself, so `AuthUser` works without any glue.
pub(crate) fn router<R: RepositoryProvider + PasskeyStorage + MagicLinkStorage + OAuthStorage>(
    torii: Arc<Torii<R>>,
    cookies: CookieConfig,
    trusted_proxies: TrustedProxies,
    email: EmailFlows<R>,
) -> Router {
    // The OAuth routes are always mounted: with no provider configured they list none and start nothing.
    let auth_routes = torii_axum::routes(torii.clone())
        .with_cookie_config(cookies)
        .with_passkeys()
        .with_email_flows(email)
        .with_oauth()
        .with_trusted_proxies(trusted_proxies.clone())
        .build();
    Router::new()
        .merge(page::routes())
        .nest("/auth", auth_routes)
        // A page rendered for one user: no cache may keep it.
        .route("/protected", get(protected_handler).layer(no_store()))
        .route("/sensitive", get(sensitive_handler).layer(no_store()))
        .route("/public", get(public_handler))
        .layer(middleware::from_fn(log_request))
        // `ClientInfo` in the app's own routes finds the client address by the same rules.
        .layer(axum::Extension(trusted_proxies))
        .with_state(torii)
}

/// The same kind of JSON answer as `/protected`, without authentication: the baseline the HTTP
/// benchmark (`cargo xtask bench-http`) compares `/protected` against.
async fn public_handler() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "user_id": null, "email": null }))
}

/// Only a user who logged in (or confirmed it was them) within the last ten minutes gets here; an older
/// session gets 403 `reauthentication_required`, and the page asks for the password or a passkey.
async fn sensitive_handler(user: FreshAuthUser) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "user_id": user.id, "email": user.email, "authenticated_at": user.session().created_at }))
}

/// Only a logged-in user gets here; anyone else gets the extractor's 401 JSON error.
async fn protected_handler(user: AuthUser) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "user_id": user.id, "email": user.email }))
}

/// One log line per request. Only the path is logged: headers carry the session cookie, and bodies
/// carry passwords.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    tracing::info!(%method, %path, status = response.status().as_u16(), elapsed = ?started.elapsed(), "request");
    response
}
