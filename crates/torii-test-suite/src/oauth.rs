//! Checks of [`OAuthStorage`]: provider links unique on (provider, subject), and authorization states
//! that are single-use, never returned once expired, and consumed atomically.

use std::sync::Arc;

use chrono::TimeDelta;
use torii_core::UserId;
use torii_core::storage::{OAuthAccount, OAuthState, OAuthStorage, UserStorage};

use crate::fixtures::{at_micros, awkward_strings, new_user, now, oauth_account, oauth_state, random_suffix};
use crate::fixtures::{token_hash, unique_email};
use crate::support::{RACERS, describe, expect_conflict, ok, race};

/// Creates a user to own provider links.
async fn owner<B: UserStorage>(backend: &B) -> UserId {
    let user = new_user(&unique_email("oauth-owner"));
    ok(backend.create_user(&user).await, "create_user").id
}

/// A link reads back exactly, and only under its own (provider, subject).
pub async fn account_round_trips<B: UserStorage + OAuthStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let subject = format!("1234567890-{}", random_suffix());
    let mut account = oauth_account(&user_id, "google", &subject);
    account.created_at = at_micros(1_700_000_000_000_123);
    account.updated_at = at_micros(1_700_000_100_000_321);
    ok(backend.create_oauth_account(&account).await, "create_oauth_account");

    let found = ok(backend.get_oauth_account("google", &subject).await, "get_oauth_account");
    assert_eq!(found, Some(account), "get_oauth_account must read back exactly what was written");
    // Whether the provider vouched for the email is kept either way.
    let unverified = OAuthAccount { email_verified: false, ..oauth_account(&user_id, "github", &subject) };
    ok(backend.create_oauth_account(&unverified).await, "create_oauth_account with an unverified email");
    let found = ok(backend.get_oauth_account("github", &subject).await, "get_oauth_account");
    assert_eq!(found.map(|a| a.email_verified), Some(false), "email_verified false reads back");
    ok(backend.delete_oauth_account(&user_id, "github").await, "delete_oauth_account");
    let wrong_provider = ok(backend.get_oauth_account("github", &subject).await, "get_oauth_account");
    assert_eq!(wrong_provider, None, "a subject is only found under its own provider");
    let wrong_subject = ok(backend.get_oauth_account("google", &subject.to_uppercase()).await, "get_oauth_account");
    assert_eq!(wrong_subject, None, "subjects are compared exactly (they are opaque, case matters)");
}

/// A second link with the same (provider, subject) conflicts, even for another user; the same subject
/// at another provider is a different identity.
pub async fn account_unique_on_provider_and_subject<B: UserStorage + OAuthStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let other_id = owner(&backend).await;
    let subject = format!("sub-{}", random_suffix());
    let account = oauth_account(&user_id, "github", &subject);
    ok(backend.create_oauth_account(&account).await, "create_oauth_account");

    let hijack = oauth_account(&other_id, "github", &subject);
    expect_conflict(backend.create_oauth_account(&hijack).await, "create_oauth_account with a linked identity");
    let found = ok(backend.get_oauth_account("github", &subject).await, "get_oauth_account");
    assert_eq!(found, Some(account), "the existing link must be untouched");

    let elsewhere = oauth_account(&other_id, "gitlab", &subject);
    ok(backend.create_oauth_account(&elsewhere).await, "create_oauth_account at another provider");
}

/// A user's links are listed oldest first, without other users' links.
pub async fn list_accounts_oldest_first<B: UserStorage + OAuthStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let other_id = owner(&backend).await;
    let now = now();
    let mut newer = oauth_account(&user_id, "github", &format!("gh-{}", random_suffix()));
    newer.created_at = now - TimeDelta::minutes(1);
    let mut older = oauth_account(&user_id, "google", &format!("go-{}", random_suffix()));
    older.created_at = now - TimeDelta::days(2);
    // Inserted newest first, so the backend must sort.
    ok(backend.create_oauth_account(&newer).await, "create_oauth_account");
    ok(backend.create_oauth_account(&older).await, "create_oauth_account");
    let foreign = oauth_account(&other_id, "google", &format!("go-{}", random_suffix()));
    ok(backend.create_oauth_account(&foreign).await, "create_oauth_account");

    let listed = ok(backend.list_oauth_accounts(&user_id).await, "list_oauth_accounts");
    assert_eq!(listed, vec![older, newer], "the user's links, oldest first, exactly as stored");
    let none = ok(backend.list_oauth_accounts(&UserId::new_random()).await, "list_oauth_accounts");
    assert!(none.is_empty(), "an unknown user has no links");
}

/// `delete_oauth_account` removes only the given user's link to the provider.
pub async fn delete_account_scoped_to_user<B: UserStorage + OAuthStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let intruder = owner(&backend).await;
    let subject = format!("del-{}", random_suffix());
    let account = oauth_account(&user_id, "github", &subject);
    ok(backend.create_oauth_account(&account).await, "create_oauth_account");

    let stolen = ok(backend.delete_oauth_account(&intruder, "github").await, "delete_oauth_account");
    assert!(!stolen, "another user cannot unlink the account");
    let found = ok(backend.get_oauth_account("github", &subject).await, "get_oauth_account");
    assert_eq!(found, Some(account), "the link survives another user's delete");

    assert!(ok(backend.delete_oauth_account(&user_id, "github").await, "delete_oauth_account"), "owner: true");
    let gone = ok(backend.get_oauth_account("github", &subject).await, "get_oauth_account");
    assert_eq!(gone, None, "the link is gone");
    assert!(!ok(backend.delete_oauth_account(&user_id, "github").await, "delete again"), "second delete: false");
}

/// A state reads back exactly once: consuming it removes it.
pub async fn state_is_single_use<B: UserStorage + OAuthStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let now = now();
    let state = OAuthState { link_user_id: Some(user_id), ..oauth_state(now + TimeDelta::minutes(10)) };
    ok(backend.store_oauth_state(&state).await, "store_oauth_state");

    let first = ok(backend.consume_oauth_state(&state.state_hash, now).await, "consume_oauth_state");
    assert_eq!(first, Some(state.clone()), "the first consume returns the state exactly as stored");
    let second = ok(backend.consume_oauth_state(&state.state_hash, now).await, "consume_oauth_state again");
    assert_eq!(second, None, "a state can be consumed only once");
    let unknown = ok(backend.consume_oauth_state(&token_hash(), now).await, "consume_oauth_state of unknown");
    assert_eq!(unknown, None, "an unknown state is None");
}

/// A state is never returned at or after its expiry.
pub async fn expired_state_is_never_returned<B: UserStorage + OAuthStorage>(backend: B) {
    let now = now();
    for (label, expires_at) in [("at its expiry", now), ("after its expiry", now - TimeDelta::seconds(1))] {
        let state = oauth_state(expires_at);
        ok(backend.store_oauth_state(&state).await, "store_oauth_state");
        let found = ok(backend.consume_oauth_state(&state.state_hash, now).await, "consume_oauth_state");
        assert_eq!(found, None, "a state must not be returned {label}");
    }
    let live = oauth_state(now + TimeDelta::microseconds(1));
    ok(backend.store_oauth_state(&live).await, "store_oauth_state");
    let found = ok(backend.consume_oauth_state(&live.state_hash, now).await, "consume_oauth_state");
    assert_eq!(found, Some(live), "a state is returned until the microsecond it expires");
}

/// Of 50 concurrent consumes of one state, exactly one gets it.
pub async fn concurrent_state_consume_one_wins<B: UserStorage + OAuthStorage>(backend: B) {
    let backend = Arc::new(backend);
    let now = now();
    let state = oauth_state(now + TimeDelta::minutes(10));
    ok(backend.store_oauth_state(&state).await, "store_oauth_state");

    let results = race(|_| {
        let backend = Arc::clone(&backend);
        let hash = state.state_hash.clone();
        async move { backend.consume_oauth_state(&hash, now).await }
    })
    .await;
    let mut winners = 0;
    for result in results {
        match result {
            Ok(Some(got)) => {
                assert_eq!(got, state, "the winner gets the state exactly as stored");
                winners += 1;
            }
            Ok(None) => {}
            Err(err) => panic!("a concurrent consume must return Some or None, got {}", describe(&err)),
        }
    }
    assert_eq!(winners, 1, "exactly one of {RACERS} concurrent consumes must get the state");
}

/// Deleting a user deletes its provider links and any "link this provider" flow it started.
pub async fn deleting_user_deletes_oauth_data<B: UserStorage + OAuthStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let now = now();
    let subject = format!("cascade-{}", random_suffix());
    ok(backend.create_oauth_account(&oauth_account(&user_id, "github", &subject)).await, "create_oauth_account");
    let state = OAuthState { link_user_id: Some(user_id.clone()), ..oauth_state(now + TimeDelta::minutes(10)) };
    ok(backend.store_oauth_state(&state).await, "store_oauth_state");

    assert!(ok(backend.delete_user(&user_id).await, "delete_user"), "delete_user of an existing user");
    let link = ok(backend.get_oauth_account("github", &subject).await, "get_oauth_account");
    assert_eq!(link, None, "a deleted user's provider links must be deleted");
    assert!(ok(backend.list_oauth_accounts(&user_id).await, "list_oauth_accounts").is_empty(), "none listed");
    let flow = ok(backend.consume_oauth_state(&state.state_hash, now).await, "consume_oauth_state");
    assert_eq!(flow, None, "a deleted user's link flow must not complete");
}

/// Subjects, emails and state fields with SQL metacharacters and Unicode round-trip exactly, and state
/// fields (which may hold long URLs) also with 10 KB of text. Key columns only get the short strings:
/// a backend may reasonably bound provider subjects.
pub async fn text_round_trips_exactly<B: UserStorage + OAuthStorage>(backend: B) {
    let now = now();
    for text in awkward_strings() {
        if text.len() <= 200 {
            let user_id = owner(&backend).await;
            let subject = format!("{text}#{}", random_suffix());
            let account = OAuthAccount { email: Some(text.clone()), ..oauth_account(&user_id, "github", &subject) };
            ok(backend.create_oauth_account(&account).await, "create_oauth_account with awkward text");
            let found = ok(backend.get_oauth_account("github", &subject).await, "get_oauth_account");
            assert_eq!(found, Some(account), "subject and email must round-trip exactly");
        }

        let state = OAuthState {
            pkce_verifier: text.clone(),
            nonce: Some(text.clone()),
            redirect_to: Some(text.clone()),
            ..oauth_state(now + TimeDelta::minutes(10))
        };
        ok(backend.store_oauth_state(&state).await, "store_oauth_state with awkward text");
        let found = ok(backend.consume_oauth_state(&state.state_hash, now).await, "consume_oauth_state");
        assert_eq!(found, Some(state), "state fields must round-trip exactly");
    }
}
