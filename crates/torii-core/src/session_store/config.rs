//! Settings of the cookie session store, from code or from the environment.

use std::fmt;
use std::time::Duration;

use cookie::SameSite;

use super::error::SessionStoreError;
use crate::settings::{non_empty, parse_flag};

/// Length of an encryption key in bytes (what `openssl rand -hex 64` prints, as 128 hex characters).
pub const KEY_LEN: usize = 64;

/// The cookie name used unless configured otherwise. Distinct from the name of Torii's login cookie, so
/// an application can use both.
pub const DEFAULT_COOKIE_NAME: &str = "torii_app_session";

/// The default lifetime of stored data: one day.
pub const DEFAULT_TTL_SECONDS: u64 = 86_400;

/// The longest accepted lifetime: 400 days, the most that current browsers keep a cookie.
pub const MAX_TTL_SECONDS: u64 = 400 * 86_400;

/// Settings of [`CookieSessionStore`](super::CookieSessionStore) (and the lifetime an application may
/// also pass to [`InMemorySessionStore`](super::InMemorySessionStore)).
///
/// Build it as a struct literal ending in `..Default::default()`, or read it from the environment with
/// [`SessionConfig::from_env`]. The defaults are the safe ones: `Secure`, `HttpOnly`, `SameSite=Lax`,
/// `Path=/`, one day. There is no default key: a cookie store refuses to start without one unless
/// [`allow_insecure_key`](Self::allow_insecure_key) is set.
///
/// `Debug` never shows the keys.
///
/// ```
/// use torii_core::session_store::SessionConfig;
///
/// let config = SessionConfig { cookie_name: "cart".to_string(), default_ttl_seconds: 3600, ..Default::default() };
/// assert!(config.cookie_secure && config.cookie_http_only);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// The key that seals cookies: 64 random bytes written as 128 hex characters
    /// (`openssl rand -hex 64`). Required by the cookie store unless `allow_insecure_key` is set.
    pub encryption_key: Option<String>,
    /// Earlier keys, same format, still accepted for opening cookies but never used to seal. Key
    /// rotation: make the new key `encryption_key`, move the old one here, and drop it once every
    /// cookie it sealed has expired (at most `default_ttl_seconds` later).
    pub previous_encryption_keys: Vec<String>,
    /// The cookie's name. Default: [`DEFAULT_COOKIE_NAME`].
    pub cookie_name: String,
    /// The cookie's `Path`. Default: `/`.
    pub cookie_path: String,
    /// The cookie's `Domain`. Default: none, so only the exact host that set it receives it.
    pub cookie_domain: Option<String>,
    /// Marks the cookie `Secure` (sent over HTTPS only). Default: `true`; turn it off only for local
    /// development over plain http.
    pub cookie_secure: bool,
    /// Marks the cookie `HttpOnly` (invisible to JavaScript). Default: `true`.
    pub cookie_http_only: bool,
    /// The cookie's `SameSite`. Default: `Lax`. `None` requires `cookie_secure`.
    pub cookie_same_site: SameSite,
    /// The longest time sealed data stays valid, in seconds, whatever expiry the data itself asks
    /// for. Default: [`DEFAULT_TTL_SECONDS`]; at most [`MAX_TTL_SECONDS`].
    pub default_ttl_seconds: u64,
    /// Without a key, generate a random one at start-up instead of refusing to start. **Development
    /// only**: every restart invalidates all cookies, and instances do not share the key. A warning is
    /// logged when it happens. A key that is set but malformed is refused either way.
    pub allow_insecure_key: bool,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self {
            encryption_key: None,
            previous_encryption_keys: Vec::new(),
            cookie_name: DEFAULT_COOKIE_NAME.to_owned(),
            cookie_path: "/".to_owned(),
            cookie_domain: None,
            cookie_secure: true,
            cookie_http_only: true,
            cookie_same_site: SameSite::Lax,
            default_ttl_seconds: DEFAULT_TTL_SECONDS,
            allow_insecure_key: false,
        }
    }
}

impl fmt::Debug for SessionConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionConfig")
            .field("encryption_key", &self.encryption_key.as_ref().map(|_| "<redacted>"))
            .field("previous_encryption_keys", &format_args!("[{} redacted]", self.previous_encryption_keys.len()))
            .field("cookie_name", &self.cookie_name)
            .field("cookie_path", &self.cookie_path)
            .field("cookie_domain", &self.cookie_domain)
            .field("cookie_secure", &self.cookie_secure)
            .field("cookie_http_only", &self.cookie_http_only)
            .field("cookie_same_site", &self.cookie_same_site)
            .field("default_ttl_seconds", &self.default_ttl_seconds)
            .field("allow_insecure_key", &self.allow_insecure_key)
            .finish()
    }
}

impl SessionConfig {
    /// Reads the settings from the process environment (the `SESSION_*` variables in the
    /// [table](crate::settings)); unset or empty variables keep their defaults.
    ///
    /// # Errors
    /// [`SessionStoreError::InvalidVariable`] naming the first variable whose value cannot be used
    /// (the message never contains a key), or the errors of [`SessionConfig::validate`].
    pub fn from_env() -> Result<Self, SessionStoreError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`SessionConfig::from_env`], reading variables through `lookup` (so tests need not touch
    /// the process environment).
    ///
    /// # Errors
    /// As [`SessionConfig::from_env`].
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SessionStoreError> {
        let get = |name: &str| non_empty(lookup(name));
        let invalid = |variable: &'static str, reason: String| SessionStoreError::InvalidVariable { variable, reason };
        let flag = |variable: &'static str, default: bool| match get(variable) {
            None => Ok(default),
            Some(value) => parse_flag(&value).map_err(|reason| invalid(variable, reason)),
        };

        let mut config = Self::default();
        if let Some(key) = get("SESSION_ENCRYPTION_KEY") {
            decode_key(&key, "encryption key").map_err(|e| invalid("SESSION_ENCRYPTION_KEY", e.to_string()))?;
            config.encryption_key = Some(key);
        }
        if let Some(keys) = get("SESSION_PREVIOUS_ENCRYPTION_KEYS") {
            config.previous_encryption_keys =
                keys.split(',').map(str::trim).filter(|k| !k.is_empty()).map(str::to_owned).collect();
            for (i, key) in config.previous_encryption_keys.iter().enumerate() {
                decode_key(key, &format!("previous encryption key #{}", i + 1))
                    .map_err(|e| invalid("SESSION_PREVIOUS_ENCRYPTION_KEYS", e.to_string()))?;
            }
        }
        if let Some(name) = get("SESSION_COOKIE_NAME") {
            config.cookie_name = name;
        }
        if let Some(path) = get("SESSION_COOKIE_PATH") {
            config.cookie_path = path;
        }
        config.cookie_domain = get("SESSION_COOKIE_DOMAIN");
        config.cookie_secure = flag("SESSION_COOKIE_SECURE", true)?;
        config.cookie_http_only = flag("SESSION_COOKIE_HTTP_ONLY", true)?;
        if let Some(value) = get("SESSION_COOKIE_SAME_SITE") {
            config.cookie_same_site = match value.to_ascii_lowercase().as_str() {
                "lax" => SameSite::Lax,
                "strict" => SameSite::Strict,
                "none" => SameSite::None,
                _ => {
                    return Err(invalid(
                        "SESSION_COOKIE_SAME_SITE",
                        format!("{value:?} is not one of lax, strict, none"),
                    ));
                }
            };
        }
        if let Some(value) = get("SESSION_TTL_SECONDS") {
            config.default_ttl_seconds = value
                .trim()
                .parse()
                .map_err(|_| invalid("SESSION_TTL_SECONDS", format!("{value:?} is not a whole number of seconds")))?;
        }
        config.allow_insecure_key = flag("SESSION_ALLOW_INSECURE_KEY", false)?;
        config.validate()?;
        Ok(config)
    }

    /// The lifetime as a [`Duration`].
    pub fn default_ttl(&self) -> Duration {
        Duration::from_secs(self.default_ttl_seconds)
    }

    /// Checks that the settings can work: well-formed keys (when set), a valid cookie name, path and
    /// domain, attributes that browsers accept together, and a lifetime within bounds. A missing key is
    /// not an error here; the cookie store reports it when it is created.
    ///
    /// # Errors
    /// [`SessionStoreError::InvalidKey`] or [`SessionStoreError::InvalidConfig`] describing the first
    /// problem.
    pub fn validate(&self) -> Result<(), SessionStoreError> {
        self.keys()?;
        let bad = |reason: String| Err(SessionStoreError::InvalidConfig(reason));
        let name = &self.cookie_name;
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return bad(format!("cookie name {name:?} must be non-empty letters, digits and !#$%&'*+-.^_`|~"));
        }
        let path = &self.cookie_path;
        if !path.starts_with('/') || !path.bytes().all(is_attribute_byte) {
            return bad(format!("cookie path {path:?} must start with '/' and contain no ';' or control characters"));
        }
        if let Some(domain) = &self.cookie_domain
            && (domain.is_empty() || !domain.bytes().all(is_attribute_byte))
        {
            return bad(format!("cookie domain {domain:?} must be a host name"));
        }
        // Browsers silently drop cookies that break these rules; refusing at start-up is kinder.
        if name.starts_with("__Host-") && (!self.cookie_secure || path != "/" || self.cookie_domain.is_some()) {
            return bad("a `__Host-` cookie must be Secure, have path \"/\" and no domain".to_owned());
        }
        if name.starts_with("__Secure-") && !self.cookie_secure {
            return bad("a `__Secure-` cookie must be Secure".to_owned());
        }
        if self.cookie_same_site == SameSite::None && !self.cookie_secure {
            return bad("SameSite=None requires a Secure cookie".to_owned());
        }
        if !(1..=MAX_TTL_SECONDS).contains(&self.default_ttl_seconds) {
            return bad(format!(
                "default_ttl_seconds must be between 1 and {MAX_TTL_SECONDS} (400 days), got {}",
                self.default_ttl_seconds
            ));
        }
        Ok(())
    }

    /// The decoded keys, current first; empty when no key is configured.
    pub(crate) fn keys(&self) -> Result<Vec<[u8; KEY_LEN]>, SessionStoreError> {
        let current = self.encryption_key.iter().map(|key| decode_key(key, "encryption key"));
        let previous = self
            .previous_encryption_keys
            .iter()
            .enumerate()
            .map(|(i, key)| decode_key(key, &format!("previous encryption key #{}", i + 1)));
        current.chain(previous).collect()
    }
}

/// Decodes a hex key, refusing anything but exactly [`KEY_LEN`] bytes. Errors say what is wrong with
/// the shape of the key, never what it contains.
pub(crate) fn decode_key(hex: &str, which: &str) -> Result<[u8; KEY_LEN], SessionStoreError> {
    let invalid = |reason| SessionStoreError::InvalidKey { which: which.to_owned(), reason };
    let hex = hex.trim().as_bytes();
    if hex.len() < 2 * KEY_LEN {
        return Err(invalid("too short: it must be 128 hex characters (64 random bytes, `openssl rand -hex 64`)"));
    }
    if hex.len() > 2 * KEY_LEN {
        return Err(invalid("too long: it must be exactly 128 hex characters (64 bytes)"));
    }
    let mut key = [0u8; KEY_LEN];
    for (byte, pair) in key.iter_mut().zip(hex.chunks_exact(2)) {
        match (nibble(pair[0]), nibble(pair[1])) {
            (Some(high), Some(low)) => *byte = high << 4 | low,
            _ => return Err(invalid("it contains a character that is not a hex digit (0-9, a-f)")),
        }
    }
    if key.iter().all(|&b| b == key[0]) {
        return Err(invalid("every byte is the same: generate a random key with `openssl rand -hex 64`"));
    }
    Ok(key)
}

fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// RFC 6265 cookie-name characters (an RFC 7230 token).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Characters allowed in a `Path` or `Domain` attribute value: printable ASCII except ';'.
fn is_attribute_byte(b: u8) -> bool {
    (0x21..0x7f).contains(&b) && b != b';'
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::HashMap;

    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\
                                  202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";

    fn from(vars: &[(&str, &str)]) -> Result<SessionConfig, SessionStoreError> {
        let vars: HashMap<String, String> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        SessionConfig::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn defaults_are_the_secure_ones() {
        let config = from(&[]).unwrap();
        assert_eq!(config, SessionConfig::default());
        assert_eq!(config.encryption_key, None);
        assert!(config.cookie_secure && config.cookie_http_only && !config.allow_insecure_key);
        assert_eq!(config.cookie_same_site, SameSite::Lax);
        assert_eq!((config.cookie_name.as_str(), config.cookie_path.as_str()), (DEFAULT_COOKIE_NAME, "/"));
        assert_eq!(config.default_ttl(), Duration::from_secs(86_400));
    }

    #[test]
    fn every_variable_is_read() {
        let previous = KEY.replace("00", "ff");
        let config = from(&[
            ("SESSION_ENCRYPTION_KEY", KEY),
            ("SESSION_PREVIOUS_ENCRYPTION_KEYS", &format!(" {previous} ,")),
            ("SESSION_COOKIE_NAME", "cart"),
            ("SESSION_COOKIE_PATH", "/shop"),
            ("SESSION_COOKIE_DOMAIN", "example.com"),
            ("SESSION_COOKIE_SECURE", "false"),
            ("SESSION_COOKIE_HTTP_ONLY", "no"),
            ("SESSION_COOKIE_SAME_SITE", "Strict"),
            ("SESSION_TTL_SECONDS", "3600"),
            ("SESSION_ALLOW_INSECURE_KEY", "1"),
        ])
        .unwrap();
        assert_eq!(config.encryption_key.as_deref(), Some(KEY));
        assert_eq!(config.previous_encryption_keys, [previous]);
        assert_eq!(config.cookie_name, "cart");
        assert_eq!(config.cookie_path, "/shop");
        assert_eq!(config.cookie_domain.as_deref(), Some("example.com"));
        assert!(!config.cookie_secure && !config.cookie_http_only && config.allow_insecure_key);
        assert_eq!(config.cookie_same_site, SameSite::Strict);
        assert_eq!(config.default_ttl_seconds, 3600);
    }

    #[test]
    fn empty_variables_count_as_unset() {
        assert_eq!(
            from(&[("SESSION_ENCRYPTION_KEY", ""), ("SESSION_COOKIE_SECURE", " ")]).unwrap(),
            SessionConfig::default()
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        for (vars, variable) in [
            (&[("SESSION_COOKIE_SECURE", "maybe")][..], "SESSION_COOKIE_SECURE"),
            (&[("SESSION_TTL_SECONDS", "1d")][..], "SESSION_TTL_SECONDS"),
            (&[("SESSION_COOKIE_SAME_SITE", "sometimes")][..], "SESSION_COOKIE_SAME_SITE"),
            (&[("SESSION_ALLOW_INSECURE_KEY", "yes please")][..], "SESSION_ALLOW_INSECURE_KEY"),
        ] {
            let err = from(vars).unwrap_err();
            assert!(matches!(&err, SessionStoreError::InvalidVariable { variable: v, .. } if *v == variable), "{err}");
            assert!(err.to_string().starts_with(variable), "{err}");
        }
    }

    #[test]
    fn key_errors_name_the_variable_but_never_echo_the_key() {
        let short = &KEY[..100];
        let not_hex = KEY.replace('a', "z");
        let long = format!("{KEY}abcd");
        for (variable, value) in [
            ("SESSION_ENCRYPTION_KEY", short),
            ("SESSION_ENCRYPTION_KEY", not_hex.as_str()),
            ("SESSION_ENCRYPTION_KEY", long.as_str()),
            ("SESSION_PREVIOUS_ENCRYPTION_KEYS", not_hex.as_str()),
        ] {
            let message = from(&[(variable, value)]).unwrap_err().to_string();
            assert!(message.starts_with(variable), "{message}");
            assert!(!message.contains(&value[..16]), "the key leaked: {message}");
        }
        let debug = format!("{:?}", from(&[("SESSION_ENCRYPTION_KEY", KEY)]).unwrap());
        assert!(!debug.contains(&KEY[..16]) && debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn keys_must_be_64_random_looking_bytes() {
        assert_eq!(decode_key(KEY, "k").unwrap()[63], 0x3f);
        assert_eq!(decode_key(&KEY.to_uppercase(), "k").unwrap()[10], 0x0a);
        assert!(decode_key(&KEY[..126], "k").is_err());
        assert!(decode_key("your-128-character-hex-key-here", "k").is_err());
        assert!(decode_key(&"0".repeat(128), "k").is_err());
    }

    #[test]
    fn cookie_attribute_combinations_browsers_refuse_are_refused() {
        let refused = [
            SessionConfig { cookie_name: String::new(), ..Default::default() },
            SessionConfig { cookie_name: "a b".into(), ..Default::default() },
            SessionConfig { cookie_name: "a=b".into(), ..Default::default() },
            SessionConfig { cookie_path: "shop".into(), ..Default::default() },
            SessionConfig { cookie_path: "/;x".into(), ..Default::default() },
            SessionConfig { cookie_domain: Some(String::new()), ..Default::default() },
            SessionConfig { cookie_name: "__Host-s".into(), cookie_path: "/a".into(), ..Default::default() },
            SessionConfig { cookie_name: "__Host-s".into(), cookie_secure: false, ..Default::default() },
            SessionConfig { cookie_name: "__Secure-s".into(), cookie_secure: false, ..Default::default() },
            SessionConfig { cookie_same_site: SameSite::None, cookie_secure: false, ..Default::default() },
            SessionConfig { default_ttl_seconds: 0, ..Default::default() },
            SessionConfig { default_ttl_seconds: MAX_TTL_SECONDS + 1, ..Default::default() },
        ];
        for config in refused {
            assert!(matches!(config.validate(), Err(SessionStoreError::InvalidConfig(_))), "{config:?}");
        }
        let host = SessionConfig { cookie_name: "__Host-s".into(), ..Default::default() };
        assert!(host.validate().is_ok());
    }
}
