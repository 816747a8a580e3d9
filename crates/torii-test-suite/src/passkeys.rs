//! Checks of [`PasskeyStorage`]: credentials unique by id and changed only by their owner, and ceremony
//! challenges that are single-use, kind-checked, never returned once expired, and consumed atomically.

use std::sync::Arc;

use chrono::TimeDelta;
use torii_core::storage::{CeremonyKind, PasskeyChallenge, PasskeyCredential, PasskeyStorage, UserStorage};
use torii_core::{ChallengeId, UserId};

use crate::fixtures::{NUL_STRING, at_micros, awkward_strings, challenge, new_user, now, passkey_for, unique_email};
use crate::support::{RACERS, describe, expect_conflict, ok, race, stored_or_invalid_data};

/// Creates a user to own credentials.
async fn owner<B: UserStorage>(backend: &B) -> UserId {
    let user = new_user(&unique_email("passkey-owner"));
    ok(backend.create_user(&user).await, "create_user").id
}

/// A credential reads back exactly, including a counter at `u32::MAX` and both flags.
pub async fn passkey_round_trips<B: UserStorage + PasskeyStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let mut passkey = passkey_for(&user_id);
    passkey.sign_count = u32::MAX;
    passkey.backup_eligible = false;
    passkey.backup_state = true;
    passkey.created_at = at_micros(1_700_000_000_000_777);
    passkey.last_used_at = Some(at_micros(1_700_000_500_000_001));
    ok(backend.create_passkey(&passkey).await, "create_passkey");

    let found = ok(backend.get_passkey(&passkey.credential_id).await, "get_passkey");
    assert_eq!(found, Some(passkey.clone()), "get_passkey must read back exactly what was written");
    let unknown = ok(backend.get_passkey(&passkey.credential_id.to_uppercase()).await, "get_passkey");
    assert_eq!(unknown, None, "credential ids are compared exactly (base64url is case-sensitive)");
}

/// A second credential with an existing id conflicts, even for another user.
pub async fn credential_id_is_unique<B: UserStorage + PasskeyStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let other_id = owner(&backend).await;
    let passkey = passkey_for(&user_id);
    ok(backend.create_passkey(&passkey).await, "create_passkey");

    let clash = PasskeyCredential { credential_id: passkey.credential_id.clone(), ..passkey_for(&other_id) };
    expect_conflict(backend.create_passkey(&clash).await, "create_passkey with an existing credential id");
    let found = ok(backend.get_passkey(&passkey.credential_id).await, "get_passkey");
    assert_eq!(found, Some(passkey), "the existing credential must be untouched");
    assert!(ok(backend.list_passkeys(&other_id).await, "list_passkeys").is_empty(), "nothing stored for other");
}

/// A user's credentials are listed oldest first, without other users' credentials.
pub async fn list_passkeys_oldest_first<B: UserStorage + PasskeyStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let other_id = owner(&backend).await;
    let now = now();
    let mut expected = Vec::new();
    for minutes_ago in [5, 60, 30] {
        let passkey = PasskeyCredential { created_at: now - TimeDelta::minutes(minutes_ago), ..passkey_for(&user_id) };
        ok(backend.create_passkey(&passkey).await, "create_passkey");
        expected.push(passkey);
    }
    ok(backend.create_passkey(&passkey_for(&other_id)).await, "create_passkey");

    expected.sort_by_key(|p| p.created_at);
    let listed = ok(backend.list_passkeys(&user_id).await, "list_passkeys");
    assert_eq!(listed, expected, "the user's credentials, oldest first, exactly as stored");
}

/// `update_passkey_usage` replaces data, counter, backup state and last use, nothing else.
pub async fn update_usage_records_use<B: UserStorage + PasskeyStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let passkey = passkey_for(&user_id);
    ok(backend.create_passkey(&passkey).await, "create_passkey");

    let used_at = passkey.created_at + TimeDelta::microseconds(3_600_000_001);
    let data = r#"{"cred":{"counter":4294967295}}"#;
    let updated = ok(
        backend.update_passkey_usage(&passkey.credential_id, data, u32::MAX, true, used_at).await,
        "update_passkey_usage",
    );
    assert!(updated, "updating an existing credential returns true");
    let expected = PasskeyCredential {
        data: data.to_owned(),
        sign_count: u32::MAX,
        backup_state: true,
        last_used_at: Some(used_at),
        ..passkey.clone()
    };
    let found = ok(backend.get_passkey(&passkey.credential_id).await, "get_passkey");
    assert_eq!(found, Some(expected), "usage must update data, sign_count, backup_state and last_used_at only");

    let unknown = ok(backend.update_passkey_usage("no-such-credential", data, 1, false, used_at).await, "unknown");
    assert!(!unknown, "updating an unknown credential returns false");
}

/// Only the owner can rename a credential.
pub async fn rename_scoped_to_owner<B: UserStorage + PasskeyStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let intruder = owner(&backend).await;
    let passkey = passkey_for(&user_id);
    ok(backend.create_passkey(&passkey).await, "create_passkey");

    let stolen = ok(backend.rename_passkey(&intruder, &passkey.credential_id, "pwned").await, "rename_passkey");
    assert!(!stolen, "another user's rename must return false");
    let found = ok(backend.get_passkey(&passkey.credential_id).await, "get_passkey");
    assert_eq!(found.map(|p| p.name), Some(passkey.name.clone()), "another user's rename must change nothing");

    assert!(ok(backend.rename_passkey(&user_id, &passkey.credential_id, "Laptop").await, "rename"), "owner: true");
    let found = ok(backend.get_passkey(&passkey.credential_id).await, "get_passkey");
    let expected = PasskeyCredential { name: "Laptop".to_owned(), ..passkey };
    assert_eq!(found, Some(expected), "rename must change the name only");
    let unknown = ok(backend.rename_passkey(&user_id, "no-such-credential", "x").await, "rename_passkey");
    assert!(!unknown, "renaming an unknown credential returns false");
}

/// Only the owner can delete a credential.
pub async fn delete_scoped_to_owner<B: UserStorage + PasskeyStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let intruder = owner(&backend).await;
    let passkey = passkey_for(&user_id);
    ok(backend.create_passkey(&passkey).await, "create_passkey");

    let stolen = ok(backend.delete_passkey(&intruder, &passkey.credential_id).await, "delete_passkey");
    assert!(!stolen, "another user's delete must return false");
    let found = ok(backend.get_passkey(&passkey.credential_id).await, "get_passkey");
    assert_eq!(found, Some(passkey.clone()), "another user's delete must change nothing");

    assert!(ok(backend.delete_passkey(&user_id, &passkey.credential_id).await, "delete_passkey"), "owner: true");
    assert_eq!(ok(backend.get_passkey(&passkey.credential_id).await, "get_passkey"), None, "credential is gone");
    let again = ok(backend.delete_passkey(&user_id, &passkey.credential_id).await, "delete_passkey again");
    assert!(!again, "a second delete returns false");
}

/// A challenge reads back exactly once: consuming it removes it.
pub async fn challenge_is_single_use<B: UserStorage + PasskeyStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let now = now();
    let stored = PasskeyChallenge {
        user_id: Some(user_id),
        email: Some(unique_email("Ceremony")),
        ..challenge(CeremonyKind::Registration, now + TimeDelta::minutes(5))
    };
    ok(backend.store_challenge(&stored).await, "store_challenge");

    let first = ok(backend.consume_challenge(&stored.id, CeremonyKind::Registration, now).await, "consume");
    assert_eq!(first, Some(stored.clone()), "the first consume returns the challenge exactly as stored");
    let second = ok(backend.consume_challenge(&stored.id, CeremonyKind::Registration, now).await, "consume again");
    assert_eq!(second, None, "a challenge can be consumed only once");
    let unknown = ok(backend.consume_challenge(&ChallengeId::new_random(), stored.kind, now).await, "unknown");
    assert_eq!(unknown, None, "an unknown challenge is None");
}

/// A challenge is only returned for its own ceremony kind; asking with the wrong kind does not use it
/// up.
pub async fn challenge_wrong_kind_is_not_returned<B: UserStorage + PasskeyStorage>(backend: B) {
    let now = now();
    let stored = challenge(CeremonyKind::Authentication, now + TimeDelta::minutes(5));
    ok(backend.store_challenge(&stored).await, "store_challenge");

    let wrong = ok(backend.consume_challenge(&stored.id, CeremonyKind::Registration, now).await, "consume");
    assert_eq!(wrong, None, "an authentication challenge must not be returned for a registration");
    let right = ok(backend.consume_challenge(&stored.id, CeremonyKind::Authentication, now).await, "consume");
    assert_eq!(right, Some(stored), "a wrong-kind attempt must not consume the challenge");
}

/// A challenge is never returned at or after its expiry.
pub async fn expired_challenge_is_never_returned<B: UserStorage + PasskeyStorage>(backend: B) {
    let now = now();
    let kind = CeremonyKind::Authentication;
    for (label, expires_at) in [("at its expiry", now), ("after its expiry", now - TimeDelta::seconds(1))] {
        let stored = challenge(kind, expires_at);
        ok(backend.store_challenge(&stored).await, "store_challenge");
        let found = ok(backend.consume_challenge(&stored.id, kind, now).await, "consume_challenge");
        assert_eq!(found, None, "a challenge must not be returned {label}");
    }
    let live = challenge(kind, now + TimeDelta::microseconds(1));
    ok(backend.store_challenge(&live).await, "store_challenge");
    let found = ok(backend.consume_challenge(&live.id, kind, now).await, "consume_challenge");
    assert_eq!(found, Some(live), "a challenge is returned until the microsecond it expires");
}

/// Of 50 concurrent consumes of one challenge, exactly one gets it.
pub async fn concurrent_challenge_consume_one_wins<B: UserStorage + PasskeyStorage>(backend: B) {
    let backend = Arc::new(backend);
    let now = now();
    let stored = challenge(CeremonyKind::Authentication, now + TimeDelta::minutes(5));
    ok(backend.store_challenge(&stored).await, "store_challenge");

    let results = race(|_| {
        let backend = Arc::clone(&backend);
        let id = stored.id.clone();
        async move { backend.consume_challenge(&id, CeremonyKind::Authentication, now).await }
    })
    .await;
    let mut winners = 0;
    for result in results {
        match result {
            Ok(Some(got)) => {
                assert_eq!(got, stored, "the winner gets the challenge exactly as stored");
                winners += 1;
            }
            Ok(None) => {}
            Err(err) => panic!("a concurrent consume must return Some or None, got {}", describe(&err)),
        }
    }
    assert_eq!(winners, 1, "exactly one of {RACERS} concurrent consumes must get the challenge");
}

/// Deleting a user deletes its credentials and the ceremonies started for it.
pub async fn deleting_user_deletes_passkeys<B: UserStorage + PasskeyStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let now = now();
    let passkey = passkey_for(&user_id);
    ok(backend.create_passkey(&passkey).await, "create_passkey");
    let kind = CeremonyKind::Registration;
    let ceremony = PasskeyChallenge { user_id: Some(user_id.clone()), ..challenge(kind, now + TimeDelta::minutes(5)) };
    ok(backend.store_challenge(&ceremony).await, "store_challenge");

    assert!(ok(backend.delete_user(&user_id).await, "delete_user"), "delete_user of an existing user");
    let found = ok(backend.get_passkey(&passkey.credential_id).await, "get_passkey");
    assert_eq!(found, None, "a deleted user's credentials must be deleted");
    assert!(ok(backend.list_passkeys(&user_id).await, "list_passkeys").is_empty(), "none listed");
    let pending = ok(backend.consume_challenge(&ceremony.id, kind, now).await, "consume_challenge");
    assert_eq!(pending, None, "a ceremony started for a deleted user must not complete");
}

/// Names and data with SQL metacharacters, Unicode and 10 KB of text round-trip exactly; a NUL byte is
/// stored exactly or refused with `InvalidData`.
pub async fn text_round_trips_exactly<B: UserStorage + PasskeyStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let now = now();
    for text in awkward_strings() {
        let passkey = PasskeyCredential { name: text.clone(), data: text.repeat(2), ..passkey_for(&user_id) };
        ok(backend.create_passkey(&passkey).await, "create_passkey with awkward text");
        let found = ok(backend.get_passkey(&passkey.credential_id).await, "get_passkey");
        assert_eq!(found, Some(passkey.clone()), "name and data must round-trip exactly");

        let renamed = format!("{text} (renamed)");
        ok(backend.rename_passkey(&user_id, &passkey.credential_id, &renamed).await, "rename_passkey");
        let found = ok(backend.get_passkey(&passkey.credential_id).await, "get_passkey").map(|p| p.name);
        assert_eq!(found, Some(renamed), "a renamed credential's name must round-trip exactly");

        let stored = PasskeyChallenge { state: text.clone(), ..challenge(CeremonyKind::Registration, now) };
        let stored = PasskeyChallenge { expires_at: now + TimeDelta::minutes(5), ..stored };
        ok(backend.store_challenge(&stored).await, "store_challenge with awkward text");
        let found = ok(backend.consume_challenge(&stored.id, stored.kind, now).await, "consume_challenge");
        assert_eq!(found, Some(stored), "challenge state must round-trip exactly");
    }

    let passkey = PasskeyCredential { name: NUL_STRING.to_owned(), ..passkey_for(&user_id) };
    let stored_nul = stored_or_invalid_data(backend.create_passkey(&passkey).await, "create_passkey");
    let found = ok(backend.get_passkey(&passkey.credential_id).await, "get_passkey");
    if stored_nul {
        assert_eq!(found, Some(passkey), "a stored NUL byte must round-trip exactly");
    } else {
        assert_eq!(found, None, "a refused credential must not be stored");
    }
}
