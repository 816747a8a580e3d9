//! How values are written to Redis and read back: timestamps as decimal integer microseconds since the
//! Unix epoch, and a session as a hash of named fields.

use chrono::{DateTime, TimeDelta, Utc};
use torii_core::{SessionId, SessionRecord, StorageResult, TokenHash, UserId};

use crate::error::corrupt;

/// The fields of a session hash, in the order [`decode_session`] expects them (the order `HMGET` is
/// asked for). `user_agent` and `ip_address` are absent when the session has none, so an empty string
/// and "none" stay distinct.
pub(crate) const SESSION_FIELDS: [&str; 7] =
    ["id", "user_id", "user_agent", "ip_address", "created_at", "updated_at", "expires_at"];

/// How much longer than its lifetime Redis keeps a session, and how long past its expiry it keeps a
/// denylist entry. Redis's expiry is only a safety net that frees memory (Torii's clock decides what
/// is expired); the margin makes sure the net never drops a record early because of clock skew
/// between the application servers and Redis or a slow write.
pub(crate) const EXPIRY_MARGIN: TimeDelta = TimeDelta::minutes(5);

/// Microseconds since the epoch. chrono's whole range fits in an `i64` of microseconds; the saturating
/// arithmetic only keeps this free of overflow panics. Anything finer than a microsecond is truncated
/// towards the past.
pub(crate) fn to_micros(at: DateTime<Utc>) -> i64 {
    at.timestamp().saturating_mul(1_000_000).saturating_add(i64::from(at.timestamp_subsec_micros()))
}

/// Reads a timestamp written by [`to_micros`]. `what` names the field in the error, never the value.
pub(crate) fn parse_micros(bytes: &[u8], what: &str) -> StorageResult<DateTime<Utc>> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|text| text.parse::<i64>().ok())
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(|| corrupt(what))
}

/// The Redis time-to-live of a new session, in milliseconds: its lifetime (`expires_at - created_at`)
/// plus [`EXPIRY_MARGIN`], counted from when Redis stores it.
///
/// Relative rather than `PEXPIREAT expires_at` on purpose: Torii's clock is injectable, and a session
/// created by a clock that is behind Redis's (a test clock, a replayed import) must not be dropped by
/// Redis while Torii still considers it live. For sessions created "now", the two are the same.
pub(crate) fn session_ttl_millis(record: &SessionRecord) -> i64 {
    let lifetime = (record.expires_at - record.created_at).max(TimeDelta::zero());
    lifetime.checked_add(&EXPIRY_MARGIN).map_or(i64::MAX, |ttl| ttl.num_milliseconds())
}

/// The absolute Redis expiry of a denylist entry, in milliseconds since the epoch: the token's expiry
/// plus [`EXPIRY_MARGIN`].
pub(crate) fn denylist_expiry_millis(expires_at: DateTime<Utc>) -> i64 {
    expires_at.checked_add_signed(EXPIRY_MARGIN).unwrap_or(expires_at).timestamp_millis()
}

/// The field/value pairs `HSET` writes for a session.
pub(crate) fn encode_session(record: &SessionRecord) -> Vec<(&'static str, Vec<u8>)> {
    let mut fields = vec![
        ("id", record.id.as_str().as_bytes().to_vec()),
        ("user_id", record.user_id.as_str().as_bytes().to_vec()),
        ("created_at", to_micros(record.created_at).to_string().into_bytes()),
        ("updated_at", to_micros(record.updated_at).to_string().into_bytes()),
        ("expires_at", to_micros(record.expires_at).to_string().into_bytes()),
    ];
    if let Some(user_agent) = &record.user_agent {
        fields.push(("user_agent", user_agent.as_bytes().to_vec()));
    }
    if let Some(ip_address) = &record.ip_address {
        fields.push(("ip_address", ip_address.as_bytes().to_vec()));
    }
    fields
}

/// Rebuilds a session from the values of [`SESSION_FIELDS`], in that order. `None` when the session
/// does not exist (every field absent).
///
/// # Errors
/// [`torii_core::StorageError::Corrupt`] when a required field is missing or a value cannot be decoded.
pub(crate) fn decode_session(
    token_hash: TokenHash,
    values: Vec<Option<Vec<u8>>>,
) -> StorageResult<Option<SessionRecord>> {
    if values.iter().all(Option::is_none) {
        return Ok(None);
    }
    let [id, user_id, user_agent, ip_address, created_at, updated_at, expires_at]: [Option<Vec<u8>>; 7] =
        values.try_into().map_err(|_| corrupt("a session"))?;
    let required = |value: Option<Vec<u8>>, what: &str| value.ok_or_else(|| corrupt(what));
    let text = |value: Vec<u8>, what: &str| String::from_utf8(value).map_err(|_| corrupt(what));
    Ok(Some(SessionRecord {
        id: SessionId::new(text(required(id, "session id")?, "session id")?),
        token_hash,
        user_id: UserId::new(text(required(user_id, "session user_id")?, "session user_id")?),
        user_agent: user_agent.map(|v| text(v, "session user_agent")).transpose()?,
        ip_address: ip_address.map(|v| text(v, "session ip_address")).transpose()?,
        created_at: parse_micros(&required(created_at, "session created_at")?, "session created_at")?,
        updated_at: parse_micros(&required(updated_at, "session updated_at")?, "session updated_at")?,
        expires_at: parse_micros(&required(expires_at, "session expires_at")?, "session expires_at")?,
    }))
}

/// Reads an optional timestamp (a `GET` of a key that may not exist).
pub(crate) fn parse_optional_micros(value: Option<Vec<u8>>, what: &str) -> StorageResult<Option<DateTime<Utc>>> {
    value.map(|bytes| parse_micros(&bytes, what)).transpose()
}

#[cfg(test)]
mod tests {
    use torii_core::StorageError;

    use super::*;

    fn at(micros: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_micros(micros).unwrap_or_default()
    }

    fn record() -> SessionRecord {
        SessionRecord {
            id: SessionId::new("s1"),
            token_hash: TokenHash::from_stored("h"),
            user_id: UserId::new("u1"),
            user_agent: Some(String::new()),
            ip_address: None,
            created_at: at(1_700_000_000_000_001),
            updated_at: at(1_700_000_000_000_002),
            expires_at: at(1_700_003_600_000_001),
        }
    }

    /// The values `HMGET` would return for the fields `encode_session` wrote.
    fn as_stored(record: &SessionRecord) -> Vec<Option<Vec<u8>>> {
        let fields = encode_session(record);
        SESSION_FIELDS
            .iter()
            .map(|name| fields.iter().find(|(field, _)| field == name).map(|(_, value)| value.clone()))
            .collect()
    }

    #[test]
    fn sessions_round_trip_keeping_empty_and_absent_apart() {
        let record = record();
        let decoded = decode_session(record.token_hash.clone(), as_stored(&record));
        assert_eq!(decoded.ok().flatten(), Some(record));
    }

    #[test]
    fn absent_session_is_none_and_partial_one_is_corrupt() {
        assert!(matches!(decode_session(TokenHash::from_stored("h"), vec![None; 7]), Ok(None)));
        let mut values = as_stored(&record());
        values[4] = None;
        assert!(matches!(decode_session(TokenHash::from_stored("h"), values), Err(StorageError::Corrupt(_))));
        let mut values = as_stored(&record());
        values[6] = Some(b"soon".to_vec());
        let err = decode_session(TokenHash::from_stored("h"), values);
        assert!(matches!(err, Err(StorageError::Corrupt(ref m)) if m.contains("expires_at") && !m.contains("soon")));
    }

    #[test]
    fn timestamps_keep_microseconds_and_reject_garbage() {
        let t = at(-1);
        assert_eq!(parse_micros(to_micros(t).to_string().as_bytes(), "t").ok(), Some(t));
        assert!(parse_micros(b"12.5", "t").is_err());
        assert!(parse_micros(&i64::MAX.to_string().into_bytes(), "t").is_err());
    }

    #[test]
    fn ttl_is_the_lifetime_plus_the_margin_and_never_negative() {
        let mut record = record();
        assert_eq!(session_ttl_millis(&record), 3_600_000 + EXPIRY_MARGIN.num_milliseconds());
        record.expires_at = record.created_at - TimeDelta::hours(1);
        assert_eq!(session_ttl_millis(&record), EXPIRY_MARGIN.num_milliseconds());
        let expiry = at(1_000_000_000_000_000);
        assert_eq!(denylist_expiry_millis(expiry), 1_000_000_000_000 + EXPIRY_MARGIN.num_milliseconds());
    }
}
