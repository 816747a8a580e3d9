//! A stateless store: the session data lives in an encrypted, authenticated cookie.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use cookie::{Cookie, CookieJar, Key, SameSite};

use super::config::{KEY_LEN, SessionConfig};
use super::data::{SessionData, expiry_after};
use super::error::SessionStoreError;
use super::{Result, SessionStore};
use crate::clock::{Clock, SystemClock};

/// The largest cookie (name, value and attributes, as sent in `Set-Cookie`) the store writes. RFC 6265
/// asks browsers to keep at least 4096 bytes per cookie, and the common ones keep no more.
pub const MAX_COOKIE_BYTES: usize = 4096;

/// Bytes AES-GCM adds around the plaintext: a 12-byte nonce before it and a 16-byte tag after it.
const SEAL_OVERHEAD: usize = 12 + 16;

/// Keeps session data in the browser, sealed with AES-256-GCM so the client can neither read nor alter
/// it. Nothing is stored on the server, so it needs no database and works across any number of
/// instances that share the key.
///
/// # How it is used
///
/// The sealed text *is* the session: [`seal`](Self::seal) (or [`cookie`](Self::cookie), which adds the
/// configured attributes) turns data into a cookie value to send, and [`open`](Self::open) turns the
/// value a browser sends back into data. As a [`SessionStore`], the `session_id` passed to `load` is
/// that cookie value, so code written against `Arc<dyn SessionStore>` can read cookie sessions.
/// Writing needs a response to put the cookie in, which a key/value call cannot reach, so:
///
/// - `load(value)` opens the value (`None` when it is tampered with, sealed by an unknown key, sealed
///   for another cookie name, or expired);
/// - `save` returns [`ToriiError::Unsupported`](crate::ToriiError::Unsupported): seal the data and set
///   the cookie instead; an error is better than silently dropping the data;
/// - `delete` succeeds and does nothing: send [`removal_cookie`](Self::removal_cookie) to the browser;
/// - `cleanup_expired` has nothing to clean up and returns 0.
///
/// # Trade-offs
///
/// - **No server-side revocation.** A copied cookie stays valid until it expires, even after the
///   visitor "logs out", unless the application keeps a denylist. Keep the lifetime short, and keep
///   authentication itself in Torii's sessions, which can be revoked.
/// - **Size.** Browsers keep about 4 KiB per cookie; sealing refuses data whose cookie would exceed
///   [`MAX_COOKIE_BYTES`] ([`SessionStoreError::TooLarge`]). Base64 and encryption add about a third.
/// - **Key rotation.** Sealing uses the newest key; opening also tries the
///   [previous keys](SessionConfig::previous_encryption_keys), so rotating does not log anyone out.
///   Cookies migrate to the new key whenever their data is sealed again. Each key should seal fewer
///   than a few billion cookies (random 96-bit nonces); rotating yearly is plenty.
/// - The key is 64 bytes because that is what the cookie codec takes; its second half is the
///   AES-256-GCM key, and the cookie's name is authenticated with the value, so a value cannot be
///   moved to a cookie of another name.
///
/// ```
/// use std::time::Duration;
/// use torii_core::session_store::{CookieSessionStore, SessionConfig, SessionData};
///
/// let config = SessionConfig {
///     encryption_key: Some("3f".repeat(32) + &"a7".repeat(32)), // use `openssl rand -hex 64`
///     ..Default::default()
/// };
/// let store = CookieSessionStore::new(&config)?;
///
/// let mut data = SessionData::new(Duration::from_secs(600));
/// data.set("theme", "dark");
/// let value = store.seal(&data)?;
/// assert!(!value.contains("dark"));
/// assert_eq!(store.open(&value).unwrap().get("theme"), Some("dark"));
/// assert_eq!(store.open("forged"), None);
/// # Ok::<(), torii_core::session_store::SessionStoreError>(())
/// ```
pub struct CookieSessionStore {
    /// The sealing key first, then the previous keys; never empty.
    keys: Vec<Key>,
    ephemeral_key: bool,
    name: String,
    path: String,
    domain: Option<String>,
    secure: bool,
    http_only: bool,
    same_site: SameSite,
    ttl: std::time::Duration,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for CookieSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CookieSessionStore")
            .field("keys", &format_args!("[{} redacted]", self.keys.len()))
            .field("ephemeral_key", &self.ephemeral_key)
            .field("name", &self.name)
            .field("path", &self.path)
            .field("domain", &self.domain)
            .field("secure", &self.secure)
            .field("http_only", &self.http_only)
            .field("same_site", &self.same_site)
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl CookieSessionStore {
    /// A store configured by `config`.
    ///
    /// Without an `encryption_key` it refuses to start, unless `allow_insecure_key` is set: then it
    /// generates a random key and logs a warning (development only; cookies do not survive a restart).
    ///
    /// # Errors
    /// [`SessionStoreError::MissingKey`] without a key; [`SessionStoreError::InvalidKey`] for a key that
    /// is not 128 hex characters; [`SessionStoreError::InvalidConfig`] for cookie settings that cannot
    /// work (see [`SessionConfig::validate`]).
    pub fn new(config: &SessionConfig) -> std::result::Result<Self, SessionStoreError> {
        Self::with_clock(config, Arc::new(SystemClock))
    }

    /// Like [`CookieSessionStore::new`], reading the time from `clock`.
    ///
    /// # Errors
    /// As [`CookieSessionStore::new`].
    pub fn with_clock(config: &SessionConfig, clock: Arc<dyn Clock>) -> std::result::Result<Self, SessionStoreError> {
        config.validate()?;
        let mut raw = config.keys()?;
        let ephemeral_key = raw.is_empty();
        if ephemeral_key {
            if !config.allow_insecure_key {
                return Err(SessionStoreError::MissingKey);
            }
            tracing::warn!(
                "SESSION STORE INSECURE: no encryption key is configured, so a random one was generated for \
                 this process. Every restart invalidates all session cookies and other instances cannot \
                 read them. Never run like this in production: set SESSION_ENCRYPTION_KEY (openssl rand -hex 64) \
                 and turn allow_insecure_key off."
            );
            raw.push(crate::token::random_bytes::<KEY_LEN>());
        }
        let keys = raw
            .iter()
            .map(|bytes| Key::try_from(&bytes[..]))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|_| SessionStoreError::InvalidKey { which: "encryption key".into(), reason: "too short" })?;
        Ok(Self {
            keys,
            ephemeral_key,
            name: config.cookie_name.clone(),
            path: config.cookie_path.clone(),
            domain: config.cookie_domain.clone(),
            secure: config.cookie_secure,
            http_only: config.cookie_http_only,
            same_site: config.cookie_same_site,
            ttl: config.default_ttl(),
            clock,
        })
    }

    /// Seals `data` into a cookie value. The sealed copy expires at the earlier of the data's expiry
    /// and the configured TTL from now.
    ///
    /// # Errors
    /// [`SessionStoreError::TooLarge`] when the cookie would exceed [`MAX_COOKIE_BYTES`].
    pub fn seal(&self, data: &SessionData) -> std::result::Result<String, SessionStoreError> {
        Ok(self.cookie(data)?.value().to_owned())
    }

    /// Seals `data` into a complete cookie with the configured name and attributes, and a `Max-Age`
    /// that makes the browser drop it when the data expires. Its `Display` is the `Set-Cookie` header
    /// value.
    ///
    /// # Errors
    /// As [`CookieSessionStore::seal`].
    pub fn cookie(&self, data: &SessionData) -> std::result::Result<Cookie<'static>, SessionStoreError> {
        let now = self.clock.now();
        let mut data = data.clone();
        data.cap_expiry(expiry_after(now, self.ttl));
        let json = serde_json::to_string(&data).map_err(SessionStoreError::Encode)?;

        // Refuse hopeless sizes before spending an encryption on them.
        let value_len = (json.len() + SEAL_OVERHEAD).div_ceil(3) * 4;
        let lower_bound = self.name.len() + 1 + value_len;
        if lower_bound > MAX_COOKIE_BYTES {
            return Err(SessionStoreError::TooLarge { size: lower_bound, limit: MAX_COOKIE_BYTES });
        }

        let mut jar = CookieJar::new();
        jar.private_mut(&self.keys[0]).add(Cookie::new(self.name.clone(), json));
        let Some(sealed) = jar.get(&self.name).map(|c| c.value().to_owned()) else {
            return Err(SessionStoreError::Seal);
        };
        let mut cookie = self.with_attributes(Cookie::new(self.name.clone(), sealed));
        let remaining = (data.expires_at() - now).num_seconds().max(0);
        cookie.set_max_age(cookie::time::Duration::seconds(remaining));

        let size = cookie.to_string().len();
        if size > MAX_COOKIE_BYTES {
            return Err(SessionStoreError::TooLarge { size, limit: MAX_COOKIE_BYTES });
        }
        Ok(cookie)
    }

    /// Opens a cookie value sealed by this store (with the current or a previous key). `None` when the
    /// value was tampered with, sealed by another key or for another cookie name, is not a sealed value
    /// at all, or holds expired data. Never panics, whatever the input.
    pub fn open(&self, value: &str) -> Option<SessionData> {
        self.open_at(value, self.clock.now())
    }

    fn open_at(&self, value: &str, now: DateTime<Utc>) -> Option<SessionData> {
        // A value longer than any cookie we write cannot be ours; don't spend work decoding it.
        if value.is_empty() || value.len() > MAX_COOKIE_BYTES {
            return None;
        }
        let jar = CookieJar::new();
        let plaintext = self.keys.iter().find_map(|key| {
            jar.private(key).decrypt(Cookie::new(self.name.clone(), value.to_owned())).map(|c| c.value().to_owned())
        })?;
        let data: SessionData = serde_json::from_str(&plaintext).ok()?;
        (!data.is_expired_at(now)).then_some(data)
    }

    /// A cookie that makes the browser delete the session cookie (empty value, `Max-Age=0`, same name,
    /// path and domain). This is "logging out" of a cookie session on this browser.
    pub fn removal_cookie(&self) -> Cookie<'static> {
        let mut cookie = self.with_attributes(Cookie::new(self.name.clone(), ""));
        cookie.make_removal();
        cookie
    }

    /// The cookie's name.
    pub fn cookie_name(&self) -> &str {
        &self.name
    }

    /// True when the key was generated at start-up because none was configured
    /// ([`SessionConfig::allow_insecure_key`]).
    pub fn uses_ephemeral_key(&self) -> bool {
        self.ephemeral_key
    }

    fn with_attributes(&self, mut cookie: Cookie<'static>) -> Cookie<'static> {
        cookie.set_path(self.path.clone());
        if let Some(domain) = &self.domain {
            cookie.set_domain(domain.clone());
        }
        cookie.set_secure(self.secure);
        cookie.set_http_only(self.http_only);
        cookie.set_same_site(self.same_site);
        cookie
    }
}

#[crate::async_trait]
impl SessionStore for CookieSessionStore {
    /// Opens `session_id` as a sealed cookie value.
    async fn load(&self, session_id: &str) -> Result<Option<SessionData>> {
        Ok(self.open(session_id))
    }

    /// Always fails: a cookie store keeps nothing server-side. Seal the data and set the cookie.
    async fn save(&self, _session_id: &str, _data: SessionData) -> Result<()> {
        Err(SessionStoreError::Unsupported(
            "a cookie session store keeps nothing server-side: seal the data with CookieSessionStore::cookie and \
             send the cookie",
        )
        .into())
    }

    /// Does nothing: there is nothing server-side to delete. Send [`CookieSessionStore::removal_cookie`].
    async fn delete(&self, _session_id: &str) -> Result<()> {
        Ok(())
    }
}

#[cfg(test)]
#[path = "cookie_tests.rs"]
mod tests;
