//! Session management through the coordinator.

use std::sync::Arc;

use chrono::Duration;
use torii::{ManualClock, SessionConfig, SessionToken, Torii, ToriiError};

use crate::support::{PASSWORD, setup_test_repositories};

#[tokio::test]
async fn devices_can_be_listed_and_revoked_one_by_one() -> Result<(), ToriiError> {
    let clock = Arc::new(ManualClock::starting_now());
    let torii = Torii::new(setup_test_repositories().await).with_clock(clock.clone());
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let laptop = torii.create_session(&user.id, Some("Laptop".into()), None).await?;
    clock.advance(Duration::seconds(1));
    let phone = torii.create_session(&user.id, Some("Phone".into()), None).await?;

    let devices = torii.list_sessions(&user.id).await?;
    let names: Vec<_> = devices.iter().map(|s| s.user_agent.as_deref().unwrap_or_default()).collect();
    assert_eq!(names, ["Phone", "Laptop"], "newest first");

    // Another user cannot revoke Ada's session by its id.
    let mallory = torii.register_user_with_password("mallory@example.com", PASSWORD).await?;
    assert!(!torii.delete_session_by_id(&mallory.id, &laptop.id).await?);
    assert!(torii.get_session(&laptop.token).await.is_ok());

    assert!(torii.delete_session_by_id(&user.id, &laptop.id).await?);
    assert!(torii.get_session(&laptop.token).await.is_err());
    assert!(torii.get_session(&phone.token).await.is_ok());
    Ok(())
}

#[tokio::test]
async fn revoke_others_keeps_the_current_session() -> Result<(), ToriiError> {
    let torii = Torii::new(setup_test_repositories().await);
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let current = torii.create_session(&user.id, None, None).await?;
    let a = torii.create_session(&user.id, None, None).await?;
    let b = torii.create_session(&user.id, None, None).await?;
    assert_eq!(torii.delete_other_sessions(&user.id, &current.id).await?, 2);
    assert!(torii.get_session(&current.token).await.is_ok());
    assert!(torii.get_session(&a.token).await.is_err());
    assert!(torii.get_session(&b.token).await.is_err());

    assert_eq!(torii.delete_sessions_for_user(&user.id).await?, 1);
    assert!(torii.get_session(&current.token).await.is_err());
    Ok(())
}

#[tokio::test]
async fn made_up_and_malformed_tokens_are_never_accepted() -> Result<(), ToriiError> {
    let torii = Torii::new(setup_test_repositories().await);
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let real = torii.create_session(&user.id, None, None).await?;

    let fabricated = SessionToken::new_random();
    let jwt_shaped = SessionToken::new("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln");
    let truncated = SessionToken::new(&real.token.as_str()[..42]);
    let with_sql = SessionToken::new("' OR '1'='1");
    for token in [fabricated, jwt_shaped, truncated, with_sql, SessionToken::new("")] {
        let result = torii.get_session(&token).await;
        assert!(matches!(result, Err(ToriiError::SessionNotFound)), "{token:?}: {result:?}");
    }
    Ok(())
}

#[tokio::test]
async fn cleanup_removes_only_expired_sessions() -> Result<(), ToriiError> {
    let clock = Arc::new(ManualClock::starting_now());
    let repositories = setup_test_repositories().await;
    let short = Torii::new(Arc::clone(&repositories))
        .with_clock(clock.clone())
        .with_session_config(SessionConfig::default().expires_in(Duration::minutes(5)));
    let long = Torii::new(repositories).with_clock(clock.clone());
    let user = short.register_user_with_password("ada@example.com", PASSWORD).await?;
    for _ in 0..3 {
        short.create_session(&user.id, None, None).await?;
    }
    let survivor = long.create_session(&user.id, None, None).await?;
    clock.advance(Duration::minutes(6));

    assert_eq!(short.cleanup_expired_sessions().await?, 3);
    // The documented entry point does the same (nothing left to delete now).
    assert_eq!(short.session_service.cleanup_expired_sessions().await?, 0);
    assert!(long.get_session(&survivor.token).await.is_ok());
    Ok(())
}

#[tokio::test]
async fn last_seen_is_refreshed_but_not_on_every_request() -> Result<(), ToriiError> {
    let clock = Arc::new(ManualClock::starting_now());
    let torii = Torii::new(setup_test_repositories().await).with_clock(clock.clone());
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let session = torii.create_session(&user.id, None, None).await?;

    clock.advance(Duration::minutes(1));
    let seen = torii.get_session(&session.token).await?;
    assert_eq!(seen.updated_at, session.updated_at, "no write within the resolution");

    clock.advance(Duration::minutes(5));
    let seen = torii.get_session(&session.token).await?;
    assert_eq!(seen.updated_at, torii.now());
    let listed = torii.list_sessions(&user.id).await?;
    assert_eq!(listed[0].updated_at, seen.updated_at, "stored, not only returned");
    // Activity never extends the lifetime.
    assert_eq!(seen.expires_at, session.expires_at);
    Ok(())
}

#[tokio::test]
async fn deleting_a_user_ends_their_sessions() -> Result<(), ToriiError> {
    let torii = Torii::new(setup_test_repositories().await);
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let session = torii.create_session(&user.id, None, None).await?;
    assert!(torii.delete_user(&user.id).await?);
    assert!(torii.get_session(&session.token).await.is_err());
    assert!(torii.get_user(&user.id).await?.is_none());
    let login = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await;
    assert!(matches!(login, Err(ToriiError::InvalidCredentials)));
    Ok(())
}

#[tokio::test]
async fn sessions_for_unknown_users_are_refused() {
    let torii = Torii::new(setup_test_repositories().await);
    let result = torii.create_session(&torii::UserId::new("user_does_not_exist"), None, None).await;
    assert!(matches!(result, Err(ToriiError::UserNotFound)), "{result:?}");
}
