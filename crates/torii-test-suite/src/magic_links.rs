//! Checks of [`MagicLinkStorage`]: one-time tokens that are single-use, purpose-bound, never accepted
//! once expired, consumed atomically, voided per email, and cleaned up in batches.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use torii_core::storage::{MagicLinkStorage, OneTimeToken, TokenPurpose, UserStorage};

use crate::fixtures::{at_micros, new_user, now, one_time_token, random_suffix, token_hash, unique_email};
use crate::support::{RACERS, describe, ok, race};

/// Asserts that `consumed` is `token`. The contract says the token is marked used "and returned", so
/// `used_at` may be reported either as it was before (`None`) or as it is now (`Some(now)`).
#[track_caller]
fn assert_consumed(consumed: Option<OneTimeToken>, token: &OneTimeToken, now: DateTime<Utc>, what: &str) {
    let Some(consumed) = consumed else {
        panic!("{what}: the token must be returned, got None");
    };
    assert!(
        consumed.used_at.is_none() || consumed.used_at == Some(now),
        "{what}: used_at must be None or the consume time, got {:?}",
        consumed.used_at
    );
    let consumed = OneTimeToken { used_at: token.used_at, ..consumed };
    assert_eq!(&consumed, token, "{what}: the token must be returned exactly as stored");
}

/// A token is returned exactly once, for its own purpose; a second consume gets `None`.
pub async fn token_is_single_use<B: UserStorage + MagicLinkStorage>(backend: B) {
    let user = new_user(&unique_email("Link"));
    ok(backend.create_user(&user).await, "create_user");
    let now = now();
    let mut token = one_time_token(&user.email, TokenPurpose::MagicLink, now + TimeDelta::minutes(15));
    token.user_id = Some(user.id.clone());
    token.created_at = at_micros(1_700_000_000_000_555);
    ok(backend.create_token(&token).await, "create_token");

    let first = ok(backend.consume_token(&token.token_hash, TokenPurpose::MagicLink, now).await, "consume_token");
    assert_consumed(first, &token, now, "the first consume");
    let second = ok(backend.consume_token(&token.token_hash, TokenPurpose::MagicLink, now).await, "consume again");
    assert_eq!(second, None, "a token can be consumed only once");
    let unknown = ok(backend.consume_token(&token_hash(), TokenPurpose::MagicLink, now).await, "consume unknown");
    assert_eq!(unknown, None, "an unknown token is None");
}

/// A token is never accepted for another purpose, and such an attempt does not use it up.
pub async fn wrong_purpose_is_not_returned<B: UserStorage + MagicLinkStorage>(backend: B) {
    let now = now();
    let token = one_time_token(&unique_email("reset"), TokenPurpose::PasswordReset, now + TimeDelta::minutes(15));
    ok(backend.create_token(&token).await, "create_token");

    for purpose in [TokenPurpose::MagicLink, TokenPurpose::EmailVerification] {
        let wrong = ok(backend.consume_token(&token.token_hash, purpose, now).await, "consume_token");
        assert_eq!(wrong, None, "a password-reset token must not be accepted as {}", purpose.as_str());
    }
    let right = ok(backend.consume_token(&token.token_hash, TokenPurpose::PasswordReset, now).await, "consume");
    assert_consumed(right, &token, now, "consume after wrong-purpose attempts (which must not burn it)");
}

/// A token is never accepted at or after its expiry.
pub async fn expired_token_is_never_returned<B: UserStorage + MagicLinkStorage>(backend: B) {
    let now = now();
    let purpose = TokenPurpose::EmailVerification;
    for (label, expires_at) in [("at its expiry", now), ("after its expiry", now - TimeDelta::seconds(1))] {
        let token = one_time_token(&unique_email("verify"), purpose, expires_at);
        ok(backend.create_token(&token).await, "create_token");
        let found = ok(backend.consume_token(&token.token_hash, purpose, now).await, "consume_token");
        assert_eq!(found, None, "a token must not be accepted {label}");
    }
    let live = one_time_token(&unique_email("verify"), purpose, now + TimeDelta::microseconds(1));
    ok(backend.create_token(&live).await, "create_token");
    let found = ok(backend.consume_token(&live.token_hash, purpose, now).await, "consume_token");
    assert_consumed(found, &live, now, "a token one microsecond before its expiry");
}

/// `invalidate_tokens` voids every unused token of that purpose for that email (ignoring case), returns
/// how many, and leaves other purposes, other emails and later tokens alone.
pub async fn invalidate_voids_older_tokens<B: UserStorage + MagicLinkStorage>(backend: B) {
    let now = now();
    let expires_at = now + TimeDelta::minutes(15);
    let purpose = TokenPurpose::MagicLink;
    let local = format!("Voided.{}", random_suffix());
    let variants = [
        format!("{local}@Example.com"),
        format!("{}@example.com", local.to_lowercase()),
        format!("{}@EXAMPLE.COM", local.to_uppercase()),
    ];
    let mut voided = Vec::new();
    for email in &variants {
        let token = one_time_token(email, purpose, expires_at);
        ok(backend.create_token(&token).await, "create_token");
        voided.push(token);
    }
    let used = one_time_token(&variants[0], purpose, expires_at);
    ok(backend.create_token(&used).await, "create_token");
    assert!(ok(backend.consume_token(&used.token_hash, purpose, now).await, "consume_token").is_some(), "used");
    let other_purpose = one_time_token(&variants[0], TokenPurpose::PasswordReset, expires_at);
    let other_email = one_time_token(&unique_email("bystander"), purpose, expires_at);
    ok(backend.create_token(&other_purpose).await, "create_token");
    ok(backend.create_token(&other_email).await, "create_token");

    let lookup = format!("{}@eXaMpLe.CoM", local.to_lowercase());
    let count = ok(backend.invalidate_tokens(&lookup, purpose, now).await, "invalidate_tokens");
    assert_eq!(count, 3, "the three unused tokens for that email (in any case) must be voided and counted");
    for token in &voided {
        let found = ok(backend.consume_token(&token.token_hash, purpose, now).await, "consume_token");
        assert_eq!(found, None, "a voided token ({}) must not be accepted", token.email);
    }

    let newest = one_time_token(&variants[1], purpose, expires_at);
    ok(backend.create_token(&newest).await, "create_token");
    let found = ok(backend.consume_token(&newest.token_hash, purpose, now).await, "consume_token");
    assert_consumed(found, &newest, now, "a token issued after invalidation");
    let found = ok(backend.consume_token(&other_purpose.token_hash, other_purpose.purpose, now).await, "consume");
    assert_consumed(found, &other_purpose, now, "a token of another purpose");
    let found = ok(backend.consume_token(&other_email.token_hash, purpose, now).await, "consume_token");
    assert_consumed(found, &other_email, now, "a token of another email");
    let none = ok(backend.invalidate_tokens(&unique_email("none"), purpose, now).await, "invalidate_tokens");
    assert_eq!(none, 0, "an email without tokens voids nothing");
}

/// Cleanup deletes only tokens expired at or before `now`, at most `batch_size` per call: 25 expired
/// and 3 live tokens give 10, 10, 5, then 0, and the live ones still work.
pub async fn cleanup_removes_expired_in_batches<B: UserStorage + MagicLinkStorage>(backend: B) {
    // Around the year 2000, so rows of other tests on a shared database are never "expired" here.
    let now = at_micros(946_684_800_000_000);
    let purpose = TokenPurpose::MagicLink;
    for i in 0..25 {
        // i = 0 expires exactly at `now`, which counts as expired.
        let token = one_time_token(&unique_email("old"), purpose, now - TimeDelta::seconds(i));
        ok(backend.create_token(&token).await, "create_token");
    }
    let live: Vec<_> =
        (1..=3).map(|i| one_time_token(&unique_email("live"), purpose, now + TimeDelta::microseconds(i))).collect();
    for token in &live {
        ok(backend.create_token(token).await, "create_token");
    }

    let mut counts = Vec::new();
    for _ in 0..4 {
        counts.push(ok(backend.cleanup_expired_tokens(now, 10).await, "cleanup_expired_tokens"));
    }
    assert_eq!(counts, [10, 10, 5, 0], "cleanup must delete at most batch_size expired tokens per call");
    for token in &live {
        let found = ok(backend.consume_token(&token.token_hash, purpose, now).await, "consume_token");
        assert_consumed(found, token, now, "a live token after cleanup");
    }
}

/// Of 50 concurrent consumes of one token, exactly one gets it.
pub async fn concurrent_consume_one_wins<B: UserStorage + MagicLinkStorage>(backend: B) {
    let backend = Arc::new(backend);
    let now = now();
    let token = one_time_token(&unique_email("race"), TokenPurpose::MagicLink, now + TimeDelta::minutes(15));
    ok(backend.create_token(&token).await, "create_token");

    let results = race(|_| {
        let backend = Arc::clone(&backend);
        let hash = token.token_hash.clone();
        async move { backend.consume_token(&hash, TokenPurpose::MagicLink, now).await }
    })
    .await;
    let mut winners = 0;
    for result in results {
        match result {
            Ok(Some(got)) => {
                assert_consumed(Some(got), &token, now, "the winning consume");
                winners += 1;
            }
            Ok(None) => {}
            Err(err) => panic!("a concurrent consume must return Some or None, got {}", describe(&err)),
        }
    }
    assert_eq!(winners, 1, "exactly one of {RACERS} concurrent consumes must get the token");
}

/// Deleting a user deletes the tokens issued for it.
pub async fn deleting_user_deletes_tokens<B: UserStorage + MagicLinkStorage>(backend: B) {
    let user = new_user(&unique_email("doomed"));
    ok(backend.create_user(&user).await, "create_user");
    let now = now();
    let purpose = TokenPurpose::PasswordReset;
    let token = OneTimeToken {
        user_id: Some(user.id.clone()),
        ..one_time_token(&user.email, purpose, now + TimeDelta::minutes(15))
    };
    ok(backend.create_token(&token).await, "create_token");

    assert!(ok(backend.delete_user(&user.id).await, "delete_user"), "delete_user of an existing user");
    let found = ok(backend.consume_token(&token.token_hash, purpose, now).await, "consume_token");
    assert_eq!(found, None, "a deleted user's tokens must not be accepted");
}
