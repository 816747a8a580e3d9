//! Registration and password login through the coordinator, on SQLite.

use std::sync::Arc;

use torii::password::PasswordPolicyError;
use torii::storage::PasswordStorage;
use torii::{Argon2Params, PasswordHasher, PasswordPolicy, Torii, ToriiError};

use crate::support::{OTHER_PASSWORD, PASSWORD, setup_test_repositories};

#[tokio::test]
async fn register_then_login_returns_user_and_fresh_session() -> Result<(), ToriiError> {
    let torii = Torii::new(setup_test_repositories().await);
    let user = torii.register_user_with_password("  Ada@Example.com ", PASSWORD).await?;
    assert_eq!(user.email, "Ada@Example.com", "email is trimmed, case kept for display");
    assert!(user.email_verified_at.is_none());

    // Login is case-insensitive on the email.
    let (logged_in, session) = torii
        .login_user_with_password("ada@EXAMPLE.com", PASSWORD, Some("UA/1".into()), Some("203.0.113.9".into()))
        .await?;
    assert_eq!(logged_in.id, user.id);
    assert_eq!(session.user_id, user.id);
    assert_eq!(session.user_agent.as_deref(), Some("UA/1"));
    assert_eq!(session.ip_address.as_deref(), Some("203.0.113.9"));

    // Every login issues a new token.
    let (_, second) = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await?;
    assert_ne!(session.token, second.token);
    assert_ne!(session.id, second.id);
    Ok(())
}

#[tokio::test]
async fn unknown_email_and_wrong_password_fail_identically() -> Result<(), ToriiError> {
    let torii = Torii::new(setup_test_repositories().await);
    torii.register_user_with_password("ada@example.com", PASSWORD).await?;

    let wrong_password = torii.login_user_with_password("ada@example.com", OTHER_PASSWORD, None, None).await;
    let unknown_email = torii.login_user_with_password("bob@example.com", PASSWORD, None, None).await;
    let malformed_email = torii.login_user_with_password("not an email", PASSWORD, None, None).await;
    let huge_password = torii.login_user_with_password("ada@example.com", &"x".repeat(1 << 20), None, None).await;
    for result in [&wrong_password, &unknown_email, &malformed_email, &huge_password] {
        assert!(matches!(result, Err(ToriiError::InvalidCredentials)), "{result:?}");
    }
    let messages: Vec<String> = [wrong_password, unknown_email]
        .into_iter()
        .map(|r| r.err().map(|e| e.to_string()).unwrap_or_default())
        .collect();
    assert_eq!(messages[0], messages[1]);
    Ok(())
}

#[tokio::test]
async fn registration_enforces_policy_and_email_rules() -> Result<(), ToriiError> {
    let torii = Torii::new(setup_test_repositories().await);
    let too_short = torii.register_user_with_password("a@example.com", "short").await;
    assert!(matches!(too_short, Err(ToriiError::WeakPassword(PasswordPolicyError::TooShort { min: 8 }))));
    let common = torii.register_user_with_password("a@example.com", "password123").await;
    assert!(matches!(common, Err(ToriiError::WeakPassword(PasswordPolicyError::Common))));
    let huge = torii.register_user_with_password("a@example.com", &"y".repeat(1 << 20)).await;
    assert!(matches!(huge, Err(ToriiError::WeakPassword(PasswordPolicyError::TooLong { .. }))));
    let bad_email = torii.register_user_with_password("a@example.com\r\nBcc: x@example.com", PASSWORD).await;
    assert!(matches!(bad_email, Err(ToriiError::InvalidEmail(_))));
    // Nothing was created by the refused attempts.
    assert!(torii.get_user_by_email("a@example.com").await?.is_none());

    // The policy is configurable: with the common-password check off, a common password is accepted.
    let relaxed = torii.clone().with_password_policy(PasswordPolicy::default().check_common_passwords(false));
    relaxed.register_user_with_password("a@example.com", "password123").await?;
    Ok(())
}

#[tokio::test]
async fn duplicate_registration_is_refused_and_changes_nothing() -> Result<(), ToriiError> {
    let torii = Torii::new(setup_test_repositories().await);
    let original = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let again = torii.register_user_with_password("ADA@example.com", OTHER_PASSWORD).await;
    assert!(matches!(again, Err(ToriiError::UserAlreadyExists)), "{again:?}");
    // The original password still works and the second one does not.
    torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await?;
    let hijack = torii.login_user_with_password("ada@example.com", OTHER_PASSWORD, None, None).await;
    assert!(matches!(hijack, Err(ToriiError::InvalidCredentials)));
    assert_eq!(torii.get_user_by_email("ada@example.com").await?, Some(original));
    Ok(())
}

#[tokio::test]
async fn fifty_concurrent_registrations_of_one_email_create_one_user() -> Result<(), ToriiError> {
    let torii = Torii::new(setup_test_repositories().await);
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..50 {
        let torii = torii.clone();
        let email = if i % 2 == 0 { "race@example.com" } else { "RACE@example.com" };
        tasks.spawn(async move { torii.register_user_with_password(email, PASSWORD).await });
    }
    let (mut ok, mut conflicts) = (0, 0);
    while let Some(result) = tasks.join_next().await {
        match result.expect("task") {
            Ok(_) => ok += 1,
            Err(ToriiError::UserAlreadyExists) => conflicts += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!((ok, conflicts), (1, 49));
    Ok(())
}

#[tokio::test]
async fn login_rehashes_when_stored_parameters_are_weaker() -> Result<(), ToriiError> {
    let repositories = setup_test_repositories().await;
    let torii = Torii::new(Arc::clone(&repositories));
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    let before = repositories.get_password_hash(&user.id).await?.expect("hash stored");
    assert!(before.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{before}");

    // The operator raises the cost: the next successful login upgrades the stored hash.
    let stronger = torii.clone().with_password_hasher(PasswordHasher::new(Argon2Params::new(19_456, 3, 1)?));
    stronger.login_user_with_password("ada@example.com", PASSWORD, None, None).await?;
    let after = repositories.get_password_hash(&user.id).await?.expect("hash stored");
    assert!(after.starts_with("$argon2id$v=19$m=19456,t=3,p=1$"), "{after}");

    // A failed login never touches the hash; old and new settings both still verify the password.
    let failed = stronger.login_user_with_password("ada@example.com", OTHER_PASSWORD, None, None).await;
    assert!(failed.is_err());
    assert_eq!(repositories.get_password_hash(&user.id).await?.as_deref(), Some(after.as_str()));
    torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await?;
    Ok(())
}

#[tokio::test]
async fn unicode_passwords_are_normalised_before_hashing() -> Result<(), ToriiError> {
    let torii = Torii::new(setup_test_repositories().await);
    // Registered with a precomposed "é", logged in with "e" + combining accent: the same password.
    torii.register_user_with_password("cafe@example.com", "caf\u{e9} au lait, s'il vous pla\u{ee}t").await?;
    torii.login_user_with_password("cafe@example.com", "cafe\u{301} au lait, s'il vous pla\u{ee}t", None, None).await?;
    Ok(())
}
