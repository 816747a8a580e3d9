//! Checks of [`PasswordStorage`]: at most one hash per user, atomic registration, concurrent
//! registrations with one email, and cascading user deletes.

use std::sync::Arc;

use torii_core::storage::PasswordStorage;
use torii_core::{NewUser, StorageError, UserId};

use crate::fixtures::{new_user, random_suffix, unique_email};
use crate::support::{RACERS, describe, expect_conflict, expect_not_found, ok, race};

/// A realistic Argon2id PHC string (full of `$`, `=` and `,`), so quoting bugs show up.
fn phc(tag: &str) -> String {
    format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ{tag}$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNo")
}

/// Set, read, replace and remove a hash; each step is visible exactly.
pub async fn set_get_replace_remove<B: PasswordStorage>(backend: B) {
    let user = new_user(&unique_email("password"));
    ok(backend.create_user(&user).await, "create_user");
    assert_eq!(ok(backend.get_password_hash(&user.id).await, "get_password_hash"), None, "no password at first");

    ok(backend.set_password_hash(&user.id, &phc("one")).await, "set_password_hash");
    let stored = ok(backend.get_password_hash(&user.id).await, "get_password_hash");
    assert_eq!(stored, Some(phc("one")), "the hash must round-trip exactly");

    ok(backend.set_password_hash(&user.id, &phc("two")).await, "set_password_hash (replace)");
    let stored = ok(backend.get_password_hash(&user.id).await, "get_password_hash");
    assert_eq!(stored, Some(phc("two")), "setting again must replace the hash");

    assert!(ok(backend.remove_password_hash(&user.id).await, "remove_password_hash"), "removing a hash: true");
    assert_eq!(ok(backend.get_password_hash(&user.id).await, "get_password_hash"), None, "removed hash is gone");
    assert!(!ok(backend.remove_password_hash(&user.id).await, "remove_password_hash"), "nothing to remove: false");
    assert!(ok(backend.get_user(&user.id).await, "get_user").is_some(), "removing the password keeps the user");
}

/// `create_user_with_password` stores the user exactly and its hash.
pub async fn create_user_with_password_stores_both<B: PasswordStorage>(backend: B) {
    let mut user = new_user(&unique_email("Register"));
    user.name = Some("Registered".to_owned());
    let created = ok(backend.create_user_with_password(&user, &phc("reg")).await, "create_user_with_password");
    assert_eq!(created, user.to_user(), "create_user_with_password must return exactly the stored user");
    assert_eq!(ok(backend.get_user(&user.id).await, "get_user"), Some(user.to_user()), "the user is stored");
    let hash = ok(backend.get_password_hash(&user.id).await, "get_password_hash");
    assert_eq!(hash, Some(phc("reg")), "the hash is stored");
}

/// A refused registration stores nothing: neither a user nor a password row, and an existing user's
/// password is not overwritten through an id clash.
pub async fn create_user_with_password_is_atomic<B: PasswordStorage>(backend: B) {
    let existing = new_user(&unique_email("Existing"));
    ok(backend.create_user_with_password(&existing, &phc("orig")).await, "create_user_with_password");

    let same_email = new_user(&existing.email.to_uppercase());
    expect_conflict(
        backend.create_user_with_password(&same_email, &phc("evil")).await,
        "create_user_with_password with a taken email",
    );
    assert_eq!(ok(backend.get_user(&same_email.id).await, "get_user"), None, "no user may be left behind");
    let orphan = ok(backend.get_password_hash(&same_email.id).await, "get_password_hash");
    assert_eq!(orphan, None, "no password row may be left behind");

    let same_id = NewUser { id: existing.id.clone(), ..new_user(&unique_email("clash")) };
    expect_conflict(
        backend.create_user_with_password(&same_id, &phc("evil")).await,
        "create_user_with_password with a taken id",
    );
    let hash = ok(backend.get_password_hash(&existing.id).await, "get_password_hash");
    assert_eq!(hash, Some(phc("orig")), "a refused registration must not replace an existing user's password");
    let missing = ok(backend.get_user_by_email(&same_id.email).await, "get_user_by_email");
    assert_eq!(missing, None, "the refused registration's email must not be stored");
    let user = ok(backend.get_user(&existing.id).await, "get_user");
    assert_eq!(user, Some(existing.to_user()), "the existing user is untouched");
}

/// Setting a password for a user that does not exist is `NotFound`; reading one is `None`.
pub async fn password_for_missing_user<B: PasswordStorage>(backend: B) {
    let ghost = UserId::new_random();
    expect_not_found(backend.set_password_hash(&ghost, &phc("ghost")).await, "set_password_hash of unknown user");
    assert_eq!(ok(backend.get_password_hash(&ghost).await, "get_password_hash"), None, "unknown user: None");
    assert!(!ok(backend.remove_password_hash(&ghost).await, "remove_password_hash"), "unknown user: false");
}

/// Deleting a user deletes its password: a new user created later with the same id has none.
pub async fn deleting_user_deletes_password<B: PasswordStorage>(backend: B) {
    let user = new_user(&unique_email("gone"));
    ok(backend.create_user_with_password(&user, &phc("gone")).await, "create_user_with_password");
    assert!(ok(backend.delete_user(&user.id).await, "delete_user"), "delete_user of an existing user");
    assert_eq!(ok(backend.get_password_hash(&user.id).await, "get_password_hash"), None, "password deleted");

    let reborn = NewUser { id: user.id.clone(), ..new_user(&unique_email("reborn")) };
    ok(backend.create_user(&reborn).await, "create_user reusing the deleted id");
    let inherited = ok(backend.get_password_hash(&reborn.id).await, "get_password_hash");
    assert_eq!(inherited, None, "a new user must never inherit a deleted user's password");
}

/// Of 50 concurrent registrations with one email (in different cases), exactly one succeeds, every
/// other fails with `Conflict`, and the stored password is the winner's.
pub async fn concurrent_registrations_one_wins<B: PasswordStorage>(backend: B) {
    let backend = Arc::new(backend);
    let local = format!("Signup.{}", random_suffix());
    let results = race(|i| {
        let backend = Arc::clone(&backend);
        let email = match i % 3 {
            0 => format!("{local}@example.com"),
            1 => format!("{}@EXAMPLE.COM", local.to_uppercase()),
            _ => format!("{}@Example.Com", local.to_lowercase()),
        };
        let user = new_user(&email);
        async move {
            let result = backend.create_user_with_password(&user, &phc(&format!("racer{i}"))).await;
            (i, user.id, result)
        }
    })
    .await;

    let mut winners = Vec::new();
    for (i, id, result) in results {
        match result {
            Ok(user) => winners.push((i, user.id)),
            Err(StorageError::Conflict(_)) => {
                assert_eq!(ok(backend.get_user(&id).await, "get_user"), None, "a loser's user must not exist");
                let orphan = ok(backend.get_password_hash(&id).await, "get_password_hash");
                assert_eq!(orphan, None, "a loser's password must not exist");
            }
            Err(err) => panic!("concurrent registration must succeed or conflict, got {}", describe(&err)),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one of {RACERS} concurrent registrations must succeed: {winners:?}");
    let (i, id) = winners.remove(0);
    let stored = ok(backend.get_user_by_email(&format!("{local}@example.com")).await, "get_user_by_email");
    assert_eq!(stored.map(|u| u.id), Some(id.clone()), "the stored user is the winner");
    let hash = ok(backend.get_password_hash(&id).await, "get_password_hash");
    assert_eq!(hash, Some(phc(&format!("racer{i}"))), "the stored password is the winner's");
}
