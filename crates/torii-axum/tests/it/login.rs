//! Registration, login, cookies, bearer mode, fixation.

use axum::http::{Method, StatusCode, header};
use serde_json::json;
use torii_axum::CookieConfig;

use crate::support::*;

#[tokio::test]
async fn register_sets_a_development_cookie_and_returns_no_token() {
    let app = seed_app(torii().await, CookieConfig::development());
    let reply =
        send(&app, post_json("/auth/register", &json!({ "email": "ada@example.com", "password": PASSWORD }))).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.raw);
    assert_eq!(reply.body["user"]["email"], "ada@example.com");
    assert!(reply.body["session"]["expires_at"].is_string());
    assert!(reply.body.get("token").is_none());
    assert_eq!(reply.headers.get(header::CACHE_CONTROL).unwrap(), "no-store");

    let cookie = reply.set_cookie().unwrap();
    let token = reply.cookie_token().unwrap();
    assert!(cookie.starts_with("torii_session="), "{cookie}");
    for attr in ["HttpOnly", "SameSite=Lax", "Path=/", "Expires=", "Max-Age="] {
        assert!(cookie.contains(attr), "missing {attr}: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "development cookies work on http://localhost: {cookie}");
    assert!(!reply.raw.contains(&token), "the body must not carry the token");
}

#[tokio::test]
async fn secure_default_cookie_uses_host_prefix() {
    let torii = torii().await;
    let app = axum::Router::new().nest("/auth", torii_axum::routes(torii.clone()).build()).with_state(torii);
    let reply =
        send(&app, post_json("/auth/register", &json!({ "email": "ada@example.com", "password": PASSWORD }))).await;
    assert_eq!(reply.status, StatusCode::CREATED);
    let cookie = reply.set_cookie().unwrap();
    assert!(cookie.starts_with("__Host-torii_session="), "{cookie}");
    for attr in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attr), "missing {attr}: {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");
    // The expiry is the session's expiry (30 days by default).
    let expires: chrono::DateTime<chrono::Utc> = reply.body["session"]["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - chrono::Utc::now()).num_days();
    assert!((29..=30).contains(&days), "{days}");
}

#[tokio::test]
async fn login_returns_user_and_session_and_sets_cookie() {
    let app = seed_app(torii().await, CookieConfig::development());
    register(&app, "ada@example.com").await;
    let reply =
        send(&app, post_json("/auth/login", &json!({ "email": "ADA@example.com", "password": PASSWORD }))).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body["user"]["email"], "ada@example.com");
    assert!(reply.body["session"]["id"].is_string());
    assert!(reply.body["session"]["expires_at"].is_string());
    let token = reply.cookie_token().unwrap();
    assert!(!reply.raw.contains(&token));
    let me = send(&app, get_with_cookie("/protected", &token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["email"], "ada@example.com");
}

#[tokio::test]
async fn bearer_mode_returns_the_token_instead_of_a_cookie() {
    let app = seed_app(torii().await, CookieConfig::development());
    register(&app, "ada@example.com").await;
    let body = json!({ "email": "ada@example.com", "password": PASSWORD, "bearer": true });
    let reply = send(&app, post_json("/auth/login", &body)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.set_cookie().is_none());
    let token = reply.body["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 43);
    let me = send(&app, get_with_bearer("/auth/user", &token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user"]["email"], "ada@example.com");
}

#[tokio::test]
async fn bad_credentials_get_one_uniform_401() {
    let app = seed_app(torii().await, CookieConfig::development());
    register(&app, "ada@example.com").await;
    let wrong_password =
        send(&app, post_json("/auth/login", &json!({ "email": "ada@example.com", "password": "not the password" })))
            .await;
    let unknown_email =
        send(&app, post_json("/auth/login", &json!({ "email": "bob@example.com", "password": PASSWORD }))).await;
    assert_error(&wrong_password, StatusCode::UNAUTHORIZED, "invalid_credentials");
    assert_eq!(wrong_password.raw, unknown_email.raw);
    assert_eq!(wrong_password.status, unknown_email.status);
    assert!(wrong_password.set_cookie().is_none());
    assert!(!wrong_password.raw.contains("not the password"));
}

#[tokio::test]
async fn duplicate_registration_is_409_and_never_logs_in_or_changes_the_account() {
    let torii = torii().await;
    let app = seed_app(torii.clone(), CookieConfig::development());
    register(&app, "ada@example.com").await;
    let reply = send(
        &app,
        post_json("/auth/register", &json!({ "email": "Ada@Example.com", "password": "another strong passphrase" })),
    )
    .await;
    assert_error(&reply, StatusCode::CONFLICT, "email_taken");
    assert!(reply.set_cookie().is_none());
    // The original password still works; the attacker's does not.
    login(&app, "ada@example.com").await;
    let attacker = send(
        &app,
        post_json("/auth/login", &json!({ "email": "ada@example.com", "password": "another strong passphrase" })),
    )
    .await;
    assert_eq!(attacker.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_issues_a_new_token_and_never_adopts_one_from_the_client() {
    let torii = torii().await;
    let app = seed_app(torii.clone(), CookieConfig::development());
    let first = register(&app, "ada@example.com").await;
    // An attacker plants a cookie in the victim's browser, then the victim logs in.
    let planted = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    let request = with_cookie(Method::POST, "/auth/login", planted)
        .header(header::CONTENT_TYPE, "application/json")
        .body(json!({ "email": "ada@example.com", "password": PASSWORD }).to_string().into())
        .unwrap();
    let reply = send(&app, request).await;
    assert_eq!(reply.status, StatusCode::OK);
    let issued = reply.cookie_token().unwrap();
    assert_ne!(issued, planted);
    assert_eq!(send(&app, get_with_cookie("/protected", planted)).await.status, StatusCode::UNAUTHORIZED);

    // Logging in again while holding a real session replaces it: the old token dies.
    let request = with_cookie(Method::POST, "/auth/login", &first)
        .header(header::CONTENT_TYPE, "application/json")
        .body(json!({ "email": "ada@example.com", "password": PASSWORD }).to_string().into())
        .unwrap();
    let reply = send(&app, request).await;
    let second = reply.cookie_token().unwrap();
    assert_ne!(second, first);
    assert_eq!(send(&app, get_with_cookie("/protected", &first)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&app, get_with_cookie("/protected", &second)).await.status, StatusCode::OK);
}
