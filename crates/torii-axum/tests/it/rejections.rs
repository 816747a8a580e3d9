//! Bad input: right status, JSON body, nothing echoed, never a 500.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;
use torii_axum::CookieConfig;

use crate::support::*;

fn raw_post(uri: &str, content_type: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut builder = Request::builder().method(Method::POST).uri(uri);
    if let Some(ct) = content_type {
        builder = builder.header(header::CONTENT_TYPE, ct);
    }
    builder.body(body.into()).unwrap()
}

#[tokio::test]
async fn invalid_input_is_422_with_code_and_message() {
    let app = seed_app(torii().await, CookieConfig::development());
    let cases = [
        (json!({ "email": "ada@example.com" }), "invalid_body"),
        (json!({ "email": 42, "password": PASSWORD }), "invalid_body"),
        (json!({ "email": "not-an-email", "password": PASSWORD }), "invalid_email"),
        (json!({ "email": "a@example.com\r\nBcc: b@example.com", "password": PASSWORD }), "invalid_email"),
        (json!({ "email": "ada@example.com", "password": "short" }), "weak_password"),
        (json!({ "email": "ada@example.com", "password": "password123" }), "weak_password"),
        (json!([1, 2, 3]), "invalid_body"),
    ];
    for (body, code) in cases {
        let reply = send(&app, post_json("/auth/register", &body)).await;
        assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, code);
        assert!(!reply.raw.contains("password123") && !reply.raw.contains(PASSWORD), "{}", reply.raw);
    }
    // Malformed JSON.
    let reply = send(
        &app,
        raw_post("/auth/login", Some("application/json"), "{\"email\": \"a@example.com\", \"password\": \"sec"),
    )
    .await;
    assert_error(&reply, StatusCode::UNPROCESSABLE_ENTITY, "invalid_body");
    assert!(!reply.raw.contains("sec\""), "{}", reply.raw);
}

#[tokio::test]
async fn wrong_content_type_is_415() {
    let app = seed_app(torii().await, CookieConfig::development());
    let body = "email=ada%40example.com&password=x";
    for ct in [Some("application/x-www-form-urlencoded"), Some("text/plain"), None] {
        let reply = send(&app, raw_post("/auth/login", ct, body)).await;
        assert_error(&reply, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    }
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let app = seed_app(torii().await, CookieConfig::development());
    let huge = json!({ "email": "ada@example.com", "password": "x".repeat(20 * 1024) });
    let reply = send(&app, post_json("/auth/register", &huge)).await;
    assert_error(&reply, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    let reply = send(&app, post_json("/auth/login", &huge)).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn unknown_routes_and_missing_sessions_are_json() {
    let app = seed_app(torii().await, CookieConfig::development());
    let reply = send(&app, Request::builder().uri("/auth/nope").body(Body::empty()).unwrap()).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
    for uri in ["/auth/user", "/auth/session", "/auth/sessions", "/protected"] {
        let reply = send(&app, Request::builder().uri(uri).body(Body::empty()).unwrap()).await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
        let reply = send(&app, get_with_cookie(uri, "garbage; DROP TABLE sessions")).await;
        assert_error(&reply, StatusCode::UNAUTHORIZED, "unauthenticated");
    }
}

#[tokio::test]
async fn tokens_in_the_query_string_are_ignored() {
    let app = seed_app(torii().await, CookieConfig::development());
    let token = register(&app, "ada@example.com").await;
    let uri = format!("/auth/user?token={token}&session={token}&torii_session={token}");
    let reply = send(&app, Request::builder().uri(uri).body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn every_auth_response_is_no_store() {
    let app = seed_app(torii().await, CookieConfig::development());
    let token = register(&app, "ada@example.com").await;
    for request in [
        get_with_cookie("/auth/user", &token),
        get_with_cookie("/auth/sessions", &token),
        Request::builder().uri("/auth/health").body(Body::empty()).unwrap(),
        Request::builder().uri("/auth/user").body(Body::empty()).unwrap(),
        post_json("/auth/login", &json!({})),
    ] {
        let reply = send(&app, request).await;
        assert_eq!(reply.headers.get(header::CACHE_CONTROL).map(|v| v.to_str().unwrap()), Some("no-store"));
    }
}

#[tokio::test]
async fn storage_outage_is_503_not_401() {
    let torii = torii().await;
    let app = seed_app(torii.clone(), CookieConfig::development());
    let token = register(&app, "ada@example.com").await;
    torii.storage().pool().close().await;
    for uri in ["/protected", "/auth/user", "/auth/health"] {
        let reply = send(&app, get_with_cookie(uri, &token)).await;
        assert_error(&reply, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
    }
    let reply =
        send(&app, post_json("/auth/login", &json!({ "email": "ada@example.com", "password": PASSWORD }))).await;
    assert_error(&reply, StatusCode::SERVICE_UNAVAILABLE, "service_unavailable");
}
