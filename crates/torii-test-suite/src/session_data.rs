//! Checks of [`SessionStore`]: the application's key/value session data (a cart, a locale, the step of
//! a wizard), stored under an id the application chooses.
//!
//! The trait reads the time itself (it has no `now` parameter), so the checks never wait for data to
//! expire: they save data whose expiry is already in the past, built with
//! [`SessionData::new_at`]. Live data expires an hour or more from now, so a store whose own maximum
//! lifetime is shorter than a few hours cannot run these checks unchanged.
//!
//! [`cleanup_removes_only_expired_entries`] counts what `cleanup_expired` removes, so it needs a store
//! (a database, a key prefix) that no other test cleans up at the same time; every factory in the
//! workspace gives each test a fresh one.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeDelta;
use torii_core::ToriiError;
use torii_core::session_store::{SessionData, SessionStore};

use crate::fixtures::{awkward_strings, now, random_suffix};
use crate::support::{RACERS, race};

const HOUR: Duration = Duration::from_secs(3600);

/// The longest awkward string used as an id. Ids are keys: the SQL backends index them (SeaORM's
/// `VARCHAR(255)`), so an id is short; values may be long.
const MAX_ID_CHARS: usize = 200;

/// A fresh id, unique even on a shared store.
fn visitor(label: &str) -> String {
    format!("{label}-{}", random_suffix())
}

/// Data holding `pairs` that expires an hour from now.
fn live(pairs: &[(&str, &str)]) -> SessionData {
    with(SessionData::new_at(now(), HOUR), pairs)
}

/// Data holding `pairs` that expired an hour ago.
fn expired(pairs: &[(&str, &str)]) -> SessionData {
    with(SessionData::new_at(now() - TimeDelta::hours(2), HOUR), pairs)
}

fn with(mut data: SessionData, pairs: &[(&str, &str)]) -> SessionData {
    for (key, value) in pairs {
        data.set(*key, *value);
    }
    data
}

/// The value of a call that must succeed. The error is shown with its whole source chain, where the
/// driver's message usually is.
#[track_caller]
fn done<T>(result: Result<T, ToriiError>, call: &str) -> T {
    match result {
        Ok(value) => value,
        Err(err) => {
            let mut text = format!("{err} [{err:?}]");
            let mut source = err.source();
            while let Some(cause) = source {
                text.push_str(&format!("; caused by: {cause}"));
                source = cause.source();
            }
            panic!("{call} should succeed, but failed: {text}")
        }
    }
}

/// What `save` stored under an id is what `load` returns: every key and value, and the expiry to the
/// millisecond. Data without any key is data too.
pub async fn save_then_load_round_trips_every_key<S: SessionStore>(store: S) {
    let id = visitor("round-trip");
    let data = live(&[
        ("user_id", "123"),
        ("cart", r#"[{"sku":"A-1","qty":2}]"#),
        ("locale", "fr-CH"),
        ("empty", ""),
        ("key with spaces", "value with spaces"),
    ]);
    done(store.save(&id, data.clone()).await, "save");
    assert_eq!(done(store.load(&id).await, "load"), Some(data), "load must return exactly what was saved");

    let empty_id = visitor("empty");
    let empty = live(&[]);
    done(store.save(&empty_id, empty.clone()).await, "save of data without keys");
    assert_eq!(done(store.load(&empty_id).await, "load"), Some(empty), "data without keys is still data");
    assert!(store.is_healthy(), "a store that just answered is healthy");
}

/// Saving again replaces the whole entry: keys missing from the new data are gone, and the expiry is
/// the new data's, later or earlier than before.
pub async fn save_replaces_what_was_stored<S: SessionStore>(store: S) {
    let id = visitor("overwrite");
    done(store.save(&id, live(&[("a", "1"), ("b", "2")])).await, "first save");

    let later = with(SessionData::new_at(now(), 2 * HOUR), &[("b", "3"), ("c", "4")]);
    done(store.save(&id, later.clone()).await, "second save");
    assert_eq!(done(store.load(&id).await, "load"), Some(later), "the second save replaces the first whole");

    let sooner = with(SessionData::new_at(now(), HOUR / 2), &[("a", "5")]);
    done(store.save(&id, sooner.clone()).await, "third save");
    assert_eq!(done(store.load(&id).await, "load"), Some(sooner), "a save may also bring the expiry forward");
}

/// `delete` removes the entry and nothing else; deleting it again, or an id never saved, succeeds.
pub async fn delete_removes_only_that_id<S: SessionStore>(store: S) {
    let (gone, kept) = (visitor("deleted"), visitor("kept"));
    let kept_data = live(&[("keep", "me")]);
    done(store.save(&gone, live(&[("drop", "me")])).await, "save");
    done(store.save(&kept, kept_data.clone()).await, "save");

    done(store.delete(&gone).await, "delete");
    assert_eq!(done(store.load(&gone).await, "load"), None, "deleted data must not load");
    assert_eq!(done(store.load(&kept).await, "load"), Some(kept_data), "other ids are untouched");
    done(store.delete(&gone).await, "delete of an id already deleted");
    done(store.delete(&visitor("never-saved")).await, "delete of an id never saved");
}

/// Loading an id that was never saved is `Ok(None)`, not an error.
pub async fn unknown_id_is_none<S: SessionStore>(store: S) {
    assert_eq!(done(store.load(&visitor("unknown")).await, "load of an unknown id"), None);
    assert!(store.is_healthy(), "a store that just answered is healthy");
}

/// Expired data is never returned, whether it was saved already expired or replaced live data: the
/// store compares the expiry with the current time on every load, whether or not it has cleaned up.
pub async fn expired_data_is_never_returned<S: SessionStore>(store: S) {
    let long_ago = visitor("expired-long-ago");
    done(store.save(&long_ago, expired(&[("user_id", "123")])).await, "save of expired data");
    assert_eq!(done(store.load(&long_ago).await, "load"), None, "data that expired an hour ago");

    let just_now = visitor("expired-just-now");
    let at_now = with(SessionData::new_at(now(), Duration::ZERO), &[("user_id", "123")]);
    done(store.save(&just_now, at_now).await, "save of data expiring now");
    assert_eq!(done(store.load(&just_now).await, "load"), None, "data whose expiry is now is expired");

    let replaced = visitor("replaced-by-expired");
    done(store.save(&replaced, live(&[("user_id", "123")])).await, "save");
    assert!(done(store.load(&replaced).await, "load").is_some(), "live data loads");
    done(store.save(&replaced, expired(&[("user_id", "456")])).await, "save of expired data over live data");
    assert_eq!(done(store.load(&replaced).await, "load"), None, "expired data replaces live data, and never loads");
}

/// `cleanup_expired` removes expired entries only and says how many it removed. A store may have
/// nothing left to remove (one that drops already-expired data when it is saved, or whose backend
/// expires entries by itself, returns 0); otherwise the count is exact. Either way nothing live goes.
pub async fn cleanup_removes_only_expired_entries<S: SessionStore>(store: S) {
    let expired_ids: Vec<String> = (0..3).map(|i| visitor(&format!("stale-{i}"))).collect();
    for id in &expired_ids {
        done(store.save(id, expired(&[("n", "1")])).await, "save of expired data");
    }
    let live_entries: Vec<(String, SessionData)> =
        (0..2).map(|i| (visitor(&format!("fresh-{i}")), live(&[("n", "2")]))).collect();
    for (id, data) in &live_entries {
        done(store.save(id, data.clone()).await, "save");
    }

    let removed = done(store.cleanup_expired().await, "cleanup_expired");
    assert!(
        removed == expired_ids.len() || removed == 0,
        "cleanup_expired removed {removed} entries; {} had expired (a store that never keeps expired data \
         removes 0)",
        expired_ids.len()
    );
    assert_eq!(done(store.cleanup_expired().await, "cleanup_expired again"), 0, "nothing is left to remove");
    for (id, data) in &live_entries {
        assert_eq!(done(store.load(id).await, "load"), Some(data.clone()), "cleanup must keep live data");
    }
    for id in &expired_ids {
        assert_eq!(done(store.load(id).await, "load"), None, "expired data stays invisible");
    }
}

/// Ids and values that trip up careless storage code round-trip exactly: SQL metacharacters, quotes
/// and backslashes, Unicode, line breaks, surrounding spaces in ids; the same in keys and values, plus
/// the empty string and 10 KB values.
pub async fn awkward_ids_and_values_round_trip<S: SessionStore>(store: S) {
    let strings = awkward_strings();
    let mut data = live(&[]);
    for (i, text) in strings.iter().enumerate() {
        data.set(format!("value {i}"), text.clone());
        data.set(text.clone(), format!("key {i}"));
    }
    // The random tag keeps ids unique on a shared store; it goes first so that trailing spaces stay
    // trailing.
    let tag = random_suffix();
    let ids: Vec<String> = strings
        .iter()
        .filter(|text| !text.is_empty() && text.chars().count() <= MAX_ID_CHARS)
        .map(|text| format!("{tag}{text}"))
        .collect();
    assert!(ids.len() >= 5, "the awkward strings include short ones");
    for id in &ids {
        done(store.save(id, data.clone()).await, "save under an awkward id");
    }
    for id in &ids {
        let loaded = done(store.load(id).await, "load of an awkward id");
        assert!(loaded.as_ref() == Some(&data), "data under the id {id:?} must load back exactly");
    }
    done(store.delete(&ids[0]).await, "delete of an awkward id");
    assert_eq!(done(store.load(&ids[0]).await, "load"), None);
}

/// Ids are compared exactly: ids that differ only in letter case, a trailing space, or Unicode
/// normalization name different entries (as session tokens do), whatever the database's collation.
pub async fn similar_ids_are_distinct<S: SessionStore>(store: S) {
    let tag = random_suffix();
    let ids: Vec<String> = ["Visitor", "visitor", "visitor ", "caf\u{e9}", "cafe\u{301}"]
        .iter()
        .map(|variant| format!("{tag}-{variant}"))
        .collect();
    let saved: Vec<SessionData> = (0..ids.len()).map(|i| live(&[("n", &i.to_string())])).collect();
    for (id, data) in ids.iter().zip(&saved) {
        done(store.save(id, data.clone()).await, "save");
    }
    for (id, data) in ids.iter().zip(&saved) {
        let loaded = done(store.load(id).await, "load");
        assert!(loaded.as_ref() == Some(data), "the id {id:?} must name its own entry, but loaded {loaded:?}");
    }
}

/// Of many concurrent saves to one id, one wins whole: afterwards the entry is exactly one of the
/// values saved (its keys and its expiry together), never a mix, and every save succeeded.
pub async fn concurrent_saves_leave_one_consistent_value<S: SessionStore + 'static>(store: S) {
    let store = Arc::new(store);
    let id = visitor("contended");
    let base = now();
    let written: Vec<SessionData> = (0..RACERS)
        .map(|i| {
            let seconds = u64::try_from(i).unwrap_or_default();
            let mut data = SessionData::new_at(base, HOUR + Duration::from_secs(seconds));
            data.set("writer", i.to_string());
            data.set("items", "x".repeat(i + 1));
            data.set(format!("only-{i}"), "1");
            data
        })
        .collect();
    let results = race(|i| {
        let (store, id, data) = (Arc::clone(&store), id.clone(), written[i].clone());
        async move { store.save(&id, data).await.map_err(|err| err.to_string()) }
    })
    .await;
    for (i, result) in results.iter().enumerate() {
        assert!(result.is_ok(), "concurrent save #{i} should succeed, but failed: {result:?}");
    }
    let stored = done(store.load(&id).await, "load").expect("one of the saves is stored");
    assert!(written.contains(&stored), "the stored entry must be exactly one of the values saved: {stored:?}");
}
