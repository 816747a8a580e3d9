//! Cookie tossing: with secure cookies only `__Host-torii_session` is read, on the auth routes and on
//! the application's own routes alike, so a `torii_session` cookie planted by a sibling subdomain
//! cannot swap the victim into the attacker's session.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::FromRef;
use axum::http::{Method, Request, StatusCode, header};
use axum::routing::get;
use serde_json::json;
use torii_axum::{AuthContext, CookieConfig};
use torii_core::Torii;

use crate::support::*;

/// Registers through the routes of a secure app; returns the `__Host-` cookie's token.
async fn register_secure(app: &Router, email: &str) -> String {
    let reply = send(app, post_json("/auth/register", &json!({ "email": email, "password": PASSWORD }))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    assert!(reply.set_cookie().unwrap().starts_with("__Host-torii_session="));
    reply.cookie_token().unwrap()
}

fn with_cookies(method: Method, uri: &str, cookies: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(uri).header(header::COOKIE, cookies)
}

#[tokio::test]
async fn a_tossed_plain_cookie_never_authenticates_with_secure_cookies() {
    // The documented set-up, with the secure default.
    let app = seed_app(torii().await, CookieConfig::secure());
    let victim = register_secure(&app, "victim@example.com").await;
    let attacker = register_secure(&app, "mallory@example.com").await;
    // The attacker's cookie comes first, as a cookie set for the parent domain does.
    let tossed = format!("torii_session={attacker}; __Host-torii_session={victim}");

    // The app's own route (AuthUser with state Arc<Torii>).
    let reply = send(&app, with_cookies(Method::GET, "/protected", &tossed).body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body["email"], "victim@example.com");
    // The auth routes.
    let reply = send(&app, with_cookies(Method::GET, "/auth/user", &tossed).body(Body::empty()).unwrap()).await;
    assert_eq!(reply.body["user"]["email"], "victim@example.com");

    // The plain name alone is not read at all, anywhere.
    let plain = format!("torii_session={attacker}");
    for uri in ["/protected", "/auth/user", "/auth/session"] {
        let reply = send(&app, with_cookies(Method::GET, uri, &plain).body(Body::empty()).unwrap()).await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
    }
    // A state-changing auth route acts on the victim's own session: logging out with the tossed header
    // ends the victim's session and leaves the attacker's alone.
    let logout = with_cookies(Method::POST, "/auth/logout", &tossed)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, logout).await.status, StatusCode::NO_CONTENT);
    assert_eq!(send(&app, get_with_bearer("/auth/user", &victim)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&app, get_with_bearer("/auth/user", &attacker)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn routes_built_with_defaults_make_extractors_read_only_the_host_cookie() {
    let torii = torii().await;
    let auth = torii_axum::routes(torii.clone()).build();
    let app = Router::new().nest("/auth", auth).route("/protected", get(protected_handler)).with_state(torii);
    let token = register_secure(&app, "ada@example.com").await;
    let plain = format!("torii_session={token}");
    let reply = send(&app, with_cookies(Method::GET, "/protected", &plain).body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let host = format!("__Host-torii_session={token}");
    let reply = send(&app, with_cookies(Method::GET, "/protected", &host).body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK);
}

#[derive(Clone)]
struct AppState {
    torii: Arc<Torii<Repo>>,
}

impl FromRef<AppState> for AuthContext {
    fn from_ref(state: &AppState) -> Self {
        // No cookie configuration here: the one given to the auth routes is read from the coordinator.
        AuthContext::new(state.torii.clone())
    }
}

#[tokio::test]
async fn an_apps_own_state_reads_the_cookie_configuration_given_to_the_routes() {
    for (config, name, other) in [
        (CookieConfig::development(), "torii_session", "__Host-torii_session"),
        (CookieConfig::secure(), "__Host-torii_session", "torii_session"),
    ] {
        let torii = torii().await;
        let auth = torii_axum::routes(torii.clone()).with_cookie_config(config).build();
        let app = Router::new()
            .nest("/auth", auth)
            .route("/protected", get(protected_handler))
            .with_state(AppState { torii });
        let reply =
            send(&app, post_json("/auth/register", &json!({ "email": "ada@example.com", "password": PASSWORD }))).await;
        let token = reply.cookie_token().unwrap();
        let right = format!("{name}={token}");
        let reply = send(&app, with_cookies(Method::GET, "/protected", &right).body(Body::empty()).unwrap()).await;
        assert_eq!(reply.status, StatusCode::OK, "{name}");
        let wrong = format!("{other}={token}");
        let reply = send(&app, with_cookies(Method::GET, "/protected", &wrong).body(Body::empty()).unwrap()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{other}");
    }
}
