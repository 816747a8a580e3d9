//! A recent login for every way into the account: a session authenticated longer ago than the
//! freshness window gets 403 `reauthentication_required` on the routes that add or remove a way in
//! (and on an app's own routes behind `FreshAuthUser` or `require_fresh_auth`), and passes again after
//! `POST /reauthenticate`. Time is moved with `ManualClock`, never slept.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use axum::routing::{get, post};
use chrono::Duration;
use serde_json::{Value, json};
use torii_axum::{AuthContext, CookieConfig, FreshAuthUser, require_fresh_auth};
use torii_core::email_flows::{EmailConfig, EmailFlows, OutboxMailer};
use torii_core::{JwtConfig, ManualClock, Torii};
use torii_storage_sqlite::SqliteRepositoryProvider;

use crate::support::*;

const NEW_PASSWORD: &str = "a brand new passphrase";

async fn sensitive(user: FreshAuthUser) -> String {
    format!("sensitive for {}", user.email)
}

/// The documented set-up with email flows and a provider, an app route behind `FreshAuthUser` and
/// one behind the `require_fresh_auth` middleware, on a clock the test moves.
async fn app(jwt: bool) -> (Router, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::starting_now());
    let repositories = SqliteRepositoryProvider::connect("sqlite::memory:").await.unwrap();
    repositories.migrate().await.unwrap();
    let torii =
        Torii::new(Arc::new(repositories)).with_clock(clock.clone()).with_oauth_provider(ScriptedProvider::refusing());
    let torii: Arc<Torii<Repo>> = Arc::new(if jwt {
        torii.with_jwt_sessions(JwtConfig::new_hs256(b"a-test-secret-of-at-least-32-bytes".to_vec()))
    } else {
        torii
    });
    let config = EmailConfig::new("Acme", "https://app.example", "noreply@app.example").unwrap();
    let flows = EmailFlows::new(torii.clone(), config, Arc::new(OutboxMailer::new()));
    let auth = torii_axum::routes(torii.clone())
        .with_cookie_config(CookieConfig::development())
        .with_email_flows(flows)
        .with_oauth()
        .build();
    let layered = Router::new()
        .route("/layered", post(|| async { "done" }))
        .layer(axum::middleware::from_fn_with_state(AuthContext::new(torii.clone()), require_fresh_auth));
    let router = Router::new()
        .nest("/auth", auth)
        .route("/protected", get(protected_handler))
        .route("/sensitive", get(sensitive))
        .merge(layered)
        .with_state(torii);
    (router, clock)
}

fn request(method: Method, uri: &str, token: &str, body: Option<Value>) -> Request<Body> {
    let builder = with_cookie(method, uri, token).header(header::CONTENT_TYPE, "application/json");
    builder.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string()))).unwrap()
}

fn change_password(token: &str, new_password: &str) -> Request<Body> {
    let body = json!({ "current_password": PASSWORD, "new_password": new_password });
    request(Method::POST, "/auth/password/change", token, Some(body))
}

/// Every guarded route, as the owner of `token` would call it.
fn guarded(token: &str) -> Vec<(&'static str, Request<Body>)> {
    vec![
        ("password change", change_password(token, NEW_PASSWORD)),
        ("provider link", request(Method::GET, "/auth/oauth/idp/start?link=true", token, None)),
        ("provider unlink", request(Method::DELETE, "/auth/oauth/accounts/idp", token, None)),
        ("FreshAuthUser route", request(Method::GET, "/sensitive", token, None)),
        ("require_fresh_auth route", request(Method::POST, "/layered", token, None)),
    ]
}

async fn assert_all_refused(app: &Router, token: &str) {
    for (what, request) in guarded(token) {
        let reply = send(app, request).await;
        assert_error(&reply, StatusCode::FORBIDDEN, "reauthentication_required");
        assert!(!reply.raw.contains(token), "{what}");
    }
}

#[tokio::test]
async fn a_stale_session_must_reauthenticate_before_adding_or_removing_a_way_in() {
    let (app, clock) = app(false).await;
    let token = register(&app, "ada@example.com").await;
    // Just logged in: fresh.
    assert_eq!(send(&app, request(Method::GET, "/sensitive", &token, None)).await.status, StatusCode::OK);

    clock.advance(Duration::hours(2));
    assert_all_refused(&app, &token).await;
    // Nothing changed: the old password still logs in, and ordinary routes still work.
    login(&app, "ada@example.com").await;
    assert_eq!(send(&app, get_with_cookie("/protected", &token)).await.status, StatusCode::OK);

    // A wrong password does not make the session fresh.
    let wrong = request(Method::POST, "/auth/reauthenticate", &token, Some(json!({ "password": "not my password" })));
    assert_error(&send(&app, wrong).await, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_all_refused(&app, &token).await;

    let reauth = request(Method::POST, "/auth/reauthenticate", &token, Some(json!({ "password": PASSWORD })));
    let reply = send(&app, reauth).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body["user"]["email"], "ada@example.com");
    assert!(reply.body.get("token").is_none(), "a cookie client gets the token in the cookie only");
    let fresh = reply.cookie_token().unwrap();
    assert_ne!(fresh, token);
    // The old token is dead; the new one passes every check.
    assert_eq!(send(&app, get_with_cookie("/protected", &token)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&app, request(Method::GET, "/sensitive", &fresh, None)).await.status, StatusCode::OK);
    assert_eq!(send(&app, request(Method::POST, "/layered", &fresh, None)).await.status, StatusCode::OK);
    let link = send(&app, request(Method::GET, "/auth/oauth/idp/start?link=true", &fresh, None)).await;
    assert_eq!(link.status, StatusCode::SEE_OTHER, "{}", link.raw);
    let unlink = send(&app, request(Method::DELETE, "/auth/oauth/accounts/idp", &fresh, None)).await;
    assert_ne!(unlink.status, StatusCode::FORBIDDEN, "{}", unlink.raw);
    let changed = send(&app, change_password(&fresh, NEW_PASSWORD)).await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.raw);

    // The window is ten minutes by default.
    clock.advance(Duration::minutes(9));
    assert_eq!(send(&app, request(Method::GET, "/sensitive", &fresh, None)).await.status, StatusCode::OK);
    clock.advance(Duration::minutes(2));
    assert_all_refused(&app, &fresh).await;
}

#[tokio::test]
async fn jwt_sessions_get_a_new_token_on_reauthentication() {
    let (app, clock) = app(true).await;
    let token = register(&app, "ada@example.com").await;
    assert_eq!(token.split('.').count(), 3);
    clock.advance(Duration::hours(2));
    assert_all_refused(&app, &token).await;

    let reauth = request(Method::POST, "/auth/reauthenticate", &token, Some(json!({ "password": PASSWORD })));
    let reply = send(&app, reauth).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    let fresh = reply.cookie_token().unwrap();
    assert_eq!(fresh.split('.').count(), 3, "a new JWT carries the new authentication time");
    assert_eq!(send(&app, get_with_cookie("/protected", &token)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&app, request(Method::GET, "/sensitive", &fresh, None)).await.status, StatusCode::OK);
    let changed = send(&app, change_password(&fresh, NEW_PASSWORD)).await;
    assert_ne!(changed.status, StatusCode::FORBIDDEN, "{}", changed.raw);
}

#[tokio::test]
async fn bearer_clients_reauthenticate_and_get_the_new_token_in_the_body() {
    for jwt in [false, true] {
        let (app, clock) = app(jwt).await;
        register(&app, "ada@example.com").await;
        let login =
            post_json("/auth/login", &json!({ "email": "ada@example.com", "password": PASSWORD, "bearer": true }));
        let token = send(&app, login).await.body["token"].as_str().unwrap().to_owned();
        clock.advance(Duration::hours(2));
        let stale = send(&app, get_with_bearer("/sensitive", &token)).await;
        assert_error(&stale, StatusCode::FORBIDDEN, "reauthentication_required");

        let reauth = Request::builder()
            .method(Method::POST)
            .uri("/auth/reauthenticate")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json!({ "password": PASSWORD }).to_string()))
            .unwrap();
        let reply = send(&app, reauth).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
        assert!(reply.set_cookie().is_none(), "a bearer client gets no cookie");
        let fresh = reply.body["token"].as_str().unwrap();
        assert_eq!(send(&app, get_with_bearer("/sensitive", fresh)).await.status, StatusCode::OK);
        assert_eq!(send(&app, get_with_bearer("/auth/user", &token)).await.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test]
async fn reauthentication_needs_a_session() {
    let (app, _) = app(false).await;
    let reply = send(&app, post_json("/auth/reauthenticate", &json!({ "password": PASSWORD }))).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
    let reply = send(&app, Request::builder().uri("/sensitive").body(Body::empty()).unwrap()).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
}
