//! Checks of [`UserStorage`]: exact round-trips, case-insensitive unique emails, updates and deletes.

use std::sync::Arc;

use chrono::TimeDelta;
use torii_core::storage::UserStorage;
use torii_core::{NewUser, StorageError, User, UserId};

use crate::fixtures::{NUL_STRING, at_micros, awkward_strings, new_user, random_suffix, unique_email};
use crate::support::{RACERS, describe, expect_conflict, expect_not_found, ok, race, stored_or_invalid_data};

/// A user is stored exactly as given (id, name, email as typed, timestamps to the microsecond) and is
/// found again by id and by email.
pub async fn create_user_round_trips_exactly<B: UserStorage>(backend: B) {
    let mut user = new_user(&format!("Ada.Lovelace.{}@Example.COM", random_suffix()));
    user.name = Some("Ada Lovelace".to_owned());
    user.email_verified_at = Some(at_micros(1_700_000_000_654_321));
    user.created_at = at_micros(1_700_000_000_123_457);

    let created = ok(backend.create_user(&user).await, "create_user");
    assert_eq!(created, user.to_user(), "create_user must return exactly the user it stored");
    let by_id = ok(backend.get_user(&user.id).await, "get_user");
    assert_eq!(by_id, Some(user.to_user()), "get_user must read back exactly what was written");
    let by_email = ok(backend.get_user_by_email(&user.email).await, "get_user_by_email");
    assert_eq!(by_email, Some(user.to_user()), "get_user_by_email must read back exactly what was written");
}

/// Timestamps keep every microsecond, across a range of dates (including past 2038).
pub async fn timestamps_keep_microseconds<B: UserStorage>(backend: B) {
    for micros in [946_684_800_000_001, 1_234_567_890_123_456, 1_999_999_999_999_999, 2_240_000_000_000_007] {
        let mut user = new_user(&unique_email("time"));
        user.created_at = at_micros(micros);
        user.email_verified_at = Some(at_micros(micros + 1));
        ok(backend.create_user(&user).await, "create_user");
        let stored = ok(backend.get_user(&user.id).await, "get_user").expect("the user just created");
        assert_eq!(stored.created_at, user.created_at, "created_at must keep its microseconds ({micros})");
        assert_eq!(stored.updated_at, user.created_at, "updated_at starts as created_at ({micros})");
        assert_eq!(stored.email_verified_at, user.email_verified_at, "email_verified_at must keep its microseconds");
    }
}

/// Looking up an id or email that was never stored gives `None`, not an error.
pub async fn missing_user_is_none<B: UserStorage>(backend: B) {
    let missing = ok(backend.get_user(&UserId::new_random()).await, "get_user of an unknown id");
    assert_eq!(missing, None, "get_user of an unknown id");
    let missing = ok(backend.get_user_by_email(&unique_email("nobody")).await, "get_user_by_email");
    assert_eq!(missing, None, "get_user_by_email of an unknown email");
}

/// `Alice@Example.com` and `alice@example.COM` are the same address: the second registration conflicts
/// and leaves the first user untouched.
pub async fn email_is_unique_ignoring_case<B: UserStorage>(backend: B) {
    let suffix = random_suffix();
    let first = new_user(&format!("Alice.{suffix}@Example.com"));
    ok(backend.create_user(&first).await, "create_user");

    let second = new_user(&format!("alice.{suffix}@example.COM"));
    expect_conflict(backend.create_user(&second).await, "create_user with the same email in another case");
    assert_eq!(ok(backend.get_user(&second.id).await, "get_user"), None, "the refused user must not exist");
    assert_eq!(ok(backend.get_user(&first.id).await, "get_user"), Some(first.to_user()), "first user is untouched");
}

/// Case-insensitivity is full Unicode lower-casing (as `torii_core::email::normalize_email`), not ASCII
/// only: `ÄRGER@Bücher.example` and `ärger@BÜCHER.example` are the same address.
pub async fn unicode_email_is_unique_ignoring_case<B: UserStorage>(backend: B) {
    let suffix = random_suffix();
    let first = new_user(&format!("ÄRGER.{suffix}@Bücher.example"));
    ok(backend.create_user(&first).await, "create_user with a non-ASCII email");
    let second = new_user(&format!("ärger.{suffix}@BÜCHER.example"));
    expect_conflict(backend.create_user(&second).await, "create_user with a Unicode case variant");

    let lookup = format!("ärger.{suffix}@bücher.EXAMPLE");
    let found = ok(backend.get_user_by_email(&lookup).await, "get_user_by_email");
    assert_eq!(found.map(|u| u.id), Some(first.id), "a Unicode case variant must find the user");
}

/// Look-alike spellings are one address (the key is NFKC, then case-folded): full-width letters and
/// the KELVIN SIGN conflict with the plain address and find it, and the address is kept as typed.
pub async fn look_alike_email_is_the_same_address<B: UserStorage>(backend: B) {
    let suffix = random_suffix();
    let plain = new_user(&format!("fw.{suffix}@example.com"));
    ok(backend.create_user(&plain).await, "create_user");
    let wide = new_user(&format!("ｆｗ.{suffix}@example.com"));
    expect_conflict(backend.create_user(&wide).await, "create_user with a full-width spelling");
    let found = ok(backend.get_user_by_email(&wide.email).await, "get_user_by_email with a full-width spelling");
    assert_eq!(found, Some(plain.to_user()), "a full-width spelling finds the plain address, as typed");

    let kelvin = new_user(&format!("\u{212A}ate.{suffix}@example.com"));
    let kelvin = ok(backend.create_user(&kelvin).await, "create_user with a KELVIN SIGN");
    assert!(kelvin.email.starts_with('\u{212A}'), "the address is stored as typed");
    let plain_k = new_user(&format!("kate.{suffix}@example.com"));
    expect_conflict(backend.create_user(&plain_k).await, "create_user with the plain spelling of a KELVIN SIGN");
    let found = ok(backend.get_user_by_email(&format!("KATE.{suffix}@EXAMPLE.COM")).await, "get_user_by_email");
    assert_eq!(found.map(|u| u.id), Some(kelvin.id), "the plain spelling finds the account");
}

/// A second user with an existing id conflicts.
pub async fn duplicate_id_conflicts<B: UserStorage>(backend: B) {
    let first = new_user(&unique_email("first"));
    ok(backend.create_user(&first).await, "create_user");
    let mut second = new_user(&unique_email("second"));
    second.id = first.id.clone();
    expect_conflict(backend.create_user(&second).await, "create_user with an existing id");
    let missing = ok(backend.get_user_by_email(&second.email).await, "get_user_by_email");
    assert_eq!(missing, None, "the refused user's email must not be stored");
    assert_eq!(ok(backend.get_user(&first.id).await, "get_user"), Some(first.to_user()), "first user is untouched");
}

/// Lookup by email ignores case and surrounding whitespace, and returns the email as it was typed.
pub async fn find_by_email_ignores_case_and_whitespace<B: UserStorage>(backend: B) {
    let suffix = random_suffix();
    let user = new_user(&format!("Grace.Hopper.{suffix}@Navy.MIL.example"));
    ok(backend.create_user(&user).await, "create_user");
    for lookup in [
        format!("grace.hopper.{suffix}@navy.mil.example"),
        format!("GRACE.HOPPER.{}@NAVY.MIL.EXAMPLE", suffix.to_uppercase()),
        format!("  \tGrace.Hopper.{suffix}@navy.mil.example \n"),
    ] {
        let found = ok(backend.get_user_by_email(&lookup).await, "get_user_by_email");
        assert_eq!(found, Some(user.to_user()), "get_user_by_email({lookup:?}) must find the user, email as typed");
    }
}

/// `update_user` replaces name, email, verification and `updated_at`, never `created_at`, and returns the
/// stored user; the old email no longer finds it.
pub async fn update_user_replaces_fields<B: UserStorage>(backend: B) {
    let user = new_user(&unique_email("before"));
    ok(backend.create_user(&user).await, "create_user");

    let mut changed = user.to_user();
    changed.name = Some("Renamed".to_owned());
    changed.email = unique_email("After");
    changed.email_verified_at = Some(user.created_at + TimeDelta::microseconds(1_500_001));
    changed.updated_at = user.created_at + TimeDelta::microseconds(2_000_003);
    changed.created_at = user.created_at + TimeDelta::days(3); // must be ignored

    let returned = ok(backend.update_user(&changed).await, "update_user");
    let expected = User { created_at: user.created_at, ..changed.clone() };
    assert_eq!(returned, expected, "update_user must return the stored user, with created_at unchanged");
    assert_eq!(ok(backend.get_user(&user.id).await, "get_user"), Some(expected.clone()), "update must be stored");
    let by_new = ok(backend.get_user_by_email(&changed.email.to_uppercase()).await, "get_user_by_email(new)");
    assert_eq!(by_new, Some(expected), "the new email must find the user");
    let by_old = ok(backend.get_user_by_email(&user.email).await, "get_user_by_email(old)");
    assert_eq!(by_old, None, "the old email must no longer find the user");

    // A second update, now that updated_at differs from created_at: created_at still must not move.
    let again = User {
        name: Some("Renamed twice".to_owned()),
        updated_at: changed.updated_at + TimeDelta::hours(1),
        ..changed
    };
    let returned = ok(backend.update_user(&again).await, "update_user (second time)");
    assert_eq!(returned.created_at, user.created_at, "created_at must never change, however often a user is updated");
    let stored = ok(backend.get_user(&user.id).await, "get_user").expect("the updated user");
    assert_eq!(stored, User { created_at: user.created_at, ..again }, "the second update must be stored exactly");
}

/// `update_user` can clear the name and the verification.
pub async fn update_user_clears_optional_fields<B: UserStorage>(backend: B) {
    let mut user = new_user(&unique_email("clear"));
    user.name = Some("Temporary".to_owned());
    user.email_verified_at = Some(user.created_at);
    ok(backend.create_user(&user).await, "create_user");

    let cleared = User { name: None, email_verified_at: None, ..user.to_user() };
    assert_eq!(ok(backend.update_user(&cleared).await, "update_user"), cleared, "update_user must clear fields");
    assert_eq!(ok(backend.get_user(&user.id).await, "get_user"), Some(cleared), "cleared fields must be stored");
}

/// A user may change the case of their own email: that is not a conflict with themselves.
pub async fn update_user_to_own_email_in_other_case<B: UserStorage>(backend: B) {
    let user = new_user(&unique_email("self"));
    ok(backend.create_user(&user).await, "create_user");
    let recased = User { email: user.email.to_uppercase(), ..user.to_user() };
    let returned = ok(backend.update_user(&recased).await, "update_user to the same email in upper case");
    assert_eq!(returned.email, recased.email, "the email is stored as typed");
}

/// Changing a user's email to another user's (in any case) conflicts and changes nothing.
pub async fn update_user_to_taken_email_conflicts<B: UserStorage>(backend: B) {
    let taken = new_user(&unique_email("taken"));
    let user = new_user(&unique_email("mover"));
    ok(backend.create_user(&taken).await, "create_user");
    ok(backend.create_user(&user).await, "create_user");

    let moved = User { email: taken.email.to_uppercase(), ..user.to_user() };
    expect_conflict(backend.update_user(&moved).await, "update_user to another user's email");
    assert_eq!(ok(backend.get_user(&user.id).await, "get_user"), Some(user.to_user()), "user must be unchanged");
    assert_eq!(ok(backend.get_user(&taken.id).await, "get_user"), Some(taken.to_user()), "other is unchanged");
}

/// Updating a user that does not exist is `NotFound` (and does not create it).
pub async fn update_missing_user_is_not_found<B: UserStorage>(backend: B) {
    let ghost = new_user(&unique_email("ghost")).to_user();
    expect_not_found(backend.update_user(&ghost).await, "update_user of an unknown user");
    assert_eq!(ok(backend.get_user(&ghost.id).await, "get_user"), None, "update_user must not create a user");
}

/// `set_email_verified` stores the exact time and reports whether the user exists.
pub async fn set_email_verified_marks_user<B: UserStorage>(backend: B) {
    let user = new_user(&unique_email("verify"));
    ok(backend.create_user(&user).await, "create_user");
    let at = user.created_at + TimeDelta::microseconds(42_000_017);
    assert!(ok(backend.set_email_verified(&user.id, at).await, "set_email_verified"), "existing user gives true");
    let stored = ok(backend.get_user(&user.id).await, "get_user").expect("the user just created");
    assert_eq!(stored.email_verified_at, Some(at), "email_verified_at must be the given time, exactly");
    assert_eq!((stored.email, stored.created_at), (user.email, user.created_at), "nothing else changes");

    let missing = ok(backend.set_email_verified(&UserId::new_random(), at).await, "set_email_verified");
    assert!(!missing, "set_email_verified of an unknown user must return false");
}

/// Deleting a user removes it (by id and by email), reports whether it existed, and frees its email.
pub async fn delete_user_removes_it<B: UserStorage>(backend: B) {
    let user = new_user(&unique_email("delete"));
    let other = new_user(&unique_email("keep"));
    ok(backend.create_user(&user).await, "create_user");
    ok(backend.create_user(&other).await, "create_user");

    assert!(ok(backend.delete_user(&user.id).await, "delete_user"), "deleting an existing user returns true");
    assert_eq!(ok(backend.get_user(&user.id).await, "get_user"), None, "a deleted user is gone");
    assert_eq!(ok(backend.get_user_by_email(&user.email).await, "get_user_by_email"), None, "its email is gone");
    assert!(!ok(backend.delete_user(&user.id).await, "delete_user again"), "a second delete returns false");
    assert_eq!(ok(backend.get_user(&other.id).await, "get_user"), Some(other.to_user()), "others are untouched");

    let again = NewUser { id: UserId::new_random(), ..user.clone() };
    ok(backend.create_user(&again).await, "create_user with the email of a deleted user");
}

/// Of 50 concurrent `create_user` calls with one email (in different cases), exactly one succeeds and
/// every other fails with `Conflict` (not a deadlock, "database is locked", or serialization error).
pub async fn concurrent_create_same_email_one_wins<B: UserStorage>(backend: B) {
    let backend = Arc::new(backend);
    let local = format!("race.{}", random_suffix());
    let results = race(|i| {
        let backend = Arc::clone(&backend);
        let email = if i % 2 == 0 { format!("{local}@example.com") } else { format!("{local}@EXAMPLE.com") };
        let user = new_user(&if i % 3 == 0 { email.to_uppercase() } else { email });
        async move { (user.id.clone(), backend.create_user(&user).await) }
    })
    .await;

    let mut winners = Vec::new();
    let mut losers = Vec::new();
    for (id, result) in results {
        match result {
            Ok(user) => winners.push(user.id),
            Err(StorageError::Conflict(_)) => losers.push(id),
            Err(err) => panic!("concurrent create_user must succeed or conflict, got {}", describe(&err)),
        }
    }
    for id in losers {
        assert_eq!(ok(backend.get_user(&id).await, "get_user"), None, "a refused registration must not be stored");
    }
    assert_eq!(winners.len(), 1, "exactly one of {RACERS} concurrent registrations must succeed: {winners:?}");
    let stored = ok(backend.get_user_by_email(&format!("{local}@example.com")).await, "get_user_by_email");
    assert_eq!(stored.map(|u| u.id), winners.pop(), "the stored user is the one that won");
}

/// Names full of SQL metacharacters, Unicode and 10 KB of text round-trip exactly; a NUL byte is stored
/// exactly or refused with `InvalidData` (and then nothing is stored).
pub async fn text_round_trips_exactly<B: UserStorage>(backend: B) {
    for text in awkward_strings() {
        let mut user = new_user(&unique_email("text"));
        user.name = Some(text.clone());
        ok(backend.create_user(&user).await, "create_user with an awkward name");
        let stored = ok(backend.get_user(&user.id).await, "get_user").expect("the user just created");
        assert_eq!(stored.name.as_deref(), Some(text.as_str()), "the name must round-trip exactly");
    }

    let quoted = format!("o'brien+'--.{}@example.com", random_suffix());
    let user = new_user(&quoted);
    ok(backend.create_user(&user).await, "create_user with quotes in the email");
    let found = ok(backend.get_user_by_email(&quoted.to_uppercase()).await, "get_user_by_email");
    assert_eq!(found, Some(user.to_user()), "an email with quotes must round-trip and be found");

    let mut user = new_user(&unique_email("nul"));
    user.name = Some(NUL_STRING.to_owned());
    if stored_or_invalid_data(backend.create_user(&user).await, "create_user") {
        let stored = ok(backend.get_user(&user.id).await, "get_user").expect("the user just created");
        assert_eq!(stored.name.as_deref(), Some(NUL_STRING), "a stored NUL byte must round-trip exactly");
    } else {
        assert_eq!(ok(backend.get_user(&user.id).await, "get_user"), None, "a refused user must not be stored");
    }
}
