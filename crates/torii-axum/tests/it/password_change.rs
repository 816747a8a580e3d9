//! `POST /password/change` and `POST /password/reset` as one change each: the password, the other
//! sessions, every outstanding link and the notice mail, with JWT sessions (the default in many
//! deployments) and opaque ones alike.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use torii_core::email_flows::MessageKind;
use torii_core::{JwtConfig, Torii};
use torii_storage_sqlite::SqliteRepositoryProvider;

use crate::email::{App, app_on, post_with_cookie, token_in};
use crate::support::{
    PASSWORD, Repo, assert_error, get_with_bearer, get_with_cookie, login, post_json, register, send, torii,
};

const NEW_PASSWORD: &str = "a brand new passphrase";
const EMAIL: &str = "ada@example.com";

async fn jwt_torii() -> Arc<Torii<Repo>> {
    let repositories = SqliteRepositoryProvider::connect("sqlite::memory:").await.unwrap();
    repositories.migrate().await.unwrap();
    let jwt = JwtConfig::new_hs256(b"a-test-secret-of-at-least-32-bytes".to_vec()).with_issuer("it");
    Arc::new(Torii::new(Arc::new(repositories)).with_jwt_sessions(jwt))
}

/// The outstanding links an attacker could hold: a reset link and a magic link for the account.
async fn outstanding_links(app: &App) -> (String, String) {
    let forgot = send(&app.router, post_json("/auth/password/forgot", &json!({ "email": EMAIL }))).await;
    assert_eq!(forgot.status, StatusCode::ACCEPTED);
    let reset = token_in(&app.link_to(EMAIL, MessageKind::PasswordReset).await);
    let magic = send(&app.router, post_json("/auth/magic-link", &json!({ "email": EMAIL }))).await;
    assert_eq!(magic.status, StatusCode::ACCEPTED);
    let magic = token_in(&app.link_to(EMAIL, MessageKind::MagicLink).await);
    (reset, magic)
}

/// Both links are refused (and the reset did not take: the password is unchanged by it).
async fn assert_links_dead(app: &App, reset: &str, magic: &str) {
    let reply =
        send(&app.router, post_json("/auth/password/reset", &json!({ "token": reset, "new_password": "hijacked!!" })))
            .await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_token");
    let reply = send(&app.router, post_json("/auth/magic-link/verify", &json!({ "token": magic }))).await;
    assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_token");
}

async fn login_status(app: &App, password: &str) -> StatusCode {
    send(&app.router, post_json("/auth/login", &json!({ "email": EMAIL, "password": password }))).await.status
}

fn change(current: &str) -> Value {
    json!({ "current_password": current, "new_password": NEW_PASSWORD })
}

/// Generous limits so the tests measure the flows, not the per-account mail limit.
fn app_over(torii: Arc<Torii<Repo>>) -> App {
    app_on(torii, |c| c.rate_limit(100, chrono::Duration::minutes(15)))
}

#[tokio::test]
async fn jwt_password_change_succeeds_ends_other_sessions_voids_links_and_mails_the_notice() {
    let app = app_over(jwt_torii().await);
    let here = register(&app.router, EMAIL).await;
    let other = login(&app.router, EMAIL).await;
    let (reset, magic) = outstanding_links(&app).await;

    let reply = send(&app.router, post_with_cookie("/auth/password/change", &here, &change(PASSWORD))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    // The caller's token could not outlive the others: it was replaced, in the cookie it came from.
    let renewed = reply.cookie_token().expect("a replacement session cookie");
    assert_ne!(renewed, here);
    assert!(reply.body.get("token").is_none(), "a cookie client gets no token in the body");
    assert_eq!(reply.body["session"]["current"], true);
    assert_eq!(send(&app.router, get_with_cookie("/protected", &renewed)).await.status, StatusCode::OK);
    assert_eq!(send(&app.router, get_with_cookie("/protected", &here)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&app.router, get_with_cookie("/protected", &other)).await.status, StatusCode::UNAUTHORIZED);

    assert_eq!(login_status(&app, PASSWORD).await, StatusCode::UNAUTHORIZED);
    assert_eq!(login_status(&app, NEW_PASSWORD).await, StatusCode::OK);
    assert_links_dead(&app, &reset, &magic).await;
    app.flows.wait_idle().await;
    assert_eq!(app.outbox.last_to(EMAIL).unwrap().kind(), MessageKind::PasswordChanged);
}

#[tokio::test]
async fn jwt_password_change_by_a_bearer_client_returns_the_new_token_in_the_body() {
    let app = app_over(jwt_torii().await);
    let reply = send(
        &app.router,
        post_json("/auth/register", &json!({ "email": EMAIL, "password": PASSWORD, "bearer": true })),
    )
    .await;
    let old = reply.body["token"].as_str().unwrap().to_owned();
    let request = Request::post("/auth/password/change")
        .header(header::AUTHORIZATION, format!("Bearer {old}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(change(PASSWORD).to_string()))
        .unwrap();
    let reply = send(&app.router, request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert!(reply.set_cookie().is_none(), "a bearer client gets no cookie");
    let renewed = reply.body["token"].as_str().expect("the replacement token").to_owned();
    assert_eq!(send(&app.router, get_with_bearer("/auth/user", &renewed)).await.status, StatusCode::OK);
    assert_eq!(send(&app.router, get_with_bearer("/auth/user", &old)).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn jwt_password_change_with_a_wrong_current_password_changes_nothing() {
    let app = app_over(jwt_torii().await);
    let here = register(&app.router, EMAIL).await;
    let other = login(&app.router, EMAIL).await;
    let reply = send(&app.router, post_with_cookie("/auth/password/change", &here, &change("not my password"))).await;
    assert_error(&reply, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let weak = json!({ "current_password": PASSWORD, "new_password": "short" });
    let reply = send(&app.router, post_with_cookie("/auth/password/change", &here, &weak)).await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "weak_password");
    for token in [&here, &other] {
        assert_eq!(send(&app.router, get_with_cookie("/protected", token)).await.status, StatusCode::OK);
    }
    assert_eq!(login_status(&app, PASSWORD).await, StatusCode::OK);
    app.flows.wait_idle().await;
    assert!(app.outbox.messages_to(EMAIL).iter().all(|m| m.kind() != MessageKind::PasswordChanged));
}

#[tokio::test]
async fn opaque_password_change_keeps_this_session_and_voids_every_link() {
    let app = app_over(torii().await);
    let here = register(&app.router, EMAIL).await;
    let other = login(&app.router, EMAIL).await;
    let (reset, magic) = outstanding_links(&app).await;

    let reply = send(&app.router, post_with_cookie("/auth/password/change", &here, &change(PASSWORD))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body["revoked"], 1);
    assert!(reply.set_cookie().is_none() && reply.body.get("session").is_none(), "the session is kept as it is");
    assert_eq!(send(&app.router, get_with_cookie("/protected", &here)).await.status, StatusCode::OK);
    assert_eq!(send(&app.router, get_with_cookie("/protected", &other)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(login_status(&app, NEW_PASSWORD).await, StatusCode::OK);
    assert_links_dead(&app, &reset, &magic).await;
    app.flows.wait_idle().await;
    assert_eq!(app.outbox.last_to(EMAIL).unwrap().kind(), MessageKind::PasswordChanged);
}

#[tokio::test]
async fn a_password_reset_voids_outstanding_magic_links() {
    for torii in [torii().await, jwt_torii().await] {
        let app = app_over(torii);
        let session = register(&app.router, EMAIL).await;
        let (reset, magic) = outstanding_links(&app).await;
        let reply = send(
            &app.router,
            post_json("/auth/password/reset", &json!({ "token": reset, "new_password": NEW_PASSWORD })),
        )
        .await;
        assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.raw);
        let reply = send(&app.router, post_json("/auth/magic-link/verify", &json!({ "token": magic }))).await;
        assert_error(&reply, StatusCode::BAD_REQUEST, "invalid_token");
        assert_eq!(send(&app.router, get_with_cookie("/protected", &session)).await.status, StatusCode::UNAUTHORIZED);
        assert_eq!(login_status(&app, NEW_PASSWORD).await, StatusCode::OK);
    }
}
