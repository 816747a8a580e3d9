//! Cross-site request defence on cookie-authenticated state changes.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;
use torii_axum::CookieConfig;

use crate::support::*;

fn logout(token: &str) -> axum::http::request::Builder {
    with_cookie(Method::POST, "/auth/logout", token).header(header::HOST, "app.example")
}

#[tokio::test]
async fn cross_site_cookie_requests_are_403_and_change_nothing() {
    let app = seed_app(torii().await, CookieConfig::development());
    let token = register(&app, "ada@example.com").await;
    let attempts = [
        logout(&token).header("sec-fetch-site", "cross-site").header(header::CONTENT_TYPE, "application/json"),
        logout(&token).header(header::ORIGIN, "https://evil.example").header(header::CONTENT_TYPE, "application/json"),
        logout(&token).header(header::ORIGIN, "null").header(header::CONTENT_TYPE, "application/json"),
    ];
    for attempt in attempts {
        let reply = send(&app, attempt.body(Body::empty()).unwrap()).await;
        assert_error(&reply, StatusCode::FORBIDDEN, "cross_site_request");
    }
    // A form post (what a cross-site page can send without a preflight) is refused too.
    let form = logout(&token).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded").body(Body::from("a=b"));
    assert_error(&send(&app, form.unwrap()).await, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    // The session survived all of it.
    assert_eq!(send(&app, get_with_cookie("/protected", &token)).await.status, StatusCode::OK);

    // Same-origin JSON works.
    let ok = logout(&token)
        .header(header::ORIGIN, "http://app.example")
        .header("sec-fetch-site", "same-origin")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, ok).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn cross_site_login_is_refused() {
    // Login CSRF: a hostile page logging the victim into the attacker's account.
    let app = seed_app(torii().await, CookieConfig::development());
    register(&app, "mallory@example.com").await;
    let request = Request::builder()
        .method(Method::POST)
        .uri("/auth/login")
        .header("sec-fetch-site", "cross-site")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "email": "mallory@example.com", "password": PASSWORD }).to_string()))
        .unwrap();
    let reply = send(&app, request).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.set_cookie().is_none());
}

#[tokio::test]
async fn bearer_requests_are_not_subject_to_the_check() {
    let app = seed_app(torii().await, CookieConfig::development());
    register(&app, "ada@example.com").await;
    let login = send(
        &app,
        post_json("/auth/login", &json!({ "email": "ada@example.com", "password": PASSWORD, "bearer": true })),
    )
    .await;
    let token = login.body["token"].as_str().unwrap().to_owned();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/auth/sessions/revoke-others")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header("sec-fetch-site", "cross-site")
        .body(Body::empty())
        .unwrap();
    let reply = send(&app, request).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
}

#[tokio::test]
async fn configured_origins_are_allowed() {
    let torii = torii().await;
    let routes = torii_axum::routes(torii.clone())
        .with_cookie_config(CookieConfig::development())
        .with_allowed_origins(["https://app.example"])
        .build();
    let app = axum::Router::new().nest("/auth", routes).with_state(torii);
    let token = register(&app, "ada@example.com").await;
    let request = with_cookie(Method::POST, "/auth/logout", &token)
        .header(header::HOST, "10.0.0.5:8080")
        .header(header::ORIGIN, "https://app.example")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, request).await.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn an_authorization_header_other_than_a_live_bearer_session_does_not_skip_the_check() {
    // Browsers attach HTTP Basic credentials to cross-site requests by themselves: a hostile page's
    // form post then carries the session cookie *and* `Authorization: Basic ...`.
    let torii = torii().await;
    let app = seed_app(torii.clone(), CookieConfig::development());
    let token = register(&app, "ada@example.com").await;
    let other_device = login(&app, "ada@example.com").await;
    let bearer = send(
        &app,
        post_json("/auth/login", &json!({ "email": "ada@example.com", "password": PASSWORD, "bearer": true })),
    )
    .await
    .body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let forged = |authorization: String| {
        with_cookie(Method::POST, "/auth/sessions/revoke-others", &token)
            .header(header::HOST, "app.example")
            .header(header::ORIGIN, "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .header(header::AUTHORIZATION, authorization)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("x=1"))
            .unwrap()
    };
    for authorization in [
        "Basic YWRhOnNlY3JldA==".to_owned(),
        "Bearer not-a-session".to_owned(),
        // Even a live bearer token does not count while the cookie is what authenticates.
        format!("Bearer {bearer}"),
    ] {
        let reply = send(&app, forged(authorization)).await;
        assert_error(&reply, StatusCode::FORBIDDEN, "cross_site_request");
    }
    // Without Sec-Fetch-Site (older browsers) the Origin still refuses it.
    let request = with_cookie(Method::POST, "/auth/sessions/revoke-others", &token)
        .header(header::HOST, "app.example")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::AUTHORIZATION, "Basic YWRhOnNlY3JldA==")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .unwrap();
    assert_error(&send(&app, request).await, StatusCode::FORBIDDEN, "cross_site_request");
    // Every session is intact.
    for session in [&token, &other_device, &bearer] {
        assert_eq!(send(&app, get_with_bearer("/auth/user", session)).await.status, StatusCode::OK);
    }
    assert_eq!(
        torii
            .list_sessions(&torii.get_user_by_email("ada@example.com").await.unwrap().unwrap().id)
            .await
            .unwrap()
            .len(),
        3
    );
}
