//! Two independent instances of an application, as behind a load balancer: each its own router and its
//! own `Torii`, sharing one SQLite database file (users) and one Redis key prefix (sessions). A session
//! made on one is valid on the other, and a revocation on one is refused by the other at once.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use torii_axum::{AuthUser, CookieConfig};
use torii_core::{JwtConfig, Torii};
use torii_storage_redis::RedisSessionStorage;
use torii_storage_sqlite::SqliteRepositoryProvider;

use crate::http::{login, protected, register, send, session_id, with_cookie};
use crate::support::{KeyCleanup, fresh_prefix, redis_url, shown_url};

/// What two instances share, deleted when the test ends.
struct Shared {
    database_url: String,
    prefix: String,
    _dir: tempfile::TempDir,
    _cleanup: KeyCleanup,
}

/// A database file (migrated once, as a deployment would before starting instances) and a Redis
/// prefix; `None` when Redis is unreachable.
async fn shared() -> Option<Shared> {
    let url = redis_url();
    if let Err(err) = RedisSessionStorage::connect(&url).await {
        let url = shown_url(&url);
        return torii_test_suite::skip_or_fail("Redis", &format!("cannot connect to {url}: {err}"));
    }
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("users.db").display());
    SqliteRepositoryProvider::connect(&database_url).await.unwrap().migrate().await.unwrap();
    let prefix = fresh_prefix();
    Some(Shared { database_url, _cleanup: KeyCleanup::new(&url, &prefix), prefix, _dir: dir })
}

/// One instance: its own pool, its own Redis connection, its own coordinator and router.
async fn instance(shared: &Shared, jwt: Option<JwtConfig>) -> Router {
    let users = SqliteRepositoryProvider::connect(&shared.database_url).await.unwrap();
    let sessions = RedisSessionStorage::connect(&redis_url()).await.unwrap().with_key_prefix(&shared.prefix);
    let mut torii = Torii::with_storages(Arc::new(users), Arc::new(sessions));
    if let Some(jwt) = jwt {
        torii = torii.with_jwt_sessions(jwt);
    }
    let torii = Arc::new(torii);
    let auth_routes = torii_axum::routes(torii.clone()).with_cookie_config(CookieConfig::development()).build();
    Router::new().nest("/auth", auth_routes).route("/protected", get(protected_handler)).with_state(torii)
}

async fn protected_handler(user: AuthUser) -> Json<Value> {
    Json(json!({ "user_id": user.id }))
}

#[tokio::test]
async fn opaque_sessions_are_shared_and_revocations_seen_at_once() {
    let Some(shared) = shared().await else { return };
    let (a, b) = (instance(&shared, None).await, instance(&shared, None).await);

    let laptop = register(&a, "ada@example.com").await;
    assert_eq!(protected(&b, &laptop).await, StatusCode::OK, "a session made on A is valid on B");
    let phone = login(&b, "ada@example.com").await;
    let tablet = login(&a, "ada@example.com").await;
    let listed = send(&a, with_cookie(Method::GET, "/auth/sessions", &phone)).await;
    assert_eq!(listed.body["sessions"].as_array().map(Vec::len), Some(3), "{}", listed.raw);

    // Logout on B: refused on A.
    let reply = send(&b, with_cookie(Method::POST, "/auth/logout", &laptop)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.raw);
    assert_eq!(protected(&a, &laptop).await, StatusCode::UNAUTHORIZED);

    // Revoking a device by id on B: refused on A.
    let tablet_id = session_id(&a, &tablet).await;
    let reply = send(&b, with_cookie(Method::DELETE, &format!("/auth/sessions/{tablet_id}"), &phone)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.raw);
    assert_eq!(protected(&a, &tablet).await, StatusCode::UNAUTHORIZED);

    // Revoking the other devices on B: refused on A, the current one kept.
    let desktop = login(&a, "ada@example.com").await;
    let reply = send(&b, with_cookie(Method::POST, "/auth/sessions/revoke-others", &phone)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.raw);
    assert_eq!(reply.body["revoked"], 1);
    assert_eq!(protected(&a, &desktop).await, StatusCode::UNAUTHORIZED);
    assert_eq!(protected(&a, &phone).await, StatusCode::OK);
}

#[tokio::test]
async fn jwt_revocations_are_seen_at_once_by_the_other_instance() {
    let Some(shared) = shared().await else { return };
    // Without the revocation cache, every validation asks Redis, so revocations are immediate everywhere.
    let jwt = JwtConfig::new_hs256(b"a-test-secret-of-at-least-32-bytes".to_vec())
        .with_issuer("two-instances")
        .with_revocation_cache(chrono::Duration::zero());
    let (a, b) = (instance(&shared, Some(jwt.clone())).await, instance(&shared, Some(jwt)).await);

    let laptop = register(&a, "ada@example.com").await;
    assert_eq!(laptop.split('.').count(), 3, "the cookie carries a JWT");
    assert_eq!(protected(&b, &laptop).await, StatusCode::OK);
    assert_eq!(protected(&a, &laptop).await, StatusCode::OK);

    // Logout on B: refused on A (and on B).
    let reply = send(&b, with_cookie(Method::POST, "/auth/logout", &laptop)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.raw);
    assert_eq!(protected(&a, &laptop).await, StatusCode::UNAUTHORIZED);
    assert_eq!(protected(&b, &laptop).await, StatusCode::UNAUTHORIZED);

    // Revoking a JWT session by id is refused (without the token there is no proof the id is the
    // caller's), and changes nothing on either instance.
    let phone = login(&a, "ada@example.com").await;
    let tablet = login(&a, "ada@example.com").await;
    let phone_id = session_id(&a, &phone).await;
    let reply = send(&b, with_cookie(Method::DELETE, &format!("/auth/sessions/{phone_id}"), &tablet)).await;
    assert_eq!(reply.status, StatusCode::NOT_IMPLEMENTED, "{}", reply.raw);
    assert_eq!(protected(&a, &phone).await, StatusCode::OK);
    assert_eq!(protected(&a, &tablet).await, StatusCode::OK);

    // Logging the phone out on B kills it on A too.
    let reply = send(&b, with_cookie(Method::POST, "/auth/logout", &phone)).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT, "{}", reply.raw);
    assert_eq!(protected(&a, &phone).await, StatusCode::UNAUTHORIZED);
    assert_eq!(protected(&a, &tablet).await, StatusCode::OK);
}
