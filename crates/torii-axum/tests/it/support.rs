use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::routing::get;
use axum::{Json, Router};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use torii_axum::{AuthUser, CookieConfig};
use torii_core::oauth::{AuthorizationStart, CodeExchange, OAuthSecret, ProviderIdentity};
use torii_core::{OAuthError, OAuthProvider, Torii};
use torii_storage_sqlite::SqliteRepositoryProvider;
use tower::ServiceExt as _;

pub type Repo = SqliteRepositoryProvider;

pub const PASSWORD: &str = "correct horse battery staple";

pub async fn torii() -> Arc<Torii<Repo>> {
    let repositories = SqliteRepositoryProvider::connect("sqlite::memory:").await.unwrap();
    repositories.migrate().await.unwrap();
    Arc::new(Torii::new(Arc::new(repositories)))
}

/// The documented set-up: auth routes nested under /auth, a protected route, state `Arc<Torii<_>>`.
pub fn seed_app(torii: Arc<Torii<Repo>>, cookies: CookieConfig) -> Router {
    let auth_routes = torii_axum::routes(torii.clone()).with_cookie_config(cookies).build();
    Router::new().nest("/auth", auth_routes).route("/protected", get(protected_handler)).with_state(torii)
}

pub async fn protected_handler(user: AuthUser) -> Json<Value> {
    Json(json!({ "user_id": user.id, "email": user.email }))
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub raw: String,
}

impl Reply {
    /// The Set-Cookie header for the session cookie, if any (a login also sets the device cookie).
    pub fn set_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| !c.starts_with("torii_device=") && !c.starts_with("__Host-torii_device="))
            .map(str::to_owned)
    }

    /// The token value carried by Set-Cookie.
    pub fn cookie_token(&self) -> Option<String> {
        let set = self.set_cookie()?;
        let pair = set.split(';').next()?;
        let (_, value) = pair.split_once('=')?;
        Some(value.to_owned()).filter(|v| !v.is_empty())
    }
}

pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    let raw = String::from_utf8_lossy(&bytes).into_owned();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply { status, headers, body, raw }
}

pub fn post_json(uri: &str, body: &Value) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// A request builder with the session cookie (development name) set.
pub fn with_cookie(method: Method, uri: &str, token: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(uri).header(header::COOKIE, format!("torii_session={token}"))
}

pub fn get_with_cookie(uri: &str, token: &str) -> Request<Body> {
    with_cookie(Method::GET, uri, token).body(Body::empty()).unwrap()
}

pub fn get_with_bearer(uri: &str, token: &str) -> Request<Body> {
    Request::builder().uri(uri).header(header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap()
}

/// Registers and logs in through HTTP; returns the cookie token.
pub async fn register(app: &Router, email: &str) -> String {
    let reply = send(app, post_json("/auth/register", &json!({ "email": email, "password": PASSWORD }))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    reply.cookie_token().expect("session cookie")
}

pub async fn login(app: &Router, email: &str) -> String {
    let reply = send(app, post_json("/auth/login", &json!({ "email": email, "password": PASSWORD }))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    reply.cookie_token().expect("session cookie")
}

/// Checks the shape every error shares: JSON `{code, message}`, no-store.
pub fn assert_error(reply: &Reply, status: StatusCode, code: &str) {
    assert_eq!(reply.status, status, "{}", reply.raw);
    assert_eq!(reply.body["code"], code, "{}", reply.raw);
    assert!(reply.body["message"].as_str().is_some_and(|m| !m.is_empty()), "{}", reply.raw);
    assert_eq!(reply.headers.get(header::CONTENT_TYPE).unwrap(), "application/json");
}

/// An identity provider named `idp` for the route tests: its authorization URL carries the state, and
/// every code exchange answers with the same identity, or is refused.
pub struct ScriptedProvider(Option<ProviderIdentity>);

impl ScriptedProvider {
    /// A provider that always vouches (or not, by `email_verified`) for `email` as `subject`.
    pub fn identity(subject: &str, email: &str, email_verified: bool) -> Self {
        Self(Some(ProviderIdentity { subject: subject.into(), email: Some(email.into()), email_verified, name: None }))
    }

    /// A provider that refuses every code exchange.
    pub fn refusing() -> Self {
        Self(None)
    }
}

#[torii_core::async_trait]
impl OAuthProvider for ScriptedProvider {
    fn name(&self) -> &str {
        "idp"
    }

    fn authorization_url(&self, state: &str) -> Result<AuthorizationStart, OAuthError> {
        Ok(AuthorizationStart {
            url: format!("https://idp.example/authorize?state={state}"),
            pkce_verifier: OAuthSecret::new("verifier"),
            nonce: None,
        })
    }

    async fn exchange_code(&self, _: CodeExchange) -> Result<ProviderIdentity, OAuthError> {
        self.0.clone().ok_or(OAuthError::Denied)
    }
}
