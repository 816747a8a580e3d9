use std::future::Future;

use chrono::{DateTime, TimeDelta, Utc};

use crate::error::{StorageError, StorageResult};
use crate::token::TokenHash;

/// The fixed window a hit at `now` is counted in, and the form a key is stored in.
///
/// Windows are aligned to the Unix epoch: with a 15-minute window, one runs from 10:00 to 10:15, the
/// next from 10:15 to 10:30, on every instance and every backend alike, so instances sharing a database
/// count into the same window without agreeing on anything but the clock. Backends compute it with
/// [`RateLimitWindow::containing`] rather than on their own.
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
    /// How many hits the window has counted, this one included (refused hits count too, so it can
    /// exceed the limit).
    pub count: u32,
    /// When the window ends and the count starts again from zero.
    pub resets_at: DateTime<Utc>,
}

impl RateLimitDecision {
    /// The decision for a window that has counted `count` hits (this one included) against `max`.
    pub fn from_count(count: u64, max: u32, resets_at: DateTime<Utc>) -> Self {
        let count = u32::try_from(count).unwrap_or(u32::MAX);
        Self { allowed: count <= max, count, resets_at }
    }
}

/// Counters for rate limits (login attempts, mail per account, ...), shared by every instance of the
/// application that uses the same storage.
///
/// Hits are counted per key in fixed windows aligned to the epoch (see [`RateLimitWindow`]): at most
/// `max` hits are allowed between the start and the end of a window, and the count starts from zero in
/// the next one. (A burst at the end of one window and the start of the next can therefore reach twice
/// `max` in a short time; choose `max` with that in mind.) A key is meant to be used with one window
/// length; use distinct keys (a purpose prefix) for distinct limits.
///
/// Contract (checked by the conformance suite):
/// - [`RateLimitStorage::hit_rate_limit`] is atomic: of any number of concurrent hits on one key in one
///   window, exactly `max` are allowed (when the window started at zero).
/// - Keys are independent and compared exactly, whatever their length or content.
/// - Counts are kept until the window has ended; afterwards
///   [`RateLimitStorage::cleanup_expired_rate_limits`] may delete them.
/// - Keys are stored hashed ([`RateLimitWindow::key_hash`]), never as given.
pub trait RateLimitStorage: Send + Sync + 'static {
    /// Counts one hit on `key` in the window of length `window` that contains `now`, and says whether it
    /// is allowed: true while the window's count, this hit included, is at most `max`.
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

    /// Deletes up to `batch_size` counts whose window ended at or before `now`; returns how many.
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
    fn decisions_allow_up_to_max() {
        let end = at(0);
        assert!(RateLimitDecision::from_count(3, 3, end).allowed);
        assert!(!RateLimitDecision::from_count(4, 3, end).allowed);
        assert!(!RateLimitDecision::from_count(1, 0, end).allowed);
        assert_eq!(RateLimitDecision::from_count(u64::MAX, 3, end).count, u32::MAX);
    }
}
