//! Times as stored: `timestamptz`, which holds microseconds.

use chrono::{DateTime, Timelike as _, Utc};

/// The instant PostgreSQL stores for `at`: truncated to the microsecond towards the past.
///
/// sqlx would truncate towards 2000-01-01 (PostgreSQL's epoch), which for earlier instants means
/// towards the future. Truncating here keeps every backend's rule ("finer precision is dropped, and a
/// value never expires later than asked"). Torii's own clock never carries more than microseconds,
/// so for its values this changes nothing.
pub(crate) fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    // `nanosecond()` counts from the start of the second (it is never negative, also before 1970), so
    // rounding it down moves towards the past. It exceeds 999,999,999 only inside a leap second, and
    // stays above that after rounding, so `with_nanosecond` cannot fail; `at` is the fallback anyway.
    at.with_nanosecond(at.nanosecond() / 1_000 * 1_000).unwrap_or(at)
}

/// Optional variant of [`micros`].
pub(crate) fn micros_opt(at: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    at.map(micros)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_towards_the_past() {
        let after_epoch = DateTime::from_timestamp(10, 1_999).unwrap_or_default();
        assert_eq!(micros(after_epoch), DateTime::from_timestamp(10, 1_000).unwrap_or_default());
        // 1999-12-31T23:59:59.999999999: stays in 1999.
        let before_pg_epoch = DateTime::from_timestamp(946_684_799, 999_999_999).unwrap_or_default();
        assert_eq!(micros(before_pg_epoch), DateTime::from_timestamp(946_684_799, 999_999_000).unwrap_or_default());
        let before_unix_epoch = DateTime::from_timestamp(-5, 500).unwrap_or_default();
        assert_eq!(micros(before_unix_epoch), DateTime::from_timestamp(-5, 0).unwrap_or_default());
        assert_eq!(micros_opt(None), None);
    }

    #[test]
    fn whole_microseconds_are_unchanged() {
        let at = DateTime::from_timestamp_micros(1_767_225_600_123_456).unwrap_or_default();
        assert_eq!(micros(at), at);
    }
}
