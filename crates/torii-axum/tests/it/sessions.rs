//! Current user/session, device list, revocation, logout and replay.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;
use torii_axum::CookieConfig;

use crate::support::*;

fn json_request(method: Method, uri: &str, token: &str) -> Request<Body> {
    with_cookie(method, uri, token).header(header::CONTENT_TYPE, "application/json").body(Body::empty()).unwrap()
}

#[tokio::test]
async fn current_user_and_session() {
    let app = seed_app(torii().await, CookieConfig::development());
    let token = register(&app, "ada@example.com").await;
    let user = send(&app, get_with_cookie("/auth/user", &token)).await;
    assert_eq!(user.status, StatusCode::OK);
    assert_eq!(user.body["user"]["email"], "ada@example.com");
    let session = send(&app, get_with_cookie("/auth/session", &token)).await;
    assert_eq!(session.status, StatusCode::OK);
    assert_eq!(session.body["session"]["current"], true);
    assert!(session.body["session"]["expires_at"].is_string());
    assert!(!session.raw.contains(&token));
}

#[tokio::test]
async fn device_list_marks_current_and_hides_tokens() {
    let torii = torii().await;
    let app = seed_app(torii.clone(), CookieConfig::development());
    let laptop = register(&app, "ada@example.com").await;
    let phone = login(&app, "ada@example.com").await;
    let reply = send(&app, get_with_cookie("/auth/sessions", &phone)).await;
    assert_eq!(reply.status, StatusCode::OK);
    let sessions = reply.body["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s["current"] == true).count(), 1);
    for s in sessions {
        for field in ["id", "created_at", "last_seen_at", "expires_at"] {
            assert!(s[field].is_string(), "{field} missing: {s}");
        }
    }
    assert!(!reply.raw.contains(&laptop) && !reply.raw.contains(&phone));
    // Neither the tokens nor their hashes appear.
    for token in [&laptop, &phone] {
        let hash = torii_core::TokenHash::of(token);
        assert!(!reply.raw.contains(hash.as_str()));
    }
}

#[tokio::test]
async fn revoking_one_device_and_the_others() {
    let app = seed_app(torii().await, CookieConfig::development());
    let laptop = register(&app, "ada@example.com").await;
    let phone = login(&app, "ada@example.com").await;
    let tablet = login(&app, "ada@example.com").await;

    // Find the laptop's public id from the phone, and revoke it.
    let list = send(&app, get_with_cookie("/auth/sessions", &phone)).await;
    let laptop_id = {
        let me = send(&app, get_with_cookie("/auth/session", &laptop)).await;
        me.body["session"]["id"].as_str().unwrap().to_owned()
    };
    assert!(list.raw.contains(&laptop_id));
    let reply = send(&app, json_request(Method::DELETE, &format!("/auth/sessions/{laptop_id}"), &phone)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.raw);
    assert_eq!(send(&app, get_with_cookie("/protected", &laptop)).await.status, StatusCode::UNAUTHORIZED);

    // Unknown id, and another user's id, are both 404.
    let reply = send(&app, json_request(Method::DELETE, "/auth/sessions/nope", &phone)).await;
    assert_error(&reply, StatusCode::NOT_FOUND, "not_found");
    let mallory = register(&app, "mallory@example.com").await;
    let tablet_id =
        send(&app, get_with_cookie("/auth/session", &tablet)).await.body["session"]["id"].as_str().unwrap().to_owned();
    let reply = send(&app, json_request(Method::DELETE, &format!("/auth/sessions/{tablet_id}"), &mallory)).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(send(&app, get_with_cookie("/protected", &tablet)).await.status, StatusCode::OK);

    // Revoke the others: the tablet goes, the phone stays.
    let reply = send(&app, json_request(Method::POST, "/auth/sessions/revoke-others", &phone)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body["revoked"], 1);
    assert_eq!(send(&app, get_with_cookie("/protected", &tablet)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&app, get_with_cookie("/protected", &phone)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn logout_clears_the_cookie_and_the_old_token_is_dead_by_cookie_and_bearer() {
    let app = seed_app(torii().await, CookieConfig::development());
    let token = register(&app, "ada@example.com").await;
    let reply = send(&app, json_request(Method::POST, "/auth/logout", &token)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let cleared = reply.set_cookie().unwrap();
    assert!(cleared.starts_with("torii_session=;") || cleared.starts_with("torii_session=\"\""), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    let by_cookie = send(&app, get_with_cookie("/protected", &token)).await;
    assert_error(&by_cookie, StatusCode::UNAUTHORIZED, "unauthenticated");
    let by_bearer = send(&app, get_with_bearer("/auth/user", &token)).await;
    assert_error(&by_bearer, StatusCode::UNAUTHORIZED, "unauthenticated");

    // Logging out again is harmless.
    let again = send(&app, json_request(Method::POST, "/auth/logout", &token)).await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn bearer_logout_needs_no_json_or_origin() {
    let app = seed_app(torii().await, CookieConfig::development());
    register(&app, "ada@example.com").await;
    let reply = send(
        &app,
        post_json("/auth/login", &json!({ "email": "ada@example.com", "password": PASSWORD, "bearer": true })),
    )
    .await;
    let token = reply.body["token"].as_str().unwrap().to_owned();
    let request = Request::builder()
        .method(Method::POST)
        .uri("/auth/logout")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, request).await.status, StatusCode::NO_CONTENT);
    assert_eq!(send(&app, get_with_bearer("/auth/user", &token)).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn health_reports_ok() {
    let app = seed_app(torii().await, CookieConfig::development());
    let reply = send(&app, Request::builder().uri("/auth/health").body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["status"], "ok");
}
