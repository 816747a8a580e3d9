//! The OAuth route group with a scripted provider (no network): the start redirect and its
//! browser-binding cookie, refusals (JSON for API clients, a redirect with a fixed code for browser
//! navigations), and the group being opt-in. The real flow against an OpenID Provider is tested end to
//! end in `torii-oauth`.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use torii_axum::{CookieConfig, OAuthRouteConfig};

use crate::support::{
    Reply, Repo, ScriptedProvider, assert_error, get_with_cookie, register, send, torii, with_cookie,
};

/// The provider of these tests: it vouches for a new address.
fn scripted() -> ScriptedProvider {
    ScriptedProvider::identity("sub-1", "new@example.com", true)
}

async fn app(cookies: CookieConfig) -> Router {
    app_with(cookies, OAuthRouteConfig::default()).await
}

async fn app_with(cookies: CookieConfig, config: OAuthRouteConfig) -> Router {
    let torii = torii().await;
    let torii: Arc<torii_core::Torii<Repo>> = Arc::new((*torii).clone().with_oauth_provider(scripted()));
    Router::new().nest("/auth", torii_axum::routes(torii).with_cookie_config(cookies).with_oauth_config(config).build())
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
    // The cookie holds the state, then the accepted `next` (base64url of `/x`).
    assert!(cookie.starts_with(&format!("__Host-torii_oauth_idp={state}.L3g;")), "{cookie}");
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

/// What a browser sends on a top-level navigation.
const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// Starts a flow; returns the state and the binding cookie (`name=value`) to send back.
async fn start(app: &Router, query: &str) -> (String, String) {
    let reply = send(app, get(&format!("/auth/oauth/idp/start?{query}"))).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.raw);
    let location = reply.headers[header::LOCATION].to_str().unwrap();
    let state = location.strip_prefix("https://idp.example/authorize?state=").unwrap().to_owned();
    let cookie = reply.set_cookie().unwrap().split(';').next().unwrap().to_owned();
    (state, cookie)
}

/// A callback navigation by a browser holding `cookie`.
async fn navigate(app: &Router, query: &str, cookie: Option<&str>) -> Reply {
    let mut request = Request::builder().uri(format!("/auth/oauth/idp/callback?{query}"));
    request = request.header(header::ACCEPT, BROWSER_ACCEPT);
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send(app, request.body(Body::empty()).unwrap()).await
}

/// A refused browser callback: 303 to `location`, no session, no referrer, binding cookie cleared.
fn assert_redirected_error(reply: &Reply, location: &str) {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.raw);
    assert_eq!(reply.headers[header::LOCATION], location);
    assert_eq!(reply.headers[header::REFERRER_POLICY], "no-referrer");
    let cookies: Vec<_> = reply.headers.get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap()).collect();
    assert!(!cookies.iter().any(|c| c.starts_with("torii_session=")), "no session on failure: {cookies:?}");
    assert!(cookies.iter().any(|c| c.starts_with("torii_oauth_idp=;")), "binding cookie cleared: {cookies:?}");
}

#[tokio::test]
async fn browser_callback_failures_redirect_to_next_with_a_fixed_code() {
    let app = app(CookieConfig::development()).await;

    // The provider reports a refusal: its own text never reaches the redirect.
    let (state, cookie) = start(&app, "next=/settings%3Ftab%3Daccounts").await;
    let query = format!("state={state}&error=access_denied&error_description=%3Cscript%3Ehi");
    let reply = navigate(&app, &query, Some(&cookie)).await;
    assert_redirected_error(&reply, "/settings?tab=accounts&oauth_error=oauth_denied");

    // A callback from a browser that did not start the flow: no `next` is known, so the default.
    let (state, _) = start(&app, "next=/settings").await;
    let reply = navigate(&app, &format!("code=c&state={state}"), None).await;
    assert_redirected_error(&reply, "/?oauth_error=oauth_invalid_state");

    // A replayed callback: the first one logs in, the second is refused and sets no session.
    let (state, cookie) = start(&app, "next=/home").await;
    let first = navigate(&app, &format!("code=c&state={state}"), Some(&cookie)).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER, "{}", first.raw);
    assert_eq!(first.headers[header::LOCATION], "/home");
    let again = navigate(&app, &format!("code=c&state={state}"), Some(&cookie)).await;
    assert_redirected_error(&again, "/home?oauth_error=oauth_invalid_state");

    // The same failure for an API client is the JSON error, as before.
    let (state, cookie) = start(&app, "next=/home").await;
    let request = Request::builder()
        .uri(format!("/auth/oauth/idp/callback?state={state}&error=access_denied"))
        .header(header::ACCEPT, "application/json")
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, request).await;
    assert_error(&reply, StatusCode::FORBIDDEN, "oauth_denied");
    assert_eq!(reply.headers[header::REFERRER_POLICY], "no-referrer");
}

#[tokio::test]
async fn a_policy_refusal_goes_to_the_configured_error_location() {
    let config = OAuthRouteConfig::default().with_default_redirect("/app").with_error_redirect("/login?from=oauth");
    let configured = app_with(CookieConfig::development(), config).await;
    // An account already has the provider's email; without that user's session, no link.
    register(&configured, "new@example.com").await;
    let (state, cookie) = start(&configured, "next=/welcome").await;
    let reply = navigate(&configured, &format!("code=c&state={state}"), Some(&cookie)).await;
    assert_redirected_error(&reply, "/login?from=oauth&oauth_error=oauth_email_in_use");

    // A planted binding cookie cannot make the error redirect leave the site.
    let default = app(CookieConfig::development()).await;
    let (state, _) = start(&default, "").await;
    let planted = format!("torii_oauth_idp={state}.aHR0cHM6Ly9ldmlsLmV4YW1wbGUv"); // https://evil.example/
    let reply = navigate(&default, &format!("state={state}&error=access_denied"), Some(&planted)).await;
    assert_redirected_error(&reply, "/?oauth_error=oauth_denied");
}

#[tokio::test]
async fn providers_are_listed_without_a_session() {
    let app = app(CookieConfig::development()).await;
    let reply = send(&app, get("/auth/oauth/providers")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body, serde_json::json!({ "providers": ["idp"] }));
}

/// A callback the core refuses (here a replayed state) is recorded as a failed login by provider and
/// reason, with nothing the provider said.
#[tokio::test]
async fn a_refused_callback_is_recorded_as_a_failed_login() {
    let (sender, events) = std::sync::mpsc::channel();
    let sender = std::sync::Mutex::new(sender);
    let torii = (*torii().await).clone().with_oauth_provider(scripted()).on_event(move |event| {
        let _ = sender.lock().unwrap().send(event.clone());
    });
    let routes = torii_axum::routes(Arc::new(torii))
        .with_cookie_config(CookieConfig::secure())
        .with_oauth_config(OAuthRouteConfig::default())
        .build();
    let app: Router = Router::new().nest("/auth", routes);
    let reply = send(&app, get("/auth/oauth/idp/start")).await;
    let location = reply.headers[header::LOCATION].to_str().unwrap().to_owned();
    let state = location.strip_prefix("https://idp.example/authorize?state=").unwrap().to_owned();
    let callback = || {
        Request::builder()
            .uri(format!("/auth/oauth/idp/callback?code=c&state={state}"))
            .header(header::COOKIE, format!("__Host-torii_oauth_idp={state}"))
            .body(Body::empty())
            .unwrap()
    };
    assert!(send(&app, callback()).await.status.is_redirection());
    let replay = send(&app, callback()).await;
    assert_error(&replay, StatusCode::BAD_REQUEST, "oauth_invalid_state");
    let failed = std::iter::from_fn(|| events.recv_timeout(std::time::Duration::from_secs(10)).ok())
        .take(10)
        .find(|event| event.kind == torii_core::storage::AuditEventKind::LOGIN_FAILED)
        .expect("a login.failed event");
    assert_eq!(failed.detail["method"], "oauth");
    assert_eq!(failed.detail["provider"], "idp");
    assert_eq!(failed.detail["reason"], "invalid_state");
    assert!(failed.user_id.is_none());
    assert!(!failed.detail.to_string().contains(&state), "the state is a secret of the flow");
}
