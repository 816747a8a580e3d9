//! Checks of [`TokenRevocationStorage`]: the token-id denylist and per-user "not before" times that make
//! stateless (JWT) sessions revocable.

use chrono::TimeDelta;
use torii_core::UserId;
use torii_core::storage::TokenRevocationStorage;

use crate::fixtures::{now, random_suffix};
use crate::support::ok;

fn user() -> UserId {
    UserId::new(format!("user_{}", random_suffix()))
}

fn token_id() -> String {
    format!("jti_{}", random_suffix())
}

/// A revoked token id reads as revoked; other ids and users are unaffected; revoking twice is fine.
pub async fn revoked_token_id_is_revoked<B: TokenRevocationStorage>(backend: B) {
    let (alice, jti, other) = (user(), token_id(), token_id());
    let issued = now() - TimeDelta::minutes(1);
    let expires = now() + TimeDelta::hours(1);
    assert!(!ok(backend.is_token_revoked(&jti, &alice, issued).await, "is_token_revoked"), "nothing revoked yet");
    ok(backend.revoke_token_id(&jti, &alice, expires).await, "revoke_token_id");
    assert!(ok(backend.is_token_revoked(&jti, &alice, issued).await, "is_token_revoked"), "the id is revoked");
    assert!(!ok(backend.is_token_revoked(&other, &alice, issued).await, "is_token_revoked"), "other ids are not");
    ok(backend.revoke_token_id(&jti, &alice, expires + TimeDelta::hours(1)).await, "revoke_token_id again");
    assert!(ok(backend.is_token_revoked(&jti, &alice, issued).await, "is_token_revoked"));
}

/// Tokens issued before the user's "not before" are revoked, to the microsecond; later ones are not;
/// other users are unaffected.
pub async fn revoke_all_before_kills_older_tokens<B: TokenRevocationStorage>(backend: B) {
    let (alice, bob) = (user(), user());
    let cut = now();
    assert_eq!(ok(backend.revoked_before(&alice).await, "revoked_before"), None);
    ok(backend.revoke_all_before(&alice, cut).await, "revoke_all_before");
    assert_eq!(ok(backend.revoked_before(&alice).await, "revoked_before"), Some(cut));
    let before = cut - TimeDelta::microseconds(1);
    assert!(ok(backend.is_token_revoked(&token_id(), &alice, before).await, "check"), "issued just before: revoked");
    assert!(!ok(backend.is_token_revoked(&token_id(), &alice, cut).await, "check"), "issued at the cut: alive");
    let later = cut + TimeDelta::seconds(1);
    assert!(!ok(backend.is_token_revoked(&token_id(), &alice, later).await, "check"), "issued later: alive");
    assert!(!ok(backend.is_token_revoked(&token_id(), &bob, before).await, "check"), "other users: alive");
}

/// "Not before" only moves forward: an earlier time does not resurrect tokens.
pub async fn not_before_only_moves_forward<B: TokenRevocationStorage>(backend: B) {
    let alice = user();
    let late = now();
    let early = late - TimeDelta::hours(1);
    ok(backend.revoke_all_before(&alice, late).await, "revoke_all_before(late)");
    ok(backend.revoke_all_before(&alice, early).await, "revoke_all_before(early)");
    assert_eq!(ok(backend.revoked_before(&alice).await, "revoked_before"), Some(late));
    let between = early + TimeDelta::minutes(30);
    assert!(ok(backend.is_token_revoked(&token_id(), &alice, between).await, "check"));
}

/// Cleanup deletes only entries whose tokens have expired, at most `batch_size` per call; live entries
/// stay revoked.
pub async fn cleanup_removes_expired_entries_in_batches<B: TokenRevocationStorage>(backend: B) {
    let alice = user();
    let now = now();
    for _ in 0..25 {
        ok(backend.revoke_token_id(&token_id(), &alice, now - TimeDelta::minutes(1)).await, "revoke expired");
    }
    let at_now = token_id();
    ok(backend.revoke_token_id(&at_now, &alice, now).await, "revoke expiring now");
    let live: Vec<String> = (0..3).map(|_| token_id()).collect();
    for jti in &live {
        ok(backend.revoke_token_id(jti, &alice, now + TimeDelta::hours(1)).await, "revoke live");
    }
    let mut counts = Vec::new();
    loop {
        let n = ok(backend.cleanup_revoked_tokens(now, 10).await, "cleanup_revoked_tokens");
        counts.push(n);
        if n == 0 {
            break;
        }
        assert!(counts.len() < 10, "cleanup never finished: {counts:?}");
    }
    assert_eq!(counts, [10, 10, 6, 0], "26 expired entries in batches of 10");
    let issued = now - TimeDelta::hours(1);
    for jti in &live {
        assert!(ok(backend.is_token_revoked(jti, &alice, issued).await, "check"), "live entries must stay revoked");
    }
}
