//! Timestamps as stored: INTEGER microseconds since the Unix epoch (UTC).
//!
//! Integers compare numerically, so `expires_at <= ?` is an index range scan, and microseconds keep
//! every value Torii writes exact (its clocks never carry more precision than that into storage).

use chrono::{DateTime, Utc};
use torii_core::StorageError;

/// Microseconds since the epoch.
///
/// chrono's whole range (about ±262,000 years) fits in an `i64` of microseconds (about ±292,000 years),
/// so the saturating arithmetic never actually saturates; it only keeps this free of overflow panics.
/// Anything finer than a microsecond is truncated towards the past, which never makes a value expire later.
pub(crate) fn to_micros(at: DateTime<Utc>) -> i64 {
    at.timestamp().saturating_mul(1_000_000).saturating_add(i64::from(at.timestamp_subsec_micros()))
}

/// Optional variant of [`to_micros`].
pub(crate) fn to_micros_opt(at: Option<DateTime<Utc>>) -> Option<i64> {
    at.map(to_micros)
}

/// Reads a stored timestamp back. `column` names the column in the error, never the value.
///
/// # Errors
/// [`StorageError::Corrupt`] when the integer is outside chrono's range.
pub(crate) fn from_micros(micros: i64, column: &'static str) -> Result<DateTime<Utc>, StorageError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StorageError::Corrupt(format!("{column} is not a valid timestamp")))
}

/// Optional variant of [`from_micros`].
pub(crate) fn from_micros_opt(
    micros: Option<i64>,
    column: &'static str,
) -> Result<Option<DateTime<Utc>>, StorageError> {
    micros.map(|value| from_micros(value, column)).transpose()
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone as _};

    use super::*;

    #[test]
    fn round_trips_to_the_microsecond() {
        let at =
            Utc.with_ymd_and_hms(2026, 3, 4, 5, 6, 7).single().unwrap_or_default() + Duration::microseconds(123_456);
        assert_eq!(from_micros(to_micros(at), "t").ok(), Some(at));
        let before_epoch =
            Utc.with_ymd_and_hms(1900, 1, 1, 0, 0, 0).single().unwrap_or_default() + Duration::microseconds(1);
        assert_eq!(from_micros(to_micros(before_epoch), "t").ok(), Some(before_epoch));
        assert_eq!(from_micros_opt(to_micros_opt(None), "t").ok(), Some(None));
    }

    #[test]
    fn truncates_nanoseconds() {
        let at = DateTime::from_timestamp(10, 1_999).unwrap_or_default();
        assert_eq!(to_micros(at), 10_000_001);
    }

    #[test]
    fn extremes_do_not_overflow() {
        for at in [DateTime::<Utc>::MAX_UTC, DateTime::<Utc>::MIN_UTC] {
            let micros = to_micros(at);
            assert!(micros != i64::MAX && micros != i64::MIN);
            assert!(from_micros(micros, "t").is_ok());
        }
    }

    #[test]
    fn out_of_range_is_corrupt() {
        let err = from_micros(i64::MAX, "users.created_at");
        assert!(matches!(err, Err(StorageError::Corrupt(ref m)) if m.contains("users.created_at")), "{err:?}");
    }
}
