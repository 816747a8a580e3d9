//! Timestamps: truncated to the microsecond before they are written, and, on SQLite, written as
//! fixed-width UTC text.
//!
//! PostgreSQL (`timestamptz`) and MySQL/MariaDB (`DATETIME(6)`) keep microseconds natively. SQLite has no
//! timestamp type: sqlx would write chrono values as RFC 3339 text whose fraction has 0, 3, 6 or 9
//! digits depending on the value, and how it does so is sqlx's choice, not a stored format. Expiry checks
//! (`expires_at <= now`) compare those columns as text, so this crate writes every timestamp on SQLite in
//! one fixed-width form, where text order is time order and equal instants are equal strings.

use chrono::{DateTime, Timelike as _, Utc};

/// The fixed-width form timestamps take on SQLite: `2026-01-01T00:00:00.000000Z`. It is RFC 3339, so
/// sqlx (and SQLite's own date functions) read it back, and it is the same width for every year from
/// 0000 to 9999.
const SQLITE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// `at` truncated to the microsecond (towards the past), the precision every supported database keeps,
/// so the value written is exactly the value read back.
pub(crate) fn micros(at: DateTime<Utc>) -> DateTime<Utc> {
    // `nanosecond()` is below 2e9 (leap seconds), so the truncated value is always representable.
    at.with_nanosecond(at.nanosecond() / 1_000 * 1_000).unwrap_or(at)
}

/// [`micros`] for an optional timestamp.
pub(crate) fn micros_opt(at: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    at.map(micros)
}

/// The text SQLite stores for `at`.
pub(crate) fn sqlite_text(at: DateTime<Utc>) -> String {
    micros(at).format(SQLITE_FORMAT).to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    fn at(micros: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(micros).unwrap_or_default()
    }

    #[test]
    fn truncates_towards_the_past() {
        let base = at(1_700_000_000_123_456);
        assert_eq!(micros(base + TimeDelta::nanoseconds(999)), base);
        let before_epoch = at(-1_000_001);
        assert_eq!(micros(before_epoch + TimeDelta::nanoseconds(1)), before_epoch);
        assert_eq!(micros_opt(None), None);
    }

    #[test]
    fn sqlite_text_is_fixed_width_and_ordered() {
        let values = [at(0), at(1), at(999_999), at(1_000_000), at(1_700_000_000_000_000), at(253_402_300_799_999_999)];
        let texts: Vec<String> = values.iter().map(|v| sqlite_text(*v)).collect();
        assert_eq!(texts[0], "1970-01-01T00:00:00.000000Z");
        assert_eq!(texts[5], "9999-12-31T23:59:59.999999Z");
        assert!(texts.iter().all(|t| t.len() == 27), "{texts:?}");
        assert!(texts.windows(2).all(|w| w[0] < w[1]), "text order must be time order: {texts:?}");
        for (value, text) in values.iter().zip(&texts) {
            assert_eq!(DateTime::parse_from_rfc3339(text).map(|t| t.to_utc()).ok(), Some(*value));
        }
    }
}
