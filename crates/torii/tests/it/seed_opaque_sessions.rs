//! The two tests of the "Testing Opaque Sessions" documentation, ported: strong passwords instead of
//! "password123" (refused by the common-password check), and an injected clock instead of sleeping.

use std::sync::Arc;

use chrono::Duration;
use torii::{ManualClock, SessionConfig, Torii, ToriiError};

use crate::support::{PASSWORD, setup_test_repositories};

#[tokio::test]
async fn test_opaque_session_lifecycle() -> Result<(), ToriiError> {
    let repositories = setup_test_repositories().await;

    let torii =
        Torii::new(repositories).with_session_config(SessionConfig::default().expires_in(Duration::minutes(30)));

    // Create user and session
    let user = torii.register_user_with_password("test@example.com", PASSWORD).await?;
    let session = torii.create_session(&user.id, Some("Test Agent".to_string()), Some("127.0.0.1".to_string())).await?;

    // Verify token is opaque (not a JWT)
    assert!(!session.token.as_str().contains('.'));
    assert_eq!(session.token.as_str().len(), 43); // Base64 encoded 32 bytes

    // Validate session
    let validated_session = torii.get_session(&session.token).await?;
    assert_eq!(validated_session.user_id, user.id);
    assert_eq!(validated_session.user_agent, Some("Test Agent".to_string()));

    // Delete session
    torii.delete_session(&session.token).await?;

    // Verify session is gone
    let result = torii.get_session(&session.token).await;
    assert!(result.is_err());
    Ok(())
}

#[tokio::test]
async fn test_session_expiration() -> Result<(), ToriiError> {
    let repositories = setup_test_repositories().await;
    let clock = Arc::new(ManualClock::starting_now());

    let torii = Torii::new(repositories)
        .with_clock(clock.clone())
        .with_session_config(SessionConfig::default().expires_in(Duration::seconds(1)));

    let user = torii.register_user_with_password("test@example.com", PASSWORD).await?;
    let session = torii.create_session(&user.id, None, None).await?;

    // Session should be valid immediately
    assert!(torii.get_session(&session.token).await.is_ok());

    // Just before expiry it is still valid; at the expiry instant it is not.
    clock.advance(Duration::milliseconds(999));
    assert!(torii.get_session(&session.token).await.is_ok());
    clock.advance(Duration::milliseconds(1));

    // Session should now be expired
    let result = torii.get_session(&session.token).await;
    assert!(matches!(result, Err(ToriiError::SessionNotFound)), "{result:?}");
    Ok(())
}

#[tokio::test]
async fn session_expiration_with_a_short_real_wait() -> Result<(), ToriiError> {
    // The same behaviour on the real system clock, with a 50 ms lifetime instead of the documented 1 s.
    let torii = Torii::new(setup_test_repositories().await)
        .with_session_config(SessionConfig::default().expires_in(Duration::milliseconds(50)));
    let user = torii.register_user_with_password("test@example.com", PASSWORD).await?;
    let session = torii.create_session(&user.id, None, None).await?;
    assert!(torii.get_session(&session.token).await.is_ok());
    tokio::time::sleep(std::time::Duration::from_millis(80)).await;
    assert!(torii.get_session(&session.token).await.is_err());
    Ok(())
}
