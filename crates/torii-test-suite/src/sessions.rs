//! Checks of [`SessionStorage`]: expiry is decided by the `now` passed in (`expires_at <= now` is
//! expired), listings, revocation scoped to the owner, batched cleanup, and cascading user deletes.

use chrono::TimeDelta;
use torii_core::storage::{SessionStorage, UserStorage};
use torii_core::{SessionId, SessionRecord, UserId};

use crate::fixtures::{NUL_STRING, at_micros, awkward_strings, new_user, now, session_for, token_hash, unique_email};
use crate::support::{expect_conflict, expect_not_found, ok, stored_or_invalid_data};

/// Creates a user to own sessions.
async fn owner<B: UserStorage>(backend: &B) -> UserId {
    let user = new_user(&unique_email("session-owner"));
    ok(backend.create_user(&user).await, "create_user").id
}

/// A stored session reads back exactly (ids, user agent, IP address, timestamps to the microsecond).
pub async fn create_and_get_round_trips<B: UserStorage + SessionStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let now = now();
    let mut session = session_for(&user_id, now + TimeDelta::days(30));
    session.user_agent = Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0".to_owned());
    session.ip_address = Some("2001:db8::1".to_owned());
    session.created_at = at_micros(1_700_000_000_000_001);
    session.updated_at = at_micros(1_700_000_000_999_999);

    ok(backend.create_session(&session).await, "create_session");
    let stored = ok(backend.get_session(&session.token_hash, now).await, "get_session");
    assert_eq!(stored, Some(session), "get_session must read back exactly what was written");
}

/// An unknown token hash is `None`, not an error.
pub async fn unknown_session_is_none<B: UserStorage + SessionStorage>(backend: B) {
    let found = ok(backend.get_session(&token_hash(), now()).await, "get_session of an unknown hash");
    assert_eq!(found, None, "get_session of an unknown hash");
}

/// A session is live until `now` reaches `expires_at`: at `expires_at` itself, and after, it is never
/// returned.
pub async fn expired_session_is_never_returned<B: UserStorage + SessionStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let expires_at = now() + TimeDelta::hours(1);
    let session = session_for(&user_id, expires_at);
    ok(backend.create_session(&session).await, "create_session");

    let just_before = expires_at - TimeDelta::microseconds(1);
    let live = ok(backend.get_session(&session.token_hash, just_before).await, "get_session");
    assert_eq!(live, Some(session.clone()), "a session is live one microsecond before it expires");
    for (label, at) in [("at expires_at", expires_at), ("after expires_at", expires_at + TimeDelta::seconds(1))] {
        let found = ok(backend.get_session(&session.token_hash, at).await, "get_session");
        assert_eq!(found, None, "a session must not be returned {label} (expires_at <= now means expired)");
        let listed = ok(backend.list_sessions_for_user(&user_id, at).await, "list_sessions_for_user");
        assert!(listed.is_empty(), "an expired session must not be listed {label}");
    }
}

/// `touch_session` sets `updated_at` exactly and nothing else; touching an unknown session is `false`.
pub async fn touch_updates_last_activity<B: UserStorage + SessionStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let now = now();
    let session = session_for(&user_id, now + TimeDelta::days(1));
    ok(backend.create_session(&session).await, "create_session");

    let touched_at = now + TimeDelta::microseconds(5_000_007);
    assert!(ok(backend.touch_session(&session.token_hash, touched_at).await, "touch_session"), "existing session");
    let stored = ok(backend.get_session(&session.token_hash, now).await, "get_session");
    let expected = SessionRecord { updated_at: touched_at, ..session };
    assert_eq!(stored, Some(expected), "touch_session must change updated_at only");

    let unknown = ok(backend.touch_session(&token_hash(), touched_at).await, "touch_session of an unknown hash");
    assert!(!unknown, "touch_session of an unknown session must return false");
}

/// The user's live sessions are listed newest first, without expired ones or other users' sessions.
pub async fn list_is_newest_first_and_live_only<B: UserStorage + SessionStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let other_id = owner(&backend).await;
    let now = now();
    let mut expected = Vec::new();
    // Inserted in an order that is neither oldest- nor newest-first, so the backend must sort.
    for minutes_ago in [20, 5, 40] {
        let mut session = session_for(&user_id, now + TimeDelta::days(1));
        session.created_at = now - TimeDelta::minutes(minutes_ago);
        session.updated_at = session.created_at;
        ok(backend.create_session(&session).await, "create_session");
        expected.push(session);
    }
    ok(backend.create_session(&session_for(&user_id, now)).await, "create_session (expired)");
    ok(backend.create_session(&session_for(&other_id, now + TimeDelta::days(1))).await, "create_session (other)");

    expected.sort_by_key(|s| std::cmp::Reverse(s.created_at));
    let listed = ok(backend.list_sessions_for_user(&user_id, now).await, "list_sessions_for_user");
    assert_eq!(listed, expected, "the user's live sessions, newest first, exactly as stored");
}

/// `delete_session` removes the session and reports whether it existed.
pub async fn delete_session_removes_it<B: UserStorage + SessionStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let now = now();
    let session = session_for(&user_id, now + TimeDelta::days(1));
    let kept = session_for(&user_id, now + TimeDelta::days(1));
    ok(backend.create_session(&session).await, "create_session");
    ok(backend.create_session(&kept).await, "create_session");

    assert!(ok(backend.delete_session(&session.token_hash).await, "delete_session"), "existing session: true");
    assert_eq!(ok(backend.get_session(&session.token_hash, now).await, "get_session"), None, "deleted session");
    assert!(!ok(backend.delete_session(&session.token_hash).await, "delete_session again"), "second delete: false");
    assert_eq!(ok(backend.get_session(&kept.token_hash, now).await, "get_session"), Some(kept), "others remain");
}

/// `delete_session_by_id` only deletes a session of the given user: another user cannot revoke it.
pub async fn delete_by_id_only_for_owner<B: UserStorage + SessionStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let intruder = owner(&backend).await;
    let now = now();
    let session = session_for(&user_id, now + TimeDelta::days(1));
    ok(backend.create_session(&session).await, "create_session");

    let stolen = ok(backend.delete_session_by_id(&intruder, &session.id).await, "delete_session_by_id");
    assert!(!stolen, "another user's delete_session_by_id must return false");
    let still = ok(backend.get_session(&session.token_hash, now).await, "get_session");
    assert_eq!(still, Some(session.clone()), "another user must not be able to delete the session");

    assert!(ok(backend.delete_session_by_id(&user_id, &session.id).await, "delete_session_by_id"), "owner: true");
    assert_eq!(ok(backend.get_session(&session.token_hash, now).await, "get_session"), None, "deleted by owner");
    let again = ok(backend.delete_session_by_id(&user_id, &session.id).await, "delete_session_by_id again");
    assert!(!again, "deleting a deleted session must return false");
    let unknown = ok(backend.delete_session_by_id(&user_id, &SessionId::new_random()).await, "unknown id");
    assert!(!unknown, "deleting an unknown session id must return false");
}

/// `delete_sessions_for_user` deletes all of the user's sessions, or all but `keep`, returns the count,
/// and leaves other users' sessions alone.
pub async fn delete_all_sessions_for_user<B: UserStorage + SessionStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let other_id = owner(&backend).await;
    let now = now();
    let sessions: Vec<_> = (0..4).map(|_| session_for(&user_id, now + TimeDelta::days(1))).collect();
    for session in &sessions {
        ok(backend.create_session(session).await, "create_session");
    }
    let others = session_for(&other_id, now + TimeDelta::days(1));
    ok(backend.create_session(&others).await, "create_session");

    let keep = &sessions[2];
    let deleted = ok(backend.delete_sessions_for_user(&user_id, Some(&keep.id)).await, "delete_sessions_for_user");
    assert_eq!(deleted, 3, "all but the kept session must be deleted");
    let listed = ok(backend.list_sessions_for_user(&user_id, now).await, "list_sessions_for_user");
    assert_eq!(listed, vec![keep.clone()], "only the kept session remains");

    let deleted = ok(backend.delete_sessions_for_user(&user_id, None).await, "delete_sessions_for_user");
    assert_eq!(deleted, 1, "without keep, the remaining session is deleted");
    assert!(ok(backend.list_sessions_for_user(&user_id, now).await, "list").is_empty(), "no sessions remain");
    let deleted = ok(backend.delete_sessions_for_user(&user_id, None).await, "delete_sessions_for_user");
    assert_eq!(deleted, 0, "nothing left to delete");
    let untouched = ok(backend.get_session(&others.token_hash, now).await, "get_session");
    assert_eq!(untouched, Some(others), "other users' sessions must not be deleted");
}

/// Cleanup deletes only sessions expired at or before `now`, at most `batch_size` per call:
/// 25 expired and 3 live sessions give 10, 10, 5, then 0, and the live ones remain.
pub async fn cleanup_removes_expired_in_batches<B: UserStorage + SessionStorage>(backend: B) {
    let user_id = owner(&backend).await;
    // Around the year 2000, so rows of other tests on a shared database are never "expired" here.
    let now = at_micros(946_684_800_000_000);
    for i in 0..25 {
        // i = 0 expires exactly at `now`, which counts as expired.
        ok(backend.create_session(&session_for(&user_id, now - TimeDelta::seconds(i))).await, "create_session");
    }
    let live: Vec<_> = (1..=3).map(|i| session_for(&user_id, now + TimeDelta::microseconds(i))).collect();
    for session in &live {
        ok(backend.create_session(session).await, "create_session");
    }

    let mut counts = Vec::new();
    for _ in 0..4 {
        counts.push(ok(backend.cleanup_expired_sessions(now, 10).await, "cleanup_expired_sessions"));
    }
    assert_eq!(counts, [10, 10, 5, 0], "cleanup must delete at most batch_size expired sessions per call");
    for session in live {
        let found = ok(backend.get_session(&session.token_hash, now).await, "get_session");
        assert_eq!(found, Some(session), "cleanup must not delete live sessions");
    }
}

/// A session for a user that does not exist is refused with `NotFound`.
pub async fn create_for_missing_user_is_not_found<B: UserStorage + SessionStorage>(backend: B) {
    let session = session_for(&UserId::new_random(), now() + TimeDelta::days(1));
    expect_not_found(backend.create_session(&session).await, "create_session for an unknown user");
    assert_eq!(ok(backend.get_session(&session.token_hash, now()).await, "get_session"), None, "nothing stored");
}

/// A second session with an existing token hash, or an existing public id, conflicts.
pub async fn duplicate_session_conflicts<B: UserStorage + SessionStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let now = now();
    let session = session_for(&user_id, now + TimeDelta::days(1));
    ok(backend.create_session(&session).await, "create_session");

    let same_hash =
        SessionRecord { token_hash: session.token_hash.clone(), ..session_for(&user_id, session.expires_at) };
    expect_conflict(backend.create_session(&same_hash).await, "create_session with an existing token hash");
    let same_id = SessionRecord { id: session.id.clone(), ..session_for(&user_id, session.expires_at) };
    expect_conflict(backend.create_session(&same_id).await, "create_session with an existing session id");
    assert_eq!(ok(backend.get_session(&same_id.token_hash, now).await, "get_session"), None, "not stored");
    assert_eq!(ok(backend.get_session(&session.token_hash, now).await, "get_session"), Some(session), "unchanged");
}

/// Deleting a user deletes its sessions.
pub async fn deleting_user_deletes_sessions<B: UserStorage + SessionStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let now = now();
    let session = session_for(&user_id, now + TimeDelta::days(1));
    ok(backend.create_session(&session).await, "create_session");

    assert!(ok(backend.delete_user(&user_id).await, "delete_user"), "delete_user of an existing user");
    assert_eq!(ok(backend.get_session(&session.token_hash, now).await, "get_session"), None, "session deleted too");
    assert!(ok(backend.list_sessions_for_user(&user_id, now).await, "list").is_empty(), "no sessions listed");
    assert!(!ok(backend.delete_session(&session.token_hash).await, "delete_session"), "no row left behind");
}

/// User agents and IP addresses full of SQL metacharacters, Unicode and 10 KB of text round-trip
/// exactly; a NUL byte is stored exactly or refused with `InvalidData`.
pub async fn text_round_trips_exactly<B: UserStorage + SessionStorage>(backend: B) {
    let user_id = owner(&backend).await;
    let now = now();
    for text in awkward_strings() {
        let mut session = session_for(&user_id, now + TimeDelta::days(1));
        session.user_agent = Some(text.clone());
        session.ip_address = Some(text.chars().rev().collect());
        ok(backend.create_session(&session).await, "create_session with awkward text");
        let stored = ok(backend.get_session(&session.token_hash, now).await, "get_session");
        assert_eq!(stored, Some(session), "user_agent and ip_address must round-trip exactly");
    }

    let mut session = session_for(&user_id, now + TimeDelta::days(1));
    session.user_agent = Some(NUL_STRING.to_owned());
    session.ip_address = Some(NUL_STRING.to_owned());
    let stored_nul = stored_or_invalid_data(backend.create_session(&session).await, "create_session");
    let found = ok(backend.get_session(&session.token_hash, now).await, "get_session");
    if stored_nul {
        assert_eq!(found, Some(session), "a stored NUL byte must round-trip exactly");
    } else {
        assert_eq!(found, None, "a refused session must not be stored");
    }
}
