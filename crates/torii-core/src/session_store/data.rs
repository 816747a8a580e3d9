//! The key/value data an application keeps for a visitor, with its expiry.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, SubsecRound as _, Utc};
use serde::{Deserialize, Serialize};

/// String keys and values that an application keeps for one visitor (a cart, a locale, the step of a
/// wizard), together with the time they stop being valid.
///
/// This is application data, not a credential: it derives `Debug` and `Serialize` so it can be logged
/// and stored. Never put a secret in it that must not reach the store (with
/// [`CookieSessionStore`](super::CookieSessionStore) it travels, encrypted, to the browser).
///
/// Expiry is kept to the millisecond, so data written to a store and read back compares equal.
///
/// ```
/// use std::time::Duration;
/// use torii_core::session_store::SessionData;
///
/// let mut data = SessionData::new(Duration::from_secs(3600));
/// data.set("locale", "fr-CH");
/// assert_eq!(data.get("locale"), Some("fr-CH"));
/// assert_eq!(data.remove("locale").as_deref(), Some("fr-CH"));
/// assert!(data.is_empty() && !data.is_expired());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionData {
    values: BTreeMap<String, String>,
    #[serde(with = "chrono::serde::ts_milliseconds")]
    expires_at: DateTime<Utc>,
}

impl SessionData {
    /// Empty data that expires `ttl` from now.
    pub fn new(ttl: Duration) -> Self {
        Self::new_at(Utc::now(), ttl)
    }

    /// Empty data that expires `ttl` after `now` (for tests and for stores with their own clock).
    pub fn new_at(now: DateTime<Utc>, ttl: Duration) -> Self {
        Self { values: BTreeMap::new(), expires_at: expiry_after(now, ttl) }
    }

    /// Stores `value` under `key`, returning the value it replaces.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) -> Option<String> {
        self.values.insert(key.into(), value.into())
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.values.remove(key)
    }

    /// True when a value is stored under `key`.
    pub fn contains_key(&self, key: &str) -> bool {
        self.values.contains_key(key)
    }

    /// Removes every value (the expiry stays).
    pub fn clear(&mut self) {
        self.values.clear();
    }

    /// The keys and values, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// How many values are stored.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// True when no value is stored.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The total length in bytes of all keys and values: a lower bound of what the data costs to store.
    /// Useful to refuse growth early, for example before a value would push a cookie over its size limit.
    pub fn payload_len(&self) -> usize {
        self.values.iter().map(|(k, v)| k.len() + v.len()).sum()
    }

    /// When the data stops being valid.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }

    /// True when the data has expired.
    pub fn is_expired(&self) -> bool {
        self.is_expired_at(Utc::now())
    }

    /// True when the data has expired at `now`.
    pub fn is_expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now
    }

    /// Makes the data expire `ttl` from now (whether that is later or earlier than before), for sliding
    /// expiry: call it on each request to keep an active visitor's data alive.
    pub fn extend(&mut self, ttl: Duration) {
        self.extend_at(Utc::now(), ttl);
    }

    /// Makes the data expire `ttl` after `now`.
    pub fn extend_at(&mut self, now: DateTime<Utc>, ttl: Duration) {
        self.expires_at = expiry_after(now, ttl);
    }

    /// Brings the expiry forward to `latest` if it is later: how a store applies its own maximum TTL.
    pub(crate) fn cap_expiry(&mut self, latest: DateTime<Utc>) {
        self.expires_at = self.expires_at.min(latest.trunc_subsecs(3));
    }
}

/// `now + ttl` to the millisecond, saturating instead of overflowing for absurdly long TTLs.
pub(crate) fn expiry_after(now: DateTime<Utc>, ttl: Duration) -> DateTime<Utc> {
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::MAX);
    now.checked_add_signed(ttl).unwrap_or(DateTime::<Utc>::MAX_UTC).trunc_subsecs(3)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn set_get_remove() {
        let mut data = SessionData::new_at(at(0), Duration::from_secs(60));
        assert_eq!(data.set("user_id".to_string(), "123".to_string()), None);
        assert_eq!(data.set("role", "admin"), None);
        assert_eq!(data.set("role", "editor").as_deref(), Some("admin"));
        assert_eq!(data.get("user_id"), Some("123"));
        assert_eq!(data.get("missing"), None);
        assert!(data.contains_key("role"));
        assert_eq!(data.iter().collect::<Vec<_>>(), [("role", "editor"), ("user_id", "123")]);
        assert_eq!((data.len(), data.payload_len()), (2, "role".len() + "editor".len() + "user_id".len() + 3));
        assert_eq!(data.remove("role").as_deref(), Some("editor"));
        assert_eq!(data.remove("role"), None);
        data.clear();
        assert!(data.is_empty());
        assert_eq!(data.payload_len(), 0);
    }

    #[test]
    fn expiry_is_exclusive_and_extend_restarts_from_now() {
        let mut data = SessionData::new_at(at(0), Duration::from_secs(60));
        assert_eq!(data.expires_at(), at(60));
        assert!(!data.is_expired_at(at(59)));
        assert!(data.is_expired_at(at(60)));
        data.extend_at(at(50), Duration::from_secs(60));
        assert!(!data.is_expired_at(at(100)));
        assert!(data.is_expired_at(at(110)));
        // Extending with a shorter TTL shortens: the expiry is always "ttl from now".
        data.extend_at(at(50), Duration::from_secs(1));
        assert_eq!(data.expires_at(), at(51));
    }

    #[test]
    fn real_clock_expiry() {
        assert!(!SessionData::new(Duration::from_secs(3600)).is_expired());
        assert!(SessionData::new(Duration::ZERO).is_expired());
        let mut data = SessionData::new(Duration::ZERO);
        data.extend(Duration::from_secs(3600));
        assert!(!data.is_expired());
    }

    #[test]
    fn huge_ttls_saturate_instead_of_panicking() {
        let data = SessionData::new(Duration::MAX);
        assert!(!data.is_expired());
        assert!(data.expires_at() > at(0));
    }

    #[test]
    fn cap_only_brings_expiry_forward() {
        let mut data = SessionData::new_at(at(0), Duration::from_secs(60));
        data.cap_expiry(at(120));
        assert_eq!(data.expires_at(), at(60));
        data.cap_expiry(at(30));
        assert_eq!(data.expires_at(), at(30));
    }

    #[test]
    fn serde_round_trip_is_exact() {
        let now = Utc::now();
        let mut data = SessionData::new_at(now, Duration::from_millis(1500));
        data.set("cart", "[1,2,3]");
        let json = serde_json::to_string(&data).unwrap();
        assert_eq!(serde_json::from_str::<SessionData>(&json).unwrap(), data);
        assert_eq!(data.expires_at().timestamp_subsec_nanos() % 1_000_000, 0);
    }
}
