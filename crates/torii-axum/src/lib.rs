//! Axum integration for Torii: ready-made auth routes, session cookies, and the [`AuthUser`] extractor.
//!
//! ```
//! use std::sync::Arc;
//! use axum::{Json, Router, routing::get};
//! use torii_axum::{AuthUser, CookieConfig};
//! use torii_core::{RepositoryProvider, Torii};
//!
//! fn app<R: RepositoryProvider>(torii: Arc<Torii<R>>) -> Router {
//!     let auth_routes = torii_axum::routes(torii.clone())
//!         .with_cookie_config(CookieConfig::development())
//!         .build();
//!     Router::new()
//!         .nest("/auth", auth_routes)
//!         .route("/protected", get(protected_handler))
//!         .with_state(torii)
//! }
//!
//! async fn protected_handler(user: AuthUser) -> Json<serde_json::Value> {
//!     Json(serde_json::json!({ "user_id": user.id, "email": user.email }))
//! }
//! ```
//!
//! Security behaviour, all on by default: `HttpOnly` + `Secure` + `SameSite=Lax` `__Host-` cookies, read
//! under that one configured name by the routes and the extractors alike (a tossed `torii_session`
//! cookie is ignored), cross-site state-changing requests refused (403) unless a live bearer token is
//! the credential, JSON-only bodies (415 otherwise), 16 KiB body limit (413), `Cache-Control:
//! no-store` on every auth response, a new session on every login, a recent login (403
//! `reauthentication_required` otherwise; see [`FreshAuthUser`]) before a passkey, a provider link or
//! the password changes, and no response body that carries a session token unless the client asked for
//! bearer mode.

mod client;
mod config;
mod context;
mod cookies;
mod csrf;
mod device;
mod error;
mod extract;
mod json;
mod no_store;
mod oauth_error;
mod proxy;
mod routes;

pub use client::{ClientInfo, audit_client_context};
pub use config::{CookieConfig, DEVELOPMENT_COOKIE_NAME, SECURE_COOKIE_NAME};
pub use context::{AuthContext, SessionAuthority};
pub use device::{DEVELOPMENT_DEVICE_COOKIE_NAME, SECURE_DEVICE_COOKIE_NAME};
pub use error::ApiError;
pub use extract::{AuthRejection, AuthSession, AuthUser, FreshAuthUser, require_fresh_auth};
pub use json::ApiJson;
pub use no_store::{NoStoreLayer, no_store};
pub use proxy::{InvalidCidr, TrustedProxies};
pub use routes::{
    AuthRoutes, DEFAULT_BODY_LIMIT, DEFAULT_SECURITY_EVENTS, LinkedAccount, LinkedAccountsResponse, LoginResponse,
    MAX_SECURITY_EVENTS_PER_REQUEST, OAuthProvidersResponse, OAuthRouteConfig, RevokedResponse, SecurityEventInfo,
    SecurityEventsResponse, SessionInfo, SessionResponse, SessionsResponse, UserResponse, routes,
};
#[cfg(feature = "passkey")]
pub use routes::{PasskeyResponse, PasskeysResponse};
