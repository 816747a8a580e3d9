//! Checks of [`RefreshTokenStorage`]: single use with reuse detection, family and user revocation,
//! expiry, and batched cleanup.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use torii_core::storage::{RefreshTokenRecord, RefreshTokenStorage, RefreshTokenUse, UserStorage};
use torii_core::{TokenHash, UserId};

use crate::fixtures::{new_user, now, random_suffix, token_hash, unique_email};
use crate::support::{ok, race};

fn record(user: &UserId, family: &str, expires_at: DateTime<Utc>) -> RefreshTokenRecord {
    RefreshTokenRecord {
        token_hash: token_hash(),
        family_id: family.to_owned(),
        user_id: user.clone(),
        created_at: now(),
        expires_at,
        used_at: None,
        revoked_at: None,
    }
}

async fn user<B: UserStorage>(backend: &B) -> UserId {
    let user = new_user(&unique_email("Refresh"));
    ok(backend.create_user(&user).await, "create_user");
    user.id
}

fn family() -> String {
    format!("family_{}", random_suffix())
}

/// The first use is `Valid` (and returns the record); later uses are `Reused`; unknown is `Invalid`.
pub async fn refresh_token_is_single_use<B: UserStorage + RefreshTokenStorage>(backend: B) {
    let user = user(&backend).await;
    let now = now();
    let token = record(&user, &family(), now + TimeDelta::days(30));
    ok(backend.create_refresh_token(&token).await, "create_refresh_token");
    match ok(backend.use_refresh_token(&token.token_hash, now).await, "use_refresh_token") {
        RefreshTokenUse::Valid(found) => {
            assert_eq!(found.family_id, token.family_id);
            assert_eq!(found.user_id, user);
            assert_eq!(found.expires_at, token.expires_at);
        }
        other => panic!("the first use must be Valid, got {other:?}"),
    }
    let again = ok(backend.use_refresh_token(&token.token_hash, now).await, "use again");
    assert!(matches!(again, RefreshTokenUse::Reused(_)), "a second use must be Reused, got {again:?}");
    let unknown = ok(backend.use_refresh_token(&token_hash(), now).await, "use unknown");
    assert_eq!(unknown, RefreshTokenUse::Invalid);
}

/// Expired tokens are `Invalid`, even unused.
pub async fn expired_refresh_token_is_invalid<B: UserStorage + RefreshTokenStorage>(backend: B) {
    let user = user(&backend).await;
    let now = now();
    let token = record(&user, &family(), now);
    ok(backend.create_refresh_token(&token).await, "create_refresh_token");
    assert_eq!(ok(backend.use_refresh_token(&token.token_hash, now).await, "use"), RefreshTokenUse::Invalid);
}

/// Revoking a family makes every member `Invalid` (used or not) and leaves other families alone.
pub async fn revoking_a_family_invalidates_its_members<B: UserStorage + RefreshTokenStorage>(backend: B) {
    let user = user(&backend).await;
    let now = now();
    let (fam, other_fam) = (family(), family());
    let used = record(&user, &fam, now + TimeDelta::days(1));
    let fresh = record(&user, &fam, now + TimeDelta::days(1));
    let other = record(&user, &other_fam, now + TimeDelta::days(1));
    for t in [&used, &fresh, &other] {
        ok(backend.create_refresh_token(t).await, "create_refresh_token");
    }
    ok(backend.use_refresh_token(&used.token_hash, now).await, "use");
    assert_eq!(ok(backend.revoke_refresh_family(&fam, now).await, "revoke_refresh_family"), 2);
    assert_eq!(ok(backend.use_refresh_token(&fresh.token_hash, now).await, "use revoked"), RefreshTokenUse::Invalid);
    assert_eq!(
        ok(backend.use_refresh_token(&used.token_hash, now).await, "use revoked+used"),
        RefreshTokenUse::Invalid
    );
    assert!(matches!(ok(backend.use_refresh_token(&other.token_hash, now).await, "other"), RefreshTokenUse::Valid(_)));
}

/// Revoking by user covers every family of that user only.
pub async fn revoking_by_user_covers_all_families<B: UserStorage + RefreshTokenStorage>(backend: B) {
    let (alice, bob) = (user(&backend).await, user(&backend).await);
    let now = now();
    let a1 = record(&alice, &family(), now + TimeDelta::days(1));
    let a2 = record(&alice, &family(), now + TimeDelta::days(1));
    let b1 = record(&bob, &family(), now + TimeDelta::days(1));
    for t in [&a1, &a2, &b1] {
        ok(backend.create_refresh_token(t).await, "create_refresh_token");
    }
    assert_eq!(ok(backend.revoke_refresh_tokens_for_user(&alice, now).await, "revoke_refresh_tokens_for_user"), 2);
    assert_eq!(ok(backend.use_refresh_token(&a1.token_hash, now).await, "a1"), RefreshTokenUse::Invalid);
    assert_eq!(ok(backend.use_refresh_token(&a2.token_hash, now).await, "a2"), RefreshTokenUse::Invalid);
    assert!(matches!(ok(backend.use_refresh_token(&b1.token_hash, now).await, "b1"), RefreshTokenUse::Valid(_)));
}

/// Of many concurrent uses of one token exactly one is `Valid`; the rest are `Reused`.
pub async fn concurrent_use_one_wins<B: UserStorage + RefreshTokenStorage>(backend: B) {
    let user = user(&backend).await;
    let now = now();
    let token = record(&user, &family(), now + TimeDelta::days(1));
    ok(backend.create_refresh_token(&token).await, "create_refresh_token");
    let backend = Arc::new(backend);
    let hash: TokenHash = token.token_hash.clone();
    let results = race(move |_| {
        let backend = Arc::clone(&backend);
        let hash = hash.clone();
        async move { backend.use_refresh_token(&hash, now).await }
    })
    .await;
    let mut valid = 0;
    for result in results {
        match ok(result, "use_refresh_token") {
            RefreshTokenUse::Valid(_) => valid += 1,
            RefreshTokenUse::Reused(_) => {}
            other => panic!("concurrent uses must be Valid or Reused, got {other:?}"),
        }
    }
    assert_eq!(valid, 1, "exactly one concurrent use may succeed");
}

/// Deleting the user deletes its refresh tokens.
pub async fn deleting_user_deletes_refresh_tokens<B: UserStorage + RefreshTokenStorage>(backend: B) {
    let user = user(&backend).await;
    let now = now();
    let token = record(&user, &family(), now + TimeDelta::days(1));
    ok(backend.create_refresh_token(&token).await, "create_refresh_token");
    assert!(ok(backend.delete_user(&user).await, "delete_user"));
    assert_eq!(ok(backend.use_refresh_token(&token.token_hash, now).await, "use"), RefreshTokenUse::Invalid);
}

/// Cleanup deletes expired tokens only, in batches.
pub async fn cleanup_removes_expired_refresh_tokens_in_batches<B: UserStorage + RefreshTokenStorage>(backend: B) {
    let user = user(&backend).await;
    let now = now();
    let fam = family();
    for _ in 0..15 {
        ok(backend.create_refresh_token(&record(&user, &fam, now - TimeDelta::minutes(1))).await, "create expired");
    }
    let live = record(&user, &fam, now + TimeDelta::days(1));
    ok(backend.create_refresh_token(&live).await, "create live");
    let mut counts = Vec::new();
    loop {
        let n = ok(backend.cleanup_expired_refresh_tokens(now, 10).await, "cleanup_expired_refresh_tokens");
        counts.push(n);
        if n == 0 || counts.len() > 5 {
            break;
        }
    }
    assert_eq!(counts, [10, 5, 0]);
    assert!(matches!(ok(backend.use_refresh_token(&live.token_hash, now).await, "live"), RefreshTokenUse::Valid(_)));
}
