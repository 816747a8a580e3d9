//! The coordinator with users in SQLite and sessions in Redis (`Torii::with_storages`): the flows an
//! application runs, and expiry decided by Torii's clock rather than Redis's.

use std::sync::Arc;

use chrono::TimeDelta;
use torii_core::storage::{RateLimitStorage as _, SessionStorage as _};
use torii_core::{ManualClock, SessionConfig, Torii, ToriiError};

use crate::support::{keys_under, redis, redis_url, sqlite};

const PASSWORD: &str = "correct horse battery staple";

#[tokio::test]
async fn register_login_validate_logout_and_revoke_all() {
    let Some((sessions, _cleanup)) = redis().await else { return };
    let users = sqlite().await;
    let torii = Torii::with_storages(Arc::new(users.clone()), Arc::new(sessions.clone()));

    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    let (_, laptop) = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await.unwrap();
    let (_, phone) = torii
        .login_user_with_password("ada@example.com", PASSWORD, Some("phone".into()), Some("192.0.2.7".into()))
        .await
        .unwrap();
    assert_eq!(torii.get_session(&laptop.token).await.unwrap().user_id, user.id);
    let validated = torii.get_session(&phone.token).await.unwrap();
    assert_eq!(validated.user_agent.as_deref(), Some("phone"));

    // The sessions live in Redis, not in the SQL database.
    let now = torii.now();
    assert!(sessions.get_session(&laptop.token.hash(), now).await.unwrap().is_some());
    assert!(users.get_session(&laptop.token.hash(), now).await.unwrap().is_none());
    let listed = torii.list_sessions(&user.id).await.unwrap();
    assert_eq!(listed.iter().map(|s| &s.id).collect::<Vec<_>>(), [&phone.id, &laptop.id], "newest first");

    // Logout revokes one session.
    torii.delete_session(&laptop.token).await.unwrap();
    assert!(matches!(torii.get_session(&laptop.token).await, Err(ToriiError::SessionNotFound)));
    assert!(torii.get_session(&phone.token).await.is_ok());

    // "Log out everywhere" revokes the rest.
    let (_, tablet) = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await.unwrap();
    assert_eq!(torii.delete_sessions_for_user(&user.id).await.unwrap(), 2);
    for token in [&phone.token, &tablet.token] {
        assert!(matches!(torii.get_session(token).await, Err(ToriiError::SessionNotFound)));
    }

    // Deleting the user leaves nothing of theirs in Redis.
    torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await.unwrap();
    assert!(torii.delete_user(&user.id).await.unwrap());
    assert!(torii.list_sessions(&user.id).await.unwrap().is_empty());
    let left = keys_under(&redis_url(), sessions.key_prefix()).unwrap();
    assert!(left.is_empty(), "keys left behind: {left:?}");
}

#[tokio::test]
async fn expiry_follows_torii_clock_not_redis() {
    let Some((sessions, _cleanup)) = redis().await else { return };
    let clock = Arc::new(ManualClock::starting_now());
    let torii = Torii::with_storages(Arc::new(sqlite().await), Arc::new(sessions.clone()))
        .with_session_config(SessionConfig::default().expires_in(TimeDelta::hours(1)))
        .with_clock(clock.clone());
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    let session = torii.create_session(&user.id, None, None).await.unwrap();
    assert!(torii.get_session(&session.token).await.is_ok());

    // Redis still holds the session (its safety-net expiry is an hour away), but Torii's clock says it
    // has expired, and that decides.
    clock.advance(TimeDelta::hours(1));
    assert!(torii.get_session(&session.token).await.is_err(), "expired by Torii's clock");
    let raw = sessions.get_session(&session.token.hash(), torii.now() - TimeDelta::seconds(1)).await.unwrap();
    assert!(raw.is_some(), "still in Redis");
    assert_eq!(torii.cleanup_expired_sessions().await.unwrap(), 1);
    let left = keys_under(&redis_url(), sessions.key_prefix()).unwrap();
    assert!(left.is_empty(), "keys left behind: {left:?}");
}

#[tokio::test]
async fn guessing_limits_are_counted_in_redis_with_the_sessions() {
    let Some((sessions, _cleanup)) = redis().await else { return };
    let users = sqlite().await;
    let torii = Torii::with_storages(Arc::new(users.clone()), Arc::new(sessions.clone()));
    torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    for _ in 0..5 {
        let result = torii.login_user_with_password("ada@example.com", "a wrong guess", None, None).await;
        assert!(matches!(result, Err(ToriiError::InvalidCredentials)), "{result:?}");
    }
    let result = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await;
    assert!(matches!(result, Err(ToriiError::TooManyAttempts { .. })), "{result:?}");

    // The counts are Redis keys; the SQL database holds none (cleaning up every count it could have
    // finds nothing).
    assert!(!keys_under(&redis_url(), sessions.key_prefix()).unwrap().is_empty());
    let far_future = torii.now() + TimeDelta::days(3650);
    assert_eq!(users.cleanup_expired_rate_limits(far_future, 10_000).await.unwrap(), 0);
}
