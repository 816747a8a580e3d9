//! The documented `login_user_with_password` refuses once an address is locked, for known and unknown
//! addresses alike, until the lock expires; `verify_password_login` shares the count.

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use torii::throttle::ThrottlePolicy;
use torii::{ManualClock, Torii, ToriiError};

use crate::support::{PASSWORD, setup_test_repositories};

const WRONG: &str = "not the password at all";

#[tokio::test]
async fn the_seed_login_refuses_after_the_lock_until_it_expires() -> Result<(), ToriiError> {
    let clock = Arc::new(ManualClock::new("2031-03-04T05:00:00Z".parse().unwrap()));
    let torii = Torii::new(setup_test_repositories().await).with_clock(clock.clone());
    assert!(torii.throttle_policy().is_enabled(), "on by default");
    torii.register_user_with_password("ada@example.com", PASSWORD).await?;

    let mut failures = 0;
    let mut refusal = None;
    for _ in 0..30 {
        match torii.login_user_with_password("ada@example.com", WRONG, None, None).await {
            Err(ToriiError::InvalidCredentials) => failures += 1,
            Err(ToriiError::TooManyAttempts { retry_after }) => refusal = Some(retry_after),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(failures, 5, "five tries, then a wait");
    let retry_after = refusal.expect("a refusal");
    // The windows slide and refused attempts count too, so hammering on keeps the wait above the
    // hour's window, but within two of them.
    assert!(retry_after >= Duration::from_secs(1) && retry_after <= Duration::from_secs(7200), "{retry_after:?}");

    // The right password does not get through either, nor through `verify_password_login`.
    let result = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await;
    assert!(matches!(result, Err(ToriiError::TooManyAttempts { .. })), "{result:?}");
    let result = torii.verify_password_login("ADA@example.com", PASSWORD).await;
    assert!(matches!(result, Err(ToriiError::TooManyAttempts { .. })), "case does not make another account");

    // An unknown address is treated exactly the same way.
    let mut unknown = Vec::new();
    // The same number of attempts at the same instant as for Ada's address: the same wait.
    for _ in 0..30 {
        unknown.push(torii.login_user_with_password("nobody@example.com", WRONG, None, None).await.map(|_| ()));
    }
    let last = unknown.pop().map(|r| r.err().map(|e| e.to_string()));
    assert_eq!(last, Some(Some(ToriiError::TooManyAttempts { retry_after }.to_string())));

    clock.advance(TimeDelta::hours(2));
    let (user, _) = torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await?;
    assert_eq!(user.email, "ada@example.com");
    Ok(())
}

#[tokio::test]
async fn the_limits_can_be_turned_off_explicitly() -> Result<(), ToriiError> {
    let torii = Torii::new(setup_test_repositories().await).with_throttle(ThrottlePolicy::danger_disabled());
    torii.register_user_with_password("ada@example.com", PASSWORD).await?;
    for _ in 0..8 {
        let result = torii.login_user_with_password("ada@example.com", WRONG, None, None).await;
        assert!(matches!(result, Err(ToriiError::InvalidCredentials)));
    }
    torii.login_user_with_password("ada@example.com", PASSWORD, None, None).await?;
    Ok(())
}
