//! Device cookies (OWASP): a signed value given to a browser after a successful login, so that a lock
//! caused by strangers guessing does not apply to the owner's own browser.
//!
//! The value is `v1.<expiry, Unix seconds>.<device id>.<user id>.<HMAC-SHA256>` with the last part in
//! base64url. It is signed, not encrypted: it carries no secret and no address, only the account's
//! opaque id, a random device id and an expiry. It proves nothing on its own (it never logs anyone
//! in); it only selects which failure count a password attempt is charged to.

use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

use crate::error::ToriiError;
use crate::id::UserId;
use crate::token::random_bytes;

type HmacSha256 = Hmac<Sha256>;

/// Shortest key accepted: 256 bits, the size of the HMAC-SHA256 output.
pub const MIN_DEVICE_KEY_LEN: usize = 32;

/// The key device cookies are signed with.
///
/// [`crate::Torii::new`] makes a random one per coordinator, which is enough for a single process:
/// cookies then stop being recognised after a restart (their browsers simply count as unknown until
/// their next successful login). When several instances serve one site, give them all the same key
/// with [`crate::Torii::with_device_key`], for example from a secret in the environment.
#[derive(Clone)]
pub struct DeviceKey(Arc<[u8]>);

impl fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceKey(..)")
    }
}

impl DeviceKey {
    /// A new random key from the OS CSPRNG.
    pub fn random() -> Self {
        Self(Arc::from(random_bytes::<32>().as_slice()))
    }

    /// A key from bytes (at least 32 of them, from a CSPRNG).
    ///
    /// # Errors
    /// [`ToriiError::ConfigError`] when the key is shorter than [`MIN_DEVICE_KEY_LEN`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ToriiError> {
        if bytes.len() < MIN_DEVICE_KEY_LEN {
            return Err(ToriiError::ConfigError(format!(
                "a device cookie key needs at least {MIN_DEVICE_KEY_LEN} bytes"
            )));
        }
        Ok(Self(Arc::from(bytes)))
    }

    fn mac(&self) -> Result<HmacSha256, ToriiError> {
        HmacSha256::new_from_slice(&self.0).map_err(|_| ToriiError::Internal("unusable device key".to_owned()))
    }

    /// Signs a device token for `user_id`, valid until `expires_at`.
    pub(crate) fn sign(&self, user_id: &UserId, device_id: &str, expires_at: DateTime<Utc>) -> Option<DeviceToken> {
        let payload = format!("v1.{}.{device_id}.{user_id}", expires_at.timestamp());
        let mut mac = self.mac().ok()?;
        mac.update(payload.as_bytes());
        let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        Some(DeviceToken(format!("{payload}.{tag}")))
    }

    /// The device id of `token` when it is signed with this key, unexpired at `now`, and issued for
    /// `user_id`; `None` otherwise (whatever the reason: a bad cookie is simply an unknown device).
    pub(crate) fn verify(&self, token: &DeviceToken, user_id: &UserId, now: DateTime<Utc>) -> Option<String> {
        let (payload, tag) = token.0.rsplit_once('.')?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let mut mac = self.mac().ok()?;
        mac.update(payload.as_bytes());
        // Constant-time comparison of the tag.
        mac.verify_slice(&tag).ok()?;
        // The user id comes last and may itself contain dots (custom user managers choose their ids).
        let mut parts = payload.splitn(4, '.');
        let (Some("v1"), Some(expiry), Some(device), Some(user)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let expires_at = DateTime::from_timestamp(expiry.parse().ok()?, 0)?;
        (user == user_id.as_str() && now < expires_at && !device.is_empty()).then(|| device.to_owned())
    }
}

/// A new random device id (16 bytes, base64url).
pub(crate) fn new_device_id() -> String {
    URL_SAFE_NO_PAD.encode(random_bytes::<16>())
}

/// The value of a device cookie, as issued by a successful login and sent back by the browser.
///
/// Its `Debug` is redacted; compare tokens through [`DeviceToken::as_str`] only where needed.
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceToken(String);

impl fmt::Debug for DeviceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeviceToken(..)")
    }
}

impl DeviceToken {
    /// Wraps a value read from a cookie. Nothing is checked here; a value that does not verify simply
    /// counts as no device cookie.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The cookie value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeDelta;

    use super::*;

    #[test]
    fn tokens_verify_only_for_their_user_key_and_lifetime() {
        let key = DeviceKey::random();
        let now = Utc::now();
        let ada = UserId::new("usr_ada");
        let bob = UserId::new("usr_bob");
        let token = key.sign(&ada, "dev1", now + TimeDelta::days(1)).unwrap_or_else(|| DeviceToken::new(""));
        assert_eq!(key.verify(&token, &ada, now).as_deref(), Some("dev1"));
        assert_eq!(key.verify(&token, &bob, now), None, "another account");
        assert_eq!(key.verify(&token, &ada, now + TimeDelta::days(2)), None, "expired");
        assert_eq!(DeviceKey::random().verify(&token, &ada, now), None, "another key");
        let forged = DeviceToken::new(token.as_str().replace("usr_ada", "usr_bob"));
        assert_eq!(key.verify(&forged, &bob, now), None, "edited payload");
        assert_eq!(key.verify(&DeviceToken::new("garbage"), &ada, now), None);
        assert!(!format!("{token:?}").contains("dev1"));
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(DeviceKey::from_bytes(&[7; 31]).is_err());
        assert!(DeviceKey::from_bytes(&[7; 32]).is_ok());
        assert_eq!(format!("{:?}", DeviceKey::random()), "DeviceKey(..)");
    }
}
