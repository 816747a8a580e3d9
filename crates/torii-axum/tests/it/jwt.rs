//! The routes and extractors with JWT sessions: the token travels in the same cookie, logout revokes it.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use torii_axum::CookieConfig;
use torii_core::{JwtConfig, Torii};
use torii_storage_sqlite::SqliteRepositoryProvider;

use crate::support::*;

async fn jwt_torii() -> Arc<Torii<Repo>> {
    let repositories = SqliteRepositoryProvider::connect("sqlite::memory:").await.unwrap();
    repositories.migrate().await.unwrap();
    let jwt = JwtConfig::new_hs256(b"a-test-secret-of-at-least-32-bytes".to_vec()).with_issuer("it");
    Arc::new(Torii::new(Arc::new(repositories)).with_jwt_sessions(jwt))
}

#[tokio::test]
async fn jwt_sessions_work_through_cookie_and_bearer_and_die_on_logout() {
    let app = seed_app(jwt_torii().await, CookieConfig::development());
    let token = register(&app, "ada@example.com").await;
    assert_eq!(token.split('.').count(), 3, "the cookie carries a JWT");
    assert_eq!(send(&app, get_with_cookie("/protected", &token)).await.status, StatusCode::OK);
    assert_eq!(send(&app, get_with_bearer("/auth/user", &token)).await.status, StatusCode::OK);

    let logout = with_cookie(Method::POST, "/auth/logout", &token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .unwrap();
    assert_eq!(send(&app, logout).await.status, StatusCode::NO_CONTENT);
    assert_eq!(send(&app, get_with_cookie("/protected", &token)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(send(&app, get_with_bearer("/auth/user", &token)).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoke_others_is_refused_clearly_with_jwt_sessions() {
    let app = seed_app(jwt_torii().await, CookieConfig::development());
    let token = register(&app, "ada@example.com").await;
    let request = with_cookie(Method::POST, "/auth/sessions/revoke-others", &token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .unwrap();
    assert_error(&send(&app, request).await, StatusCode::NOT_IMPLEMENTED, "not_supported");
    // Revoking by id is refused too: without the token there is no proof the id is the caller's.
    let request = with_cookie(Method::DELETE, "/auth/sessions/some-id", &token)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .unwrap();
    assert_error(&send(&app, request).await, StatusCode::NOT_IMPLEMENTED, "not_supported");
    // The device list is empty (JWT sessions are not recorded server-side), not an error.
    let list = send(&app, get_with_cookie("/auth/sessions", &token)).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["sessions"].as_array().map(Vec::len), Some(0));
}
