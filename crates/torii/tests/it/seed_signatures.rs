//! The documentation writes helper functions against two kinds of bounds: `&Torii<impl
//! RepositoryProvider>` and `&Torii<impl UserStorage + OAuthStorage>` (or `+ PasskeyStorage`, `+
//! MagicLinkStorage`). A `Torii` built from a backend's provider must be accepted by both.

use std::sync::Arc;

use torii::{RepositoryProvider, SessionToken, Torii, ToriiError};

use crate::support::{PASSWORD, setup_test_repositories};

async fn register_user(torii: &Torii<impl RepositoryProvider>, email: &str, password: &str) -> Result<(), ToriiError> {
    let user = torii.register_user_with_password(email, password).await?;
    println!("User registered: {}", user.id);
    Ok(())
}

async fn verify_session(torii: &Torii<impl RepositoryProvider>, session_token: &str) -> Result<(), ToriiError> {
    let token = SessionToken::new(session_token);
    let session = torii.get_session(&token).await?;
    let user =
        torii.get_user(&session.user_id).await?.ok_or_else(|| ToriiError::AuthError("User not found".to_string()))?;
    println!("Session verified for user: {}", user.id);
    Ok(())
}

async fn logout_all_devices(torii: &Torii<impl RepositoryProvider>, user_id: &torii::UserId) -> Result<(), ToriiError> {
    torii.delete_sessions_for_user(user_id).await?;
    Ok(())
}

async fn cleanup_expired_sessions(torii: &Torii<impl RepositoryProvider>) -> Result<(), ToriiError> {
    torii.session_service.cleanup_expired_sessions().await?;
    Ok(())
}

fn accepts_oauth_bounds(_: &Torii<impl torii_core::storage::UserStorage + torii_core::storage::OAuthStorage>) {}
fn accepts_passkey_bounds(_: &Torii<impl torii_core::storage::UserStorage + torii_core::storage::PasskeyStorage>) {}
fn accepts_magic_link_bounds(_: &Torii<impl torii_core::storage::UserStorage + torii_core::storage::MagicLinkStorage>) {
}

#[tokio::test]
async fn documented_helper_signatures_accept_a_provider_backed_torii() -> Result<(), ToriiError> {
    let repositories = setup_test_repositories().await;
    let torii = Arc::new(Torii::new(repositories));

    register_user(&torii, "ada@example.com", PASSWORD).await?;
    let (user, session) = torii
        .login_user_with_password(
            "ada@example.com",
            PASSWORD,
            Some("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36".to_string()),
            Some("127.0.0.1".to_string()),
        )
        .await?;
    verify_session(&torii, session.token.as_str()).await?;
    logout_all_devices(&torii, &user.id).await?;
    assert!(verify_session(&torii, session.token.as_str()).await.is_err());
    cleanup_expired_sessions(&torii).await?;

    accepts_oauth_bounds(&torii);
    accepts_passkey_bounds(&torii);
    accepts_magic_link_bounds(&torii);
    Ok(())
}
