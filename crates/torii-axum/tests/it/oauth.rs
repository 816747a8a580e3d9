//! The OAuth route group with a scripted provider (no network): the start redirect and its
//! browser-binding cookie, refusals, and the group being opt-in. The real flow against an OpenID
//! Provider is tested end to end in `torii-oauth`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use torii_axum::CookieConfig;
use torii_core::oauth::{AuthorizationStart, CodeExchange, OAuthSecret, ProviderIdentity};
use torii_core::{OAuthError, OAuthProvider};

use crate::support::{Repo, assert_error, get_with_cookie, register, send, torii, with_cookie};

struct Scripted;

#[torii_core::async_trait]
impl OAuthProvider for Scripted {
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
        Ok(ProviderIdentity {
            subject: "sub-1".into(),
            email: Some("new@example.com".into()),
            email_verified: true,
            name: None,
        })
    }
}

async fn app(cookies: CookieConfig) -> Router {
    let torii = torii().await;
    let torii: Arc<torii_core::Torii<Repo>> = Arc::new((*torii).clone().with_oauth_provider(Scripted));
    Router::new().nest("/auth", torii_axum::routes(torii).with_cookie_config(cookies).with_oauth().build())
}

fn get(uri: &str) -> Request<Body> {
    Request::builder().uri(uri).body(Body::empty()).unwrap()
}

#[tokio::test]
async fn start_redirects_and_binds_the_state_to_the_browser() {
    let app = app(CookieConfig::secure()).await;
    let reply = send(&app, get("/auth/oauth/idp/start?next=/x")).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);
    let location = reply.headers[header::LOCATION].to_str().unwrap();
    let state = location.strip_prefix("https://idp.example/authorize?state=").unwrap();
    let cookie = reply.set_cookie().unwrap();
    assert!(cookie.starts_with(&format!("__Host-torii_oauth_idp={state};")), "{cookie}");
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/", "Max-Age=600"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }

    // The callback with that state but without the cookie (another browser) is refused, and clears
    // the cookie.
    let callback = format!("/auth/oauth/idp/callback?code=c&state={state}");
    let reply = send(&app, get(&callback)).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "oauth_invalid_state");
    assert_eq!(reply.headers[header::REFERRER_POLICY], "no-referrer");

    // With it, the user is registered and sent to `next`.
    let request = Request::builder()
        .uri(&callback)
        .header(header::COOKIE, format!("__Host-torii_oauth_idp={state}"))
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, request).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.raw);
    assert_eq!(reply.headers[header::LOCATION], "/x");
    assert_eq!(reply.headers[header::REFERRER_POLICY], "no-referrer");
    let cookies: Vec<_> = reply.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
    assert!(cookies.iter().any(|c| c.starts_with("__Host-torii_session=") && c.contains("HttpOnly")), "{cookies:?}");
    assert!(cookies.iter().any(|c| c.starts_with("__Host-torii_oauth_idp=;")), "binding cookie cleared: {cookies:?}");
}

#[tokio::test]
async fn refusals() {
    let app = app(CookieConfig::development()).await;
    let unknown = send(&app, get("/auth/oauth/nope/start")).await;
    assert_error(&unknown, StatusCode::NOT_FOUND, "not_found");
    let link = send(&app, get("/auth/oauth/idp/start?link=true")).await;
    assert_error(&link, StatusCode::UNAUTHORIZED, "unauthenticated");
    let denied = send(&app, get("/auth/oauth/idp/callback?error=access_denied")).await;
    assert_error(&denied, StatusCode::BAD_REQUEST, "oauth_invalid_state");
    let accounts = send(&app, get("/auth/oauth/accounts")).await;
    assert_error(&accounts, StatusCode::UNAUTHORIZED, "unauthenticated");

    let token = register(&app, "ada@example.com").await;
    let listed = send(&app, get_with_cookie("/auth/oauth/accounts", &token)).await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.body, serde_json::json!({ "accounts": [], "providers": ["idp"] }));
    let request = with_cookie(Method::DELETE, "/auth/oauth/accounts/idp", &token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .unwrap();
    assert_error(&send(&app, request).await, StatusCode::NOT_FOUND, "oauth_not_linked");
}

#[tokio::test]
async fn routes_without_oauth_have_no_oauth_endpoints() {
    let torii = torii().await;
    let app = Router::new().nest("/auth", torii_axum::routes(torii).build());
    assert_error(&send(&app, get("/auth/oauth/idp/start")).await, StatusCode::NOT_FOUND, "not_found");
}
