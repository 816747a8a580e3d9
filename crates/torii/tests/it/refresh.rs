//! Access + refresh pairs: rotation on every refresh, reuse detection revoking the family, expiry.

use std::sync::Arc;

use chrono::Duration;
use torii::{JwtConfig, ManualClock, SessionConfig, SessionPolicy, Torii, ToriiError};

use crate::support::{PASSWORD, setup_test_repositories};

async fn setup() -> (Torii<torii::SqliteRepositoryProvider>, Arc<ManualClock>, torii::UserId) {
    let clock = Arc::new(ManualClock::starting_now());
    let jwt =
        JwtConfig::new_hs256(b"a-refresh-test-secret-of-32-bytes".to_vec()).with_revocation_cache(Duration::zero());
    let torii = Torii::new(setup_test_repositories().await)
        .with_clock(clock.clone())
        .with_session_config(SessionConfig::default().with_jwt(jwt).expires_in(Duration::minutes(15)))
        .with_session_policy(SessionPolicy::default().refresh_token_lifetime(Duration::days(30)));
    let user = torii.register_user_with_password("ada@example.com", PASSWORD).await.unwrap();
    (torii, clock, user.id)
}

#[tokio::test]
async fn short_lived_access_token_renewed_by_a_rotating_refresh_token() {
    let (torii, clock, user) = setup().await;
    let (_, session) = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await.unwrap();
    assert!(session.token.is_jwt());
    let pair = torii.issue_token_pair(&user, Some("app/1.0".into()), None).await.unwrap();
    assert!(pair.access_token().is_jwt());
    assert_eq!(pair.refresh_token.len(), 43);
    assert!(!format!("{pair:?}").contains(&pair.refresh_token), "Debug never shows the refresh token");
    torii.get_session(pair.access_token()).await.unwrap();

    // The access token dies after 15 minutes; the refresh token gets a new pair.
    clock.advance(Duration::minutes(16));
    assert!(torii.get_session(pair.access_token()).await.is_err());
    let next = torii.refresh_token_pair(&pair.refresh_token, Some("app/1.0".into()), None).await.unwrap();
    assert_ne!(next.refresh_token, pair.refresh_token, "every refresh rotates the refresh token");
    assert_eq!(torii.get_session(next.access_token()).await.unwrap().user_id, user);
}

#[tokio::test]
async fn reusing_an_old_refresh_token_revokes_the_whole_family() {
    let (torii, _, user) = setup().await;
    let first = torii.issue_token_pair(&user, None, None).await.unwrap();
    let second = torii.refresh_token_pair(&first.refresh_token, None, None).await.unwrap();

    // An attacker replays the first refresh token: refused, and the legitimate client's newer one dies too.
    let replay = torii.refresh_token_pair(&first.refresh_token, None, None).await;
    assert!(matches!(replay, Err(ToriiError::InvalidToken(_))), "{replay:?}");
    let legit = torii.refresh_token_pair(&second.refresh_token, None, None).await;
    assert!(matches!(legit, Err(ToriiError::InvalidToken(_))), "the family is revoked: {legit:?}");

    // Other logins (other families) are unaffected.
    let other = torii.issue_token_pair(&user, None, None).await.unwrap();
    torii.refresh_token_pair(&other.refresh_token, None, None).await.unwrap();
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_yield_one_pair() {
    let (torii, _, user) = setup().await;
    let pair = torii.issue_token_pair(&user, None, None).await.unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let torii = torii.clone();
        let token = pair.refresh_token.clone();
        tasks.spawn(async move { torii.refresh_token_pair(&token, None, None).await.is_ok() });
    }
    let mut ok = 0;
    while let Some(result) = tasks.join_next().await {
        ok += usize::from(result.unwrap());
    }
    assert_eq!(ok, 1);
}

#[tokio::test]
async fn expired_unknown_and_revoked_refresh_tokens_are_refused() {
    let (torii, clock, user) = setup().await;
    let pair = torii.issue_token_pair(&user, None, None).await.unwrap();
    assert!(torii.refresh_token_pair("not-a-refresh-token", None, None).await.is_err());

    let revoked = torii.issue_token_pair(&user, None, None).await.unwrap();
    torii.revoke_refresh_token(&revoked.refresh_token).await.unwrap();
    assert!(torii.refresh_token_pair(&revoked.refresh_token, None, None).await.is_err());
    torii.revoke_refresh_token("unknown").await.unwrap();

    clock.advance(Duration::days(31));
    assert!(torii.refresh_token_pair(&pair.refresh_token, None, None).await.is_err());
}
