//! Checks of [`AuditLogStorage`]: exact round trips, newest-first listing per user, and deletion by age
//! in batches.

use chrono::{DateTime, TimeDelta, Utc};
use torii_core::storage::{AuditEvent, AuditEventKind, AuditLogStorage};
use torii_core::{AuditEventId, UserId};

use crate::fixtures::{NUL_STRING, at_micros, awkward_strings, now, random_suffix};
use crate::support::{expect_conflict, ok, stored_or_invalid_data};

fn user() -> UserId {
    UserId::new(format!("user_{}", random_suffix()))
}

/// An event of `user` at `at` with every field set.
fn event(user: &UserId, kind: AuditEventKind, at: DateTime<Utc>) -> AuditEvent {
    AuditEvent {
        user_id: Some(user.clone()),
        ip_address: Some("2001:db8::7".to_owned()),
        user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0".to_owned()),
        detail: serde_json::json!({ "provider": "github", "attempt": 3, "nested": { "ok": true, "list": [1, null] } }),
        ..AuditEvent::new(kind, at)
    }
}

/// An event reads back exactly, with and without optional fields; recording an id twice conflicts.
pub async fn event_round_trips<B: AuditLogStorage>(backend: B) {
    let alice = user();
    let now = now();
    let full = event(&alice, AuditEventKind::PASSWORD_CHANGED, now);
    ok(backend.record_audit_event(&full).await, "record_audit_event");
    let bare = AuditEvent {
        user_id: Some(alice.clone()),
        ..AuditEvent::new(AuditEventKind::LOGIN_FAILED, now - TimeDelta::seconds(1))
    };
    ok(backend.record_audit_event(&bare).await, "record_audit_event without optional fields");
    let custom = AuditEventKind::new("billing.plan-changed_2").unwrap();
    let own = event(&alice, custom, now - TimeDelta::microseconds(2_000_001));
    ok(backend.record_audit_event(&own).await, "record_audit_event of an application kind");
    let listed = ok(backend.list_audit_events_for_user(&alice, 10).await, "list_audit_events_for_user");
    assert_eq!(listed, [full.clone(), bare, own], "events read back exactly, newest first");

    let again = AuditEvent { at: now + TimeDelta::seconds(1), ..full.clone() };
    expect_conflict(backend.record_audit_event(&again).await, "record_audit_event with a duplicate id");
    // Events without a user are recorded too (a failed login for an unknown address).
    ok(backend.record_audit_event(&AuditEvent::new(AuditEventKind::LOGIN_FAILED, now)).await, "anonymous event");
}

/// Text of any kind (SQL metacharacters, Unicode, 10 KB) round-trips exactly in every text field and in
/// the JSON detail; a NUL byte is stored exactly or refused with `InvalidData`, storing nothing.
pub async fn text_round_trips_exactly<B: AuditLogStorage>(backend: B) {
    let now = now();
    for text in awkward_strings() {
        let alice = user();
        let mut events = vec![AuditEvent {
            ip_address: Some(text.clone()),
            user_agent: Some(text.clone()),
            detail: serde_json::json!({ "note": text.clone(), text.clone(): [text.clone()] }),
            ..event(&alice, AuditEventKind::OAUTH_LINKED, now)
        }];
        // User ids are indexed (and at most 255 characters on some databases): short awkward ones only.
        if text.len() <= 200 {
            let owner = UserId::new(format!("{text}{}", random_suffix()));
            let detail = serde_json::Value::String(text.clone());
            events.push(AuditEvent { detail, ..event(&owner, AuditEventKind::LOGIN_SUCCEEDED, now) });
        }
        for expected in events {
            ok(backend.record_audit_event(&expected).await, "record_audit_event with awkward text");
            let user_id = expected.user_id.clone().unwrap();
            let found = ok(backend.list_audit_events_for_user(&user_id, 5).await, "list_audit_events_for_user");
            assert_eq!(found, [expected], "awkward text must round-trip exactly");
        }
    }

    // NUL in JSON is always escaped, so the detail can hold one everywhere.
    let alice = user();
    let in_detail = AuditEvent {
        detail: serde_json::json!({ "note": NUL_STRING }),
        ..event(&alice, AuditEventKind::OAUTH_LINKED, now)
    };
    ok(backend.record_audit_event(&in_detail).await, "record_audit_event with NUL in the detail");
    assert_eq!(ok(backend.list_audit_events_for_user(&alice, 5).await, "list"), [in_detail]);

    let bob = user();
    let with_nul = AuditEvent {
        ip_address: Some(NUL_STRING.to_owned()),
        user_agent: Some(NUL_STRING.to_owned()),
        ..event(&bob, AuditEventKind::LOGIN_FAILED, now)
    };
    let stored = stored_or_invalid_data(backend.record_audit_event(&with_nul).await, "record_audit_event");
    let found = ok(backend.list_audit_events_for_user(&bob, 5).await, "list_audit_events_for_user");
    if stored {
        assert_eq!(found, [with_nul], "a stored NUL byte must round-trip exactly");
    } else {
        assert!(found.is_empty(), "a refused event must not be stored");
    }
    let nul_user = UserId::new(format!("user{NUL_STRING}"));
    let found = ok(backend.list_audit_events_for_user(&nul_user, 5).await, "list for an id with NUL");
    if !stored {
        assert!(found.is_empty(), "no stored user id can hold a NUL byte here");
    }
}

/// Listing is newest first (to the microsecond), limited, and only the user's own events.
pub async fn list_is_newest_first_limited_and_per_user<B: AuditLogStorage>(backend: B) {
    let (alice, bob) = (user(), user());
    let base = now() - TimeDelta::hours(1);
    // Recorded out of order, one microsecond apart at the end, interleaved with Bob's.
    let offsets = [5, 1, 4, 2, 3];
    let mut alices = Vec::new();
    for offset in offsets {
        let at = base + TimeDelta::minutes(offset) + TimeDelta::microseconds(offset);
        let mine = event(&alice, AuditEventKind::LOGIN_SUCCEEDED, at);
        ok(backend.record_audit_event(&mine).await, "record Alice's event");
        alices.push(mine);
        let theirs = event(&bob, AuditEventKind::LOGIN_FAILED, at + TimeDelta::microseconds(1));
        ok(backend.record_audit_event(&theirs).await, "record Bob's event");
    }
    let close = event(&alice, AuditEventKind::LOGIN_FAILED, alices[0].at + TimeDelta::microseconds(1));
    ok(backend.record_audit_event(&close).await, "record an event one microsecond later");
    alices.push(close);
    alices.sort_by_key(|e| std::cmp::Reverse(e.at));

    let all = ok(backend.list_audit_events_for_user(&alice, 100).await, "list all");
    assert_eq!(all, alices, "newest first, only Alice's");
    let three = ok(backend.list_audit_events_for_user(&alice, 3).await, "list three");
    assert_eq!(three, alices[..3], "the limit keeps the newest");
    assert!(ok(backend.list_audit_events_for_user(&alice, 0).await, "list none").is_empty());
    assert!(ok(backend.list_audit_events_for_user(&user(), 10).await, "list unknown").is_empty());
    let bobs = ok(backend.list_audit_events_for_user(&bob, 100).await, "list Bob's");
    assert_eq!(bobs.len(), 5);
    assert!(bobs.iter().all(|e| e.user_id.as_ref() == Some(&bob)), "only Bob's events");
}

/// Deleting before a cutoff removes only older events (strictly before), oldest first, at most
/// `batch_size` per call.
pub async fn delete_before_cutoff_in_batches<B: AuditLogStorage>(backend: B) {
    // Around the year 2000, so events other tests record at the present time are never deleted here.
    let cutoff = at_micros(946_684_800_000_000);
    let alice = user();
    let mut old_ids: Vec<AuditEventId> = Vec::new();
    for i in 0..25 {
        let old = event(&alice, AuditEventKind::LOGIN_FAILED, cutoff - TimeDelta::days(30) + TimeDelta::minutes(i));
        ok(backend.record_audit_event(&old).await, "record an old event");
        old_ids.push(old.id);
    }
    let at_cutoff = event(&alice, AuditEventKind::PASSWORD_CHANGED, cutoff);
    ok(backend.record_audit_event(&at_cutoff).await, "record an event at the cutoff");
    let later = event(&alice, AuditEventKind::LOGIN_SUCCEEDED, cutoff + TimeDelta::days(1));
    ok(backend.record_audit_event(&later).await, "record a later event");

    let first = ok(backend.delete_audit_events_before(cutoff, 10).await, "delete_audit_events_before");
    assert_eq!(first, 10);
    let remaining = ok(backend.list_audit_events_for_user(&alice, 100).await, "list");
    let remaining_ids: Vec<&AuditEventId> = remaining.iter().map(|e| &e.id).collect();
    for (i, id) in old_ids.iter().enumerate() {
        assert_eq!(remaining_ids.contains(&id), i >= 10, "the oldest go first (event {i})");
    }
    let mut counts = vec![first];
    loop {
        let n = ok(backend.delete_audit_events_before(cutoff, 10).await, "delete_audit_events_before");
        counts.push(n);
        if n == 0 {
            break;
        }
        assert!(counts.len() < 10, "deletion never finished: {counts:?}");
    }
    assert_eq!(counts, [10, 10, 5, 0], "25 older events in batches of 10");
    let left = ok(backend.list_audit_events_for_user(&alice, 100).await, "list");
    assert_eq!(left, [later, at_cutoff], "events at or after the cutoff stay");
}
