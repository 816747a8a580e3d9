use std::future::Future;

use chrono::{DateTime, TimeDelta, Utc};

use crate::error::{StorageError, StorageResult};
use crate::token::TokenHash;

/// The counting window a hit at `now` is stored in, and the form a key is stored in.
///
/// Hits are stored in windows aligned to the Unix epoch: with a 15-minute window, one runs from 10:00 to
/// 10:15, the next from 10:15 to 10:30, on every instance and every backend alike, so instances sharing a
/// database count into the same row without agreeing on anything but the clock. Backends compute it with
/// [`RateLimitWindow::containing`] rather than on their own.
///
/// Decisions are not made on that fixed window alone, which would let a burst at the end of one window
/// and the start of the next reach twice the limit: they weigh the previous window's count by how much of
/// it still lies within the sliding window that ends at `now` (see [`RateLimitDecision::sliding`]). So a
/// backend reads the previous window's count ([`RateLimitWindow::previous_start`]) along with the hit,
/// and keeps a counter until [`RateLimitWindow::expires_at`], one window after its own end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimitWindow {
    /// The stored key: the SHA-256 (hex) of the caller's key. Keys can be long (an email address with a
    /// purpose prefix) and may hold anything; the hash is 64 ASCII characters, fits any index, and keeps
    /// addresses out of the table.
    pub key_hash: String,
    /// When the window started (inclusive).
    pub start: DateTime<Utc>,
    /// When it ends (exclusive): the next window starts then, with a count of zero.
    pub resets_at: DateTime<Utc>,
}

impl RateLimitWindow {
    /// The window of length `window` that contains `now`, for `key`.
    ///
    /// # Errors
    /// [`StorageError::InvalidData`] when `window` is shorter than a microsecond (zero or negative).
    pub fn containing(key: &str, now: DateTime<Utc>, window: TimeDelta) -> StorageResult<Self> {
        let length = window.num_microseconds().unwrap_or(i64::MAX);
        if length < 1 {
            return Err(StorageError::InvalidData("a rate-limit window must be at least a microsecond".to_owned()));
        }
        let micros = now.timestamp_micros();
        let start_micros = micros - micros.rem_euclid(length);
        let start = DateTime::from_timestamp_micros(start_micros)
            .ok_or_else(|| StorageError::InvalidData("a rate-limit time is out of range".to_owned()))?;
        let resets_at = start
            .checked_add_signed(TimeDelta::microseconds(length))
            .ok_or_else(|| StorageError::InvalidData("a rate-limit window ends out of range".to_owned()))?;
        Ok(Self { key_hash: Self::hash_key(key), start, resets_at })
    }

    /// The window's length.
    pub fn length(&self) -> TimeDelta {
        self.resets_at - self.start
    }

    /// When the window before this one started: its count still weighs on decisions in this one.
    pub fn previous_start(&self) -> DateTime<Utc> {
        self.start - self.length()
    }

    /// When this window's counter may be deleted: one window after it ended, once it no longer weighs on
    /// the decisions of the window after it.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.resets_at.checked_add_signed(self.length()).unwrap_or(self.resets_at)
    }

    /// The stored form of `key` (see [`RateLimitWindow::key_hash`]), for
    /// [`RateLimitStorage::reset_rate_limit`].
    pub fn hash_key(key: &str) -> String {
        TokenHash::of(key).as_str().to_owned()
    }
}

/// What [`RateLimitStorage::hit_rate_limit`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimitDecision {
    /// True when this hit is within the limit: the caller may go ahead.
    pub allowed: bool,
    /// How many hits the sliding window ending now holds, this one included, rounded up (refused hits
    /// count too, so it can exceed the limit). The current counting window's hits count fully; the
    /// previous window's in proportion to how much of it the sliding window still covers.
    pub count: u32,
    /// When the current counting window ends.
    pub resets_at: DateTime<Utc>,
    /// The earliest time at which one more hit would be allowed if no other hit came in meanwhile:
    /// `now` for an allowed hit, later for a refused one (what a `Retry-After` answer announces).
    pub retry_at: DateTime<Utc>,
}

impl RateLimitDecision {
    /// The decision for a window that has counted `count` hits (this one included) against `max`, with
    /// nothing counted in the window before it.
    pub fn from_count(count: u64, max: u32, resets_at: DateTime<Utc>) -> Self {
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        Self { allowed: count <= max, count, resets_at, retry_at: resets_at }
    }

    /// The sliding-window decision at `now`, in `slot` (the counting window that contains `now`), for
    /// `current` hits counted in it (this one included) and `previous` hits counted in the window just
    /// before it.
    ///
    /// The sliding window of the same length that ends at `now` covers all of the current window so far
    /// and the tail of the previous one; the previous count is weighed by the share of it that is still
    /// covered, assuming its hits were spread evenly. A hit is allowed while that estimate is at most
    /// `max`. As `current` is counted atomically and `previous` no longer changes, of any number of
    /// concurrent hits at one instant exactly as many are allowed as the estimate leaves room for.
    pub fn sliding(previous: u64, current: u64, max: u32, now: DateTime<Utc>, slot: &RateLimitWindow) -> Self {
        let length = i128::from(slot.length().num_microseconds().unwrap_or(i64::MAX).max(1));
        let left = i128::from((slot.resets_at - now).num_microseconds().unwrap_or(0)).clamp(0, length);
        let (previous, current, max_hits) = (i128::from(previous), i128::from(current), i128::from(max));
        // Everything in units of hit-microseconds, so the arithmetic is exact.
        let weighed = previous * left + current * length;
        let count = u32::try_from((weighed + length - 1) / length).unwrap_or(u32::MAX);
        let allowed = weighed <= max_hits * length;
        let retry_at = if allowed { now } else { Self::next_allowed(previous, current, max_hits, length, slot) };
        Self { allowed, count, resets_at: slot.resets_at, retry_at: retry_at.max(now) }
    }

    /// When one more hit would be allowed after a refused one, if nothing else is counted meanwhile.
    fn next_allowed(previous: i128, current: i128, max: i128, length: i128, slot: &RateLimitWindow) -> DateTime<Utc> {
        let at = |base: DateTime<Utc>, micros: i128| {
            let micros = i64::try_from(micros).unwrap_or(i64::MAX);
            base.checked_add_signed(TimeDelta::microseconds(micros)).unwrap_or(base)
        };
        if current < max && previous > 0 {
            // Still in this window, once enough of the previous one has slid out:
            // previous * (end - t) + (current + 1) * length <= max * length.
            let left = ((max - current - 1) * length) / previous;
            return at(slot.resets_at, -left.clamp(0, length));
        }
        if max == 0 {
            // Nothing is ever allowed; name the end of the next window.
            return at(slot.resets_at, length);
        }
        // In the next window, once enough of this one has slid out: current * (next_end - t) + length <=
        // max * length.
        let covered = ((max - 1) * length) / current.max(1);
        at(slot.resets_at, (length - covered).max(0))
    }
}

/// Counters for rate limits (login attempts, mail per account, ...), shared by every instance of the
/// application that uses the same storage.
///
/// Hits are counted per key in a sliding window: a hit at `now` is allowed while the hits of the last
/// `window` (this one included) number at most `max`. Backends store one counter per key and
/// epoch-aligned window (see [`RateLimitWindow`]) and decide with [`RateLimitDecision::sliding`], which
/// weighs the previous window's counter by how much of it the sliding window still covers; a burst at
/// the end of one window therefore still counts against the start of the next. A key is meant to be
/// used with one window length; use distinct keys (a purpose prefix) for distinct limits.
///
/// Contract (checked by the conformance suite):
/// - [`RateLimitStorage::hit_rate_limit`] is atomic: of any number of concurrent hits on one key at one
///   instant, exactly as many are allowed as the limit leaves room for (`max` when nothing was counted
///   in the current or the previous window).
/// - The previous window's count weighs on the current window's decisions as
///   [`RateLimitDecision::sliding`] says.
/// - Keys are independent and compared exactly, whatever their length or content.
/// - Counts are kept until one window after their window ended ([`RateLimitWindow::expires_at`]);
///   afterwards [`RateLimitStorage::cleanup_expired_rate_limits`] may delete them.
/// - Keys are stored hashed ([`RateLimitWindow::key_hash`]), never as given.
pub trait RateLimitStorage: Send + Sync + 'static {
    /// Counts one hit on `key` at `now` and says whether it is allowed: true while the sliding window of
    /// length `window` that ends at `now` holds at most `max` hits, this one included (see
    /// [`RateLimitDecision::sliding`]).
    ///
    /// # Errors
    /// [`StorageError::InvalidData`] when `window` is shorter than a microsecond.
    fn hit_rate_limit(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: TimeDelta,
        max: u32,
    ) -> impl Future<Output = StorageResult<RateLimitDecision>> + Send;

    /// Forgets every count of `key` (for example after a successful login), so its next hit starts a
    /// fresh count. Resetting an unknown key is not an error.
    fn reset_rate_limit(&self, key: &str) -> impl Future<Output = StorageResult<()>> + Send;

    /// Deletes up to `batch_size` counts that expired ([`RateLimitWindow::expires_at`]) at or before
    /// `now`; returns how many.
    fn cleanup_expired_rate_limits(
        &self,
        now: DateTime<Utc>,
        batch_size: u32,
    ) -> impl Future<Output = StorageResult<u64>> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(micros: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(micros).unwrap_or_default()
    }

    #[test]
    fn windows_are_aligned_to_the_epoch() {
        let minute = TimeDelta::minutes(1);
        let w = RateLimitWindow::containing("k", at(90_000_000), minute).ok();
        assert_eq!(w.as_ref().map(|w| (w.start, w.resets_at)), Some((at(60_000_000), at(120_000_000))));
        // The first instant of a window belongs to it; the last microsecond of the previous one does not.
        let w = RateLimitWindow::containing("k", at(120_000_000), minute).ok();
        assert_eq!(w.map(|w| w.start), Some(at(120_000_000)));
        let w = RateLimitWindow::containing("k", at(119_999_999), minute).ok();
        assert_eq!(w.map(|w| w.start), Some(at(60_000_000)));
        // Before the epoch too (rounded down, not towards zero).
        let w = RateLimitWindow::containing("k", at(-1), minute).ok();
        assert_eq!(w.map(|w| w.start), Some(at(-60_000_000)));
    }

    #[test]
    fn keys_are_stored_hashed() {
        let w = RateLimitWindow::containing("login:ada@example.com", at(0), TimeDelta::seconds(1)).ok();
        let hash = w.map(|w| w.key_hash).unwrap_or_default();
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains("ada"));
        assert_eq!(hash, TokenHash::of("login:ada@example.com").as_str());
    }

    #[test]
    fn empty_or_negative_windows_are_refused() {
        for window in [TimeDelta::zero(), TimeDelta::nanoseconds(999), TimeDelta::seconds(-1)] {
            let result = RateLimitWindow::containing("k", at(0), window);
            assert!(matches!(result, Err(StorageError::InvalidData(_))), "{window:?}: {result:?}");
        }
    }

    #[test]
    fn sliding_decisions_weigh_the_previous_window() {
        let minute = TimeDelta::minutes(1);
        let slot = RateLimitWindow::containing("k", at(60_000_000), minute).unwrap_or_else(|_| unreachable!());
        // At the start of a window, the whole previous window is still inside the sliding window.
        let d = RateLimitDecision::sliding(10, 1, 10, at(60_000_000), &slot);
        assert!(!d.allowed);
        assert_eq!(d.count, 11);
        // Half way through, half of it is.
        let d = RateLimitDecision::sliding(10, 5, 10, at(90_000_000), &slot);
        assert!(d.allowed);
        assert_eq!(d.count, 10);
        let d = RateLimitDecision::sliding(10, 6, 10, at(90_000_000), &slot);
        assert!(!d.allowed);
        assert_eq!(d.count, 11);
        // With nothing before, it is the plain count.
        let d = RateLimitDecision::sliding(0, 3, 3, at(60_000_000), &slot);
        assert!(d.allowed);
        assert_eq!((d.count, d.retry_at, d.resets_at), (3, at(60_000_000), at(120_000_000)));
    }

    #[test]
    fn refused_decisions_say_when_to_retry() {
        let minute = TimeDelta::minutes(1);
        let slot = RateLimitWindow::containing("k", at(60_000_000), minute).unwrap_or_else(|_| unreachable!());
        // 10 before, 5 now, limit 10, at 60 s: one more fits once previous * left <= 4 * 60 s, i.e. when
        // 24 s are left in the window.
        let d = RateLimitDecision::sliding(10, 5, 10, at(60_000_000), &slot);
        assert!(!d.allowed);
        assert_eq!(d.retry_at, at(96_000_000));
        // The window itself is full: wait until enough of it slid out of the next one.
        let d = RateLimitDecision::sliding(0, 4, 3, at(70_000_000), &slot);
        assert!(!d.allowed);
        assert_eq!(d.retry_at, at(150_000_000));
        // A retry time is never in the past.
        assert!(d.retry_at >= at(70_000_000));
    }

    #[test]
    fn decisions_allow_up_to_max() {
        let end = at(0);
        assert!(RateLimitDecision::from_count(3, 3, end).allowed);
        assert!(!RateLimitDecision::from_count(4, 3, end).allowed);
        assert!(!RateLimitDecision::from_count(1, 0, end).allowed);
        assert_eq!(RateLimitDecision::from_count(u64::MAX, 3, end).count, u32::MAX);
    }
}
