//! Session policies, each with an injected clock: idle and absolute timeouts, client binding, per-user
//! limits, rotation, step-up freshness, and the background cleanup task.

use std::sync::Arc;

use chrono::Duration;
use torii::SqliteRepositoryProvider;
use torii::{
    ClientContext, ManualClock, SessionConfig, SessionLimitAction, SessionPolicy, SessionToken, Torii, ToriiError,
};

use crate::support::{OTHER_PASSWORD, PASSWORD, setup_test_repositories};

async fn torii_with(policy: SessionPolicy) -> (Torii<SqliteRepositoryProvider>, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::starting_now());
    let torii = Torii::new(setup_test_repositories().await).with_clock(clock.clone()).with_session_policy(policy);
    torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    (torii, clock)
}

async fn login(torii: &Torii<SqliteRepositoryProvider>, ua: &str, ip: &str) -> torii::Session {
    torii.login_user_with_password("ada@example.com", PASSWORD, Some(ua.into()), Some(ip.into())).await.unwrap().1
}

#[tokio::test]
async fn idle_timeout_is_extended_by_activity_but_ends_an_idle_session() {
    let (torii, clock) = torii_with(SessionPolicy::default().idle_timeout(Duration::minutes(30))).await;
    let session = login(&torii, "UA", "203.0.113.1").await;
    for _ in 0..4 {
        // Used every 20 minutes: always within 30 minutes of the last recorded activity.
        clock.advance(Duration::minutes(20));
        torii.get_session(&session.token).await.unwrap();
    }
    clock.advance(Duration::minutes(30));
    assert!(matches!(torii.get_session(&session.token).await, Err(ToriiError::SessionExpired)));
    // And it is gone, not just refused once.
    assert!(torii.list_sessions(&session.user_id).await.unwrap().is_empty());
}

#[tokio::test]
async fn absolute_timeout_caps_an_active_session() {
    let (torii, clock) =
        torii_with(SessionPolicy::default().idle_timeout(Duration::minutes(30)).absolute_timeout(Duration::hours(8)))
            .await;
    let session = login(&torii, "UA", "203.0.113.1").await;
    assert_eq!(session.expires_at - session.created_at, Duration::hours(8));
    for _ in 0..15 {
        clock.advance(Duration::minutes(30) - Duration::seconds(1));
        torii.get_session(&session.token).await.unwrap();
    }
    clock.advance(Duration::minutes(30));
    assert!(torii.get_session(&session.token).await.is_err(), "activity never extends past the absolute limit");
}

#[tokio::test]
async fn ip_binding_revokes_a_session_used_from_elsewhere() {
    let (torii, _) = torii_with(SessionPolicy::default().bind_ip(true)).await;
    let session = login(&torii, "UA", "203.0.113.1").await;
    let home = ClientContext { ip_address: Some("203.0.113.1".into()), user_agent: Some("UA".into()) };
    let elsewhere = ClientContext { ip_address: Some("198.51.100.7".into()), user_agent: Some("UA".into()) };
    torii.validate_session(&session.token, &home).await.unwrap();
    assert!(matches!(torii.validate_session(&session.token, &elsewhere).await, Err(ToriiError::SessionNotFound)));
    assert!(torii.validate_session(&session.token, &home).await.is_err(), "revoked, not just refused");
}

#[tokio::test]
async fn user_agent_binding_is_separate_and_off_by_default() {
    let (strict, _) = torii_with(SessionPolicy::default().bind_user_agent(true)).await;
    let session = login(&strict, "Firefox", "203.0.113.1").await;
    let moved_ip = ClientContext { ip_address: Some("198.51.100.7".into()), user_agent: Some("Firefox".into()) };
    strict.validate_session(&session.token, &moved_ip).await.unwrap();
    let other_ua = ClientContext { ip_address: Some("203.0.113.1".into()), user_agent: Some("curl".into()) };
    assert!(strict.validate_session(&session.token, &other_ua).await.is_err());

    let (relaxed, _) = torii_with(SessionPolicy::default()).await;
    let session = login(&relaxed, "Firefox", "203.0.113.1").await;
    relaxed.validate_session(&session.token, &other_ua).await.unwrap();
    relaxed.validate_session(&session.token, &moved_ip).await.unwrap();
}

#[tokio::test]
async fn session_limit_evicts_the_oldest() {
    let (torii, clock) =
        torii_with(SessionPolicy::default().max_sessions_per_user(2, SessionLimitAction::EvictOldest)).await;
    let first = login(&torii, "one", "203.0.113.1").await;
    clock.advance(Duration::seconds(1));
    let second = login(&torii, "two", "203.0.113.1").await;
    clock.advance(Duration::seconds(1));
    let third = login(&torii, "three", "203.0.113.1").await;
    assert!(torii.get_session(&first.token).await.is_err(), "the oldest was evicted");
    torii.get_session(&second.token).await.unwrap();
    torii.get_session(&third.token).await.unwrap();
    assert_eq!(torii.list_sessions(&first.user_id).await.unwrap().len(), 2);
}

#[tokio::test]
async fn session_limit_can_refuse_instead() {
    let (torii, _) = torii_with(SessionPolicy::default().max_sessions_per_user(1, SessionLimitAction::Refuse)).await;
    let first = login(&torii, "one", "203.0.113.1").await;
    let refused = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await;
    assert!(matches!(refused, Err(ToriiError::SessionLimitReached)), "{refused:?}");
    torii.get_session(&first.token).await.unwrap();
}

#[tokio::test]
async fn rotation_keeps_the_session_and_kills_the_old_token() {
    let (torii, _) = torii_with(SessionPolicy::default()).await;
    let session = login(&torii, "UA", "203.0.113.1").await;
    let rotated = torii.rotate_session(&session.token).await.unwrap();
    assert_ne!(rotated.token, session.token);
    assert_eq!(rotated.id, session.id, "same session, new token");
    assert_eq!(rotated.expires_at, session.expires_at);
    assert!(torii.get_session(&session.token).await.is_err());
    torii.get_session(&rotated.token).await.unwrap();
    let again = torii.regenerate_session(&rotated.token).await.unwrap();
    assert!(torii.get_session(&rotated.token).await.is_err());
    torii.get_session(&again.token).await.unwrap();
    assert!(torii.rotate_session(&SessionToken::new_random()).await.is_err());
}

#[tokio::test]
async fn step_up_needs_the_password_and_makes_the_session_fresh() {
    let (torii, clock) = torii_with(SessionPolicy::default().fresh_for(Duration::minutes(10))).await;
    let session = login(&torii, "UA", "203.0.113.1").await;
    assert!(torii.is_session_fresh(&session));
    clock.advance(Duration::minutes(11));
    let current = torii.get_session(&session.token).await.unwrap();
    assert!(!torii.is_session_fresh(&current), "a sensitive action must ask again");

    let wrong = torii.reauthenticate_with_password(&session.token, OTHER_PASSWORD).await;
    assert!(matches!(wrong, Err(ToriiError::InvalidCredentials)));
    torii.get_session(&session.token).await.unwrap(); // a failed step-up changes nothing

    let stepped_up = torii.reauthenticate_with_password(&session.token, PASSWORD).await.unwrap();
    assert!(torii.is_session_fresh(&stepped_up));
    assert!(torii.get_session(&session.token).await.is_err(), "the pre-step-up token is dead");
}

#[tokio::test]
async fn background_cleanup_deletes_expired_sessions_and_stops() {
    let clock = Arc::new(ManualClock::starting_now());
    let repositories = setup_test_repositories().await;
    let torii = Torii::new(repositories)
        .with_clock(clock.clone())
        .with_session_config(SessionConfig::default().expires_in(Duration::minutes(1)))
        .with_session_policy(SessionPolicy::default().cleanup_batch_size(2));
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    for _ in 0..5 {
        torii.create_session(&user.id, None, None).await.unwrap();
    }
    clock.advance(Duration::minutes(2));
    let task = torii.start_cleanup_task(std::time::Duration::from_millis(20));
    let pool = torii.storage().pool().clone();
    let mut remaining = i64::MAX;
    for _ in 0..200 {
        remaining = sqlx::query_scalar("SELECT COUNT(*) FROM sessions").fetch_one(&pool).await.unwrap();
        if remaining == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(remaining, 0, "the task deleted every expired session");
    task.stop().await;
}

#[tokio::test]
async fn cleanup_of_a_large_backlog_runs_in_batches_while_sessions_keep_validating() {
    let clock = Arc::new(ManualClock::starting_now());
    let repositories = setup_test_repositories().await;
    let torii = Torii::new(repositories.clone())
        .with_clock(clock.clone())
        .with_session_policy(SessionPolicy::default().cleanup_batch_size(1_000));
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    let live = torii.create_session(&user.id, None, None).await.unwrap();
    let expired_at = (torii.now() - Duration::minutes(1)).timestamp_micros();
    let mut tx = repositories.pool().begin().await.unwrap();
    for i in 0..20_000 {
        sqlx::query(
            "INSERT INTO sessions (token_hash, id, user_id, created_at, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(format!("{i:064}"))
        .bind(format!("expired-{i}"))
        .bind(user.id.as_str())
        .bind(expired_at)
        .bind(expired_at)
        .bind(expired_at)
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();

    let cleaner = torii.clone();
    let cleanup = tokio::spawn(async move { cleaner.cleanup_expired_sessions().await });
    // Validation keeps working while the backlog is deleted.
    for _ in 0..20 {
        torii.get_session(&live.token).await.unwrap();
        tokio::task::yield_now().await;
    }
    assert_eq!(cleanup.await.unwrap().unwrap(), 20_000);
    torii.get_session(&live.token).await.unwrap();
}
