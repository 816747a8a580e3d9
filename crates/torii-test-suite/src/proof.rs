//! Checks of [`UserStorage::prove_email`](torii_core::storage::UserStorage::prove_email): the first proof of an account's address removes every
//! credential and link added while it was unproven, atomically and once.

use std::sync::Arc;

use chrono::TimeDelta;
use torii_core::UserId;
use torii_core::storage::{CeremonyKind, OAuthState, OAuthStorage, PasskeyChallenge, PasskeyStorage, PasswordStorage};

use crate::fixtures::unique_email;
use crate::fixtures::{at_micros, challenge, new_user, now, oauth_account, oauth_state, passkey_for, random_suffix};
use crate::support::{RACERS, ok, race};

/// An unverified user with a password, two passkeys, a provider link, a "link this provider" flow and
/// a passkey enrollment in progress. Returns its id, passkey ids (sorted) and the (provider, subject).
async fn loaded_user<B>(backend: &B) -> (UserId, Vec<String>, (String, String), OAuthState, PasskeyChallenge)
where
    B: PasswordStorage + OAuthStorage + PasskeyStorage,
{
    let user = ok(backend.create_user(&new_user(&unique_email("proof"))).await, "create_user");
    ok(backend.set_password_hash(&user.id, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA").await, "set_password_hash");
    let mut passkeys = Vec::new();
    for _ in 0..2 {
        let passkey = passkey_for(&user.id);
        ok(backend.create_passkey(&passkey).await, "create_passkey");
        passkeys.push(passkey.credential_id);
    }
    passkeys.sort();
    let subject = format!("subject-{}", random_suffix());
    ok(backend.create_oauth_account(&oauth_account(&user.id, "github", &subject)).await, "create_oauth_account");
    let state = OAuthState { link_user_id: Some(user.id.clone()), ..oauth_state(now() + TimeDelta::minutes(10)) };
    ok(backend.store_oauth_state(&state).await, "store_oauth_state");
    let enrollment = PasskeyChallenge {
        user_id: Some(user.id.clone()),
        ..challenge(CeremonyKind::Registration, now() + TimeDelta::minutes(5))
    };
    ok(backend.store_challenge(&enrollment).await, "store_challenge");
    (user.id, passkeys, ("github".to_owned(), subject), state, enrollment)
}

/// The first proof marks the address verified at exactly the given time and removes the password, the
/// passkeys, the provider links and the ceremonies in progress, reporting them; another account keeps
/// everything.
pub async fn first_proof_drops_unproven_credentials<B>(backend: B)
where
    B: PasswordStorage + OAuthStorage + PasskeyStorage,
{
    let (user_id, passkeys, link, state, enrollment) = loaded_user(&backend).await;
    let (other_id, other_passkeys, other_link, other_state, _) = loaded_user(&backend).await;
    let at = at_micros(1_800_000_000_123_457);

    let dropped = ok(backend.prove_email(&user_id, at).await, "prove_email").expect("the first proof removes");
    assert!(dropped.password, "the password is reported removed");
    assert_eq!(dropped.passkeys, passkeys, "every passkey is reported, sorted");
    assert_eq!(dropped.provider_links, vec![link.clone()], "the provider link is reported");
    assert_eq!(dropped.sessions, 0, "storage does not end sessions");

    let user = ok(backend.get_user(&user_id).await, "get_user").expect("the user stays");
    assert_eq!(user.email_verified_at, Some(at), "the address is verified at exactly `at`");
    assert_eq!(ok(backend.get_password_hash(&user_id).await, "get_password_hash"), None, "password removed");
    assert!(ok(backend.list_passkeys(&user_id).await, "list_passkeys").is_empty(), "passkeys removed");
    assert!(ok(backend.list_oauth_accounts(&user_id).await, "list_oauth_accounts").is_empty(), "links removed");
    assert_eq!(ok(backend.get_oauth_account(&link.0, &link.1).await, "get_oauth_account"), None, "link gone");
    let flow = ok(backend.consume_oauth_state(&state.state_hash, now()).await, "consume_oauth_state");
    assert_eq!(flow, None, "a link flow started before the proof must not complete");
    let ceremony = ok(backend.consume_challenge(&enrollment.id, CeremonyKind::Registration, now()).await, "consume");
    assert_eq!(ceremony, None, "a passkey enrollment started before the proof must not complete");

    assert!(ok(backend.get_password_hash(&other_id).await, "get_password_hash").is_some(), "other keeps password");
    let kept: Vec<String> =
        ok(backend.list_passkeys(&other_id).await, "list_passkeys").into_iter().map(|p| p.credential_id).collect();
    assert_eq!(kept.len(), other_passkeys.len(), "the other account keeps its passkeys");
    assert!(ok(backend.get_oauth_account(&other_link.0, &other_link.1).await, "get").is_some(), "other keeps link");
    assert!(ok(backend.consume_oauth_state(&other_state.state_hash, now()).await, "consume").is_some(), "other flow");
    let other = ok(backend.get_user(&other_id).await, "get_user").expect("the other user");
    assert_eq!(other.email_verified_at, None, "the other account stays unverified");
}

/// A verified account (and an unknown id) gives `None` and loses nothing.
pub async fn later_proof_changes_nothing<B>(backend: B)
where
    B: PasswordStorage + OAuthStorage + PasskeyStorage,
{
    let (user_id, passkeys, link, _, _) = loaded_user(&backend).await;
    let verified_at = at_micros(1_700_000_000_000_001);
    ok(backend.set_email_verified(&user_id, verified_at).await, "set_email_verified");

    let again = ok(backend.prove_email(&user_id, at_micros(1_800_000_000_000_000)).await, "prove_email");
    assert_eq!(again, None, "a verified address is not proven again");
    let user = ok(backend.get_user(&user_id).await, "get_user").expect("the user");
    assert_eq!(user.email_verified_at, Some(verified_at), "the first verification time stays");
    assert!(ok(backend.get_password_hash(&user_id).await, "get_password_hash").is_some(), "password kept");
    assert_eq!(ok(backend.list_passkeys(&user_id).await, "list_passkeys").len(), passkeys.len(), "passkeys kept");
    assert!(ok(backend.get_oauth_account(&link.0, &link.1).await, "get_oauth_account").is_some(), "link kept");

    let unknown = ok(backend.prove_email(&UserId::new_random(), now()).await, "prove_email of an unknown id");
    assert_eq!(unknown, None, "an unknown user has nothing to prove");
}

/// Of concurrent first proofs of one account, exactly one removes and reports.
pub async fn concurrent_proofs_one_drops<B>(backend: B)
where
    B: PasswordStorage + OAuthStorage + PasskeyStorage,
{
    let backend = Arc::new(backend);
    let (user_id, _, _, _, _) = loaded_user(backend.as_ref()).await;
    let results = race(|i| {
        let backend = Arc::clone(&backend);
        let user_id = user_id.clone();
        async move { backend.prove_email(&user_id, at_micros(1_800_000_000_000_000 + i as i64)).await }
    })
    .await;
    let mut reports = 0;
    for result in results {
        if ok(result, "concurrent prove_email").is_some() {
            reports += 1;
        }
    }
    assert_eq!(reports, 1, "exactly one of {RACERS} concurrent proofs removes the credentials");
}
