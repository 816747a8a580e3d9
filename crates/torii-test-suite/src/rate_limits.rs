//! Checks of [`RateLimitStorage`]: counting up to the limit in a sliding window, independent keys,
//! atomic counting under concurrency, resets and batched cleanup.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use torii_core::storage::{RateLimitStorage, RateLimitWindow};

use crate::fixtures::{NUL_STRING, at_micros, awkward_strings, now, random_suffix};
use crate::support::{RACERS, ok, race};

fn fresh_key(label: &str) -> String {
    format!("{label}:{}", random_suffix())
}

/// Hits are allowed up to `max`, with counts 1, 2, ...; later hits in the window are refused and still
/// counted; every decision names the end of the window.
pub async fn counts_up_to_max_then_refuses<B: RateLimitStorage>(backend: B) {
    let key = fresh_key("login");
    let now = now();
    let window = TimeDelta::minutes(15);
    let end = RateLimitWindow::containing(&key, now, window).unwrap().resets_at;
    for expected in 1..=3 {
        let decision = ok(backend.hit_rate_limit(&key, now, window, 3).await, "hit_rate_limit");
        assert!(decision.allowed, "hit {expected} of 3 must be allowed");
        assert_eq!(decision.count, expected);
        assert_eq!(decision.resets_at, end, "the decision names the end of the window");
    }
    for expected in 4..=5 {
        let decision = ok(backend.hit_rate_limit(&key, now, window, 3).await, "hit_rate_limit");
        assert!(!decision.allowed, "hit {expected} of 3 must be refused");
        assert_eq!(decision.count, expected, "refused hits are counted too");
    }
    let refused = ok(backend.hit_rate_limit(&fresh_key("zero"), now, window, 0).await, "hit_rate_limit");
    assert!(!refused.allowed, "a limit of zero allows nothing");
}

/// Hits of the previous window weigh on the next one in proportion to how much of that window the
/// sliding window still covers: a burst at the end of one window cannot be followed by a second full
/// burst at the start of the next (fixed windows would allow twice the limit there).
pub async fn previous_window_weighs_on_the_next<B: RateLimitStorage>(backend: B) {
    let key = fresh_key("reset-password");
    let window = TimeDelta::minutes(1);
    let start = RateLimitWindow::containing(&key, now(), window).unwrap().start;
    let first = ok(backend.hit_rate_limit(&key, start, window, 2).await, "hit at the start");
    let second = ok(backend.hit_rate_limit(&key, start + TimeDelta::seconds(59), window, 2).await, "hit later");
    let third = ok(backend.hit_rate_limit(&key, start + TimeDelta::seconds(30), window, 2).await, "hit");
    assert_eq!((first.allowed, second.allowed, third.allowed), (true, true, false));
    let last_micro = start + window - TimeDelta::microseconds(1);
    assert!(!ok(backend.hit_rate_limit(&key, last_micro, window, 2).await, "hit").allowed, "same window");

    // Four hits were counted in the first window. At the first instant of the next one, all of it is
    // still inside the sliding window: refused, and the refusal names a later time to retry.
    let boundary = ok(backend.hit_rate_limit(&key, start + window, window, 2).await, "hit at the boundary");
    assert!(!boundary.allowed, "a burst at the end of a window still counts at the start of the next");
    assert_eq!(boundary.count, 5, "four before, weighed fully, and this one");
    assert_eq!(boundary.resets_at, start + window + window);
    assert!(boundary.retry_at > start + window, "a refusal names a later time to retry");

    // Once both of those windows have slid out entirely, counting starts afresh.
    let later = ok(backend.hit_rate_limit(&key, start + window * 3, window, 2).await, "hit three windows on");
    assert!(later.allowed, "a window two windows back weighs nothing");
    assert_eq!(later.count, 1);
    assert_eq!(later.retry_at, start + window * 3, "an allowed hit may be retried at once");
}

/// Half way through a window, half of the previous window's count still weighs.
pub async fn previous_window_weighs_in_proportion<B: RateLimitStorage>(backend: B) {
    let key = fresh_key("login");
    let window = TimeDelta::minutes(10);
    let start = RateLimitWindow::containing(&key, now(), window).unwrap().start;
    for _ in 0..10 {
        ok(backend.hit_rate_limit(&key, start + TimeDelta::minutes(9), window, 10).await, "fill the first window");
    }
    let halfway = start + window + TimeDelta::minutes(5);
    for expected in 1..=5_u32 {
        let decision = ok(backend.hit_rate_limit(&key, halfway, window, 10).await, "hit half way");
        assert!(decision.allowed, "hit {expected}: five of the previous ten still weigh, so five more fit");
        assert_eq!(decision.count, 5 + expected);
    }
    let refused = ok(backend.hit_rate_limit(&key, halfway, window, 10).await, "one too many");
    assert!(!refused.allowed, "the sixth hit half way exceeds the limit");
    assert_eq!(refused.count, 11);
}

/// Keys are independent and compared exactly: other keys, keys that differ only in case or by a
/// suffix, and long or awkward keys (NUL characters included) each have their own count.
pub async fn keys_are_independent<B: RateLimitStorage>(backend: B) {
    let now = now();
    let window = TimeDelta::hours(1);
    let base = fresh_key("mail:Ada@Example.com");
    ok(backend.hit_rate_limit(&base, now, window, 1).await, "hit");
    assert!(!ok(backend.hit_rate_limit(&base, now, window, 1).await, "hit").allowed, "the key is exhausted");
    let suffix = random_suffix();
    let mut others =
        vec![base.to_lowercase(), format!("{base} "), format!("{base}x"), base[..base.len() - 1].to_owned()];
    others.extend(awkward_strings().into_iter().map(|text| format!("{text}{suffix}")));
    // Keys are hashed before they are stored, so even a NUL character is fine.
    others.push(format!("{NUL_STRING}{suffix}"));
    others.push(format!("{}{suffix}", "k".repeat(100_000)));
    for other in &others {
        let decision = ok(backend.hit_rate_limit(other, now, window, 1).await, "hit another key");
        assert!(decision.allowed, "a distinct key has its own count ({} bytes)", other.len());
        assert_eq!(decision.count, 1);
    }
    let again = ok(backend.hit_rate_limit(&others[others.len() - 1], now, window, 1).await, "hit the long key");
    assert_eq!(again.count, 2, "a long key is counted exactly, not mistaken for another");
}

/// Of many concurrent hits on one key, exactly `max` are allowed, with counts 1 to `max`.
pub async fn concurrent_hits_allow_exactly_max<B: RateLimitStorage>(backend: B) {
    let key = fresh_key("concurrent");
    let now = now();
    let backend = Arc::new(backend);
    let shared = Arc::new(key.clone());
    let decisions = race(move |_| {
        let backend = Arc::clone(&backend);
        let key = Arc::clone(&shared);
        async move { backend.hit_rate_limit(&key, now, TimeDelta::minutes(5), 5).await }
    })
    .await;
    let mut allowed: Vec<u32> = Vec::new();
    let mut counts: Vec<u32> = Vec::new();
    for decision in decisions {
        let decision = ok(decision, "concurrent hit_rate_limit");
        counts.push(decision.count);
        if decision.allowed {
            allowed.push(decision.count);
        }
    }
    allowed.sort_unstable();
    assert_eq!(allowed, [1, 2, 3, 4, 5], "exactly 5 of {RACERS} concurrent hits may be allowed");
    counts.sort_unstable();
    let expected: Vec<u32> = (1..=u32::try_from(RACERS).unwrap()).collect();
    assert_eq!(counts, expected, "every concurrent hit is counted exactly once");
}

/// Resetting a key forgets its count (in every window); other keys keep theirs; resetting an unknown
/// key is fine.
pub async fn reset_forgets_the_key<B: RateLimitStorage>(backend: B) {
    let (key, other) = (fresh_key("login"), fresh_key("login"));
    let now = now();
    let window = TimeDelta::minutes(10);
    for k in [&key, &other] {
        ok(backend.hit_rate_limit(k, now, window, 1).await, "hit");
        assert!(!ok(backend.hit_rate_limit(k, now, window, 1).await, "hit").allowed);
    }
    ok(backend.reset_rate_limit(&key).await, "reset_rate_limit");
    let after = ok(backend.hit_rate_limit(&key, now, window, 1).await, "hit after the reset");
    assert!(after.allowed, "a reset key starts from zero");
    assert_eq!(after.count, 1);
    assert!(!ok(backend.hit_rate_limit(&other, now, window, 1).await, "hit").allowed, "other keys keep counting");
    ok(backend.reset_rate_limit(&fresh_key("never-used")).await, "reset an unknown key");
}

/// Cleanup deletes only counters that expired (one window after their window ended: until then they
/// weigh on the next window's decisions), at most `batch_size` per call; live counters keep counting.
pub async fn cleanup_removes_expired_counters_in_batches<B: RateLimitStorage>(backend: B) {
    // Around the year 2000, so counters other tests write at the present time are never expired here.
    let now: DateTime<Utc> = at_micros(946_684_800_000_000);
    let window = TimeDelta::minutes(1);
    for _ in 0..25 {
        ok(backend.hit_rate_limit(&fresh_key("old"), now - TimeDelta::minutes(5), window, 3).await, "hit long ago");
    }
    // A counter that expires exactly at `now` has expired: its window ended one window ago.
    ok(backend.hit_rate_limit(&fresh_key("ending"), now - window * 2, window, 3).await, "hit two windows ago");
    // The last window's counter still weighs on this one's decisions: it stays.
    let previous = fresh_key("previous");
    ok(backend.hit_rate_limit(&previous, now - window, window, 3).await, "hit in the last window");
    let live = fresh_key("live");
    ok(backend.hit_rate_limit(&live, now, window, 3).await, "hit now");
    let mut counts = Vec::new();
    loop {
        let n = ok(backend.cleanup_expired_rate_limits(now, 10).await, "cleanup_expired_rate_limits");
        counts.push(n);
        if n == 0 {
            break;
        }
        assert!(counts.len() < 10, "cleanup never finished: {counts:?}");
    }
    assert_eq!(counts, [10, 10, 6, 0], "26 expired counters in batches of 10");
    let decision = ok(backend.hit_rate_limit(&live, now, window, 3).await, "hit the live key");
    assert_eq!(decision.count, 2, "a live counter must survive the cleanup");
    let decision = ok(backend.hit_rate_limit(&previous, now, window, 3).await, "hit the previous key");
    assert_eq!(decision.count, 2, "the previous window's counter must survive the cleanup");
}
