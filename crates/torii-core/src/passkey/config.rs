//! The relying party: who the passkeys belong to, and which web origins may use them.

use std::sync::Arc;

use chrono::Duration;
use webauthn_rs::prelude::Url;
use webauthn_rs::{Webauthn, WebauthnBuilder};

use crate::error::ToriiError;
use crate::token::random_bytes;
use crate::torii::Torii;

/// How long a ceremony may take between its start and its completion, by default.
pub const DEFAULT_CHALLENGE_LIFETIME: Duration = Duration::minutes(5);

/// Longest accepted ceremony lifetime: a challenge is a single-use secret, and a long-lived one is a
/// bigger target.
const MAX_CHALLENGE_LIFETIME: Duration = Duration::hours(1);

/// The WebAuthn relying party: its id (a domain), its display name, and the exact origins browsers may
/// run ceremonies from.
///
/// Passkeys are bound to the relying-party id for good: changing it later makes every registered
/// passkey unusable. Origins must be `https://` (plain `http://` only for `localhost`, as browsers
/// allow) and on the relying-party id or a subdomain of it.
///
/// ```
/// use torii_core::PasskeyConfig;
///
/// let config = PasskeyConfig::new("example.com", "Example")
///     .with_origin("https://example.com")
///     .with_origin("https://app.example.com");
/// assert!(config.validate().is_ok());
/// assert!(PasskeyConfig::new("example.com", "Example").with_origin("https://evil.test").validate().is_err());
/// ```
#[derive(Clone)]
pub struct PasskeyConfig {
    rp_id: String,
    rp_name: String,
    origins: Vec<String>,
    challenge_lifetime: Duration,
    decoy_key: Option<[u8; 32]>,
}

impl std::fmt::Debug for PasskeyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasskeyConfig")
            .field("rp_id", &self.rp_id)
            .field("rp_name", &self.rp_name)
            .field("origins", &self.origins)
            .field("challenge_lifetime", &self.challenge_lifetime)
            .field("decoy_key", &self.decoy_key.map(|_| "<redacted>"))
            .finish()
    }
}

impl PasskeyConfig {
    /// A relying party with this id (a domain such as `example.com`, or `localhost` in development) and
    /// display name. Add at least one origin with [`PasskeyConfig::with_origin`].
    pub fn new(rp_id: impl Into<String>, rp_name: impl Into<String>) -> Self {
        Self {
            rp_id: rp_id.into(),
            rp_name: rp_name.into(),
            origins: Vec::new(),
            challenge_lifetime: DEFAULT_CHALLENGE_LIFETIME,
            decoy_key: None,
        }
    }

    /// Allows ceremonies from this origin (`scheme://host[:port]`, no path).
    pub fn with_origin(mut self, origin: impl Into<String>) -> Self {
        self.origins.push(origin.into());
        self
    }

    /// Sets how long a started ceremony stays valid (default five minutes, at most one hour).
    pub fn with_challenge_lifetime(mut self, lifetime: Duration) -> Self {
        self.challenge_lifetime = lifetime;
        self
    }

    /// Sets the secret the decoy credential ids for unknown emails are derived from. Without it a random
    /// key is made at start-up, so the decoys change when the server restarts; set the same key on every
    /// instance to keep them identical everywhere.
    pub fn with_decoy_key(mut self, key: [u8; 32]) -> Self {
        self.decoy_key = Some(key);
        self
    }

    /// The relying-party id.
    pub fn rp_id(&self) -> &str {
        &self.rp_id
    }

    /// The origins ceremonies are accepted from.
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`ToriiError::ConfigError`] naming the problem: an rp id that is not a domain, an empty name, no
    /// origin, an origin that is not `https` (or `http://localhost`), has a path, or is not on the rp id,
    /// or a challenge lifetime that is not positive or exceeds one hour.
    pub fn validate(&self) -> Result<(), ToriiError> {
        self.parsed_origins().map(|_| ())
    }

    fn parsed_origins(&self) -> Result<Vec<Url>, ToriiError> {
        let fail = |message: String| Err(ToriiError::ConfigError(format!("passkeys: {message}")));
        if !is_domain(&self.rp_id) {
            return fail(format!("the relying-party id {:?} is not a lower-case domain name", self.rp_id));
        }
        let name = self.rp_name.trim();
        if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
            return fail("the relying-party name must be 1 to 100 printable characters".to_owned());
        }
        if self.challenge_lifetime <= Duration::zero() || self.challenge_lifetime > MAX_CHALLENGE_LIFETIME {
            return fail("the challenge lifetime must be positive and at most one hour".to_owned());
        }
        if self.origins.is_empty() {
            return fail("at least one origin is required".to_owned());
        }
        let mut parsed = Vec::with_capacity(self.origins.len());
        for origin in &self.origins {
            let Ok(url) = Url::parse(origin) else {
                return fail(format!("the origin {origin:?} is not a URL"));
            };
            let Some(host) = url.domain() else {
                return fail(format!("the origin {origin:?} has no domain name (IP addresses cannot be used)"));
            };
            let local = host == "localhost" || host.ends_with(".localhost");
            if !(url.scheme() == "https" || (url.scheme() == "http" && local)) {
                return fail(format!("the origin {origin:?} must use https (http only on localhost)"));
            }
            if url.path() != "/" || url.query().is_some() || url.fragment().is_some() || !url.username().is_empty() {
                return fail(format!("the origin {origin:?} must be scheme://host[:port] only"));
            }
            if host != self.rp_id && !host.ends_with(&format!(".{}", self.rp_id)) {
                return fail(format!("the origin {origin:?} is not on the relying-party id {:?}", self.rp_id));
            }
            parsed.push(url);
        }
        Ok(parsed)
    }

    pub(crate) fn build(&self) -> Result<PasskeyService, ToriiError> {
        let origins = self.parsed_origins()?;
        let invalid = |_| ToriiError::ConfigError("passkeys: the relying party was refused by webauthn-rs".to_owned());
        let (first, rest) =
            origins.split_first().ok_or_else(|| ToriiError::ConfigError("passkeys: no origin".into()))?;
        let timeout = self.challenge_lifetime.to_std().unwrap_or(std::time::Duration::from_secs(300));
        let mut builder = WebauthnBuilder::new(&self.rp_id, first).map_err(invalid)?;
        for origin in rest {
            builder = builder.append_allowed_origin(origin);
        }
        let webauthn = builder.rp_name(self.rp_name.trim()).timeout(timeout).build().map_err(invalid)?;
        Ok(PasskeyService {
            webauthn,
            rp_id: self.rp_id.clone(),
            challenge_lifetime: self.challenge_lifetime,
            decoy_key: self.decoy_key.unwrap_or_else(random_bytes::<32>),
        })
    }
}

/// A lower-case DNS name: labels of letters, digits and hyphens, not an IP address.
fn is_domain(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 253
        && value.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        })
        && value.rsplit('.').next().is_some_and(|tld| tld.chars().any(|c| c.is_ascii_lowercase()))
}

/// The configured relying party, shared by every clone of the coordinator.
pub(crate) struct PasskeyService {
    pub(crate) webauthn: Webauthn,
    pub(crate) rp_id: String,
    pub(crate) challenge_lifetime: Duration,
    pub(crate) decoy_key: [u8; 32],
}

impl<S> Torii<S> {
    /// Enables passkeys for this relying party. Call it at start-up: the configuration is checked here.
    ///
    /// # Errors
    /// [`ToriiError::ConfigError`] when the configuration is unusable (see [`PasskeyConfig::validate`]).
    pub fn with_passkeys(mut self, config: PasskeyConfig) -> Result<Self, ToriiError> {
        let service = config.build()?;
        tracing::info!(rp_id = %service.rp_id, origins = ?config.origins, "passkeys enabled");
        self.passkeys = Some(Arc::new(service));
        Ok(self)
    }

    /// The relying party, or [`ToriiError::ServiceNotFound`] when passkeys are not configured.
    pub(crate) fn passkey_service(&self) -> Result<&PasskeyService, ToriiError> {
        self.passkeys.as_deref().ok_or_else(|| ToriiError::ServiceNotFound("passkey".to_owned()))
    }

    /// Whether passkeys are configured.
    pub fn passkeys_enabled(&self) -> bool {
        self.passkeys.is_some()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::expect_used)]

    use super::*;

    fn check(config: PasskeyConfig) -> Result<(), String> {
        config.validate().map_err(|e| e.to_string())
    }

    #[test]
    fn accepts_https_origins_on_the_rp_id_and_http_localhost() {
        assert_eq!(check(PasskeyConfig::new("example.com", "Ex").with_origin("https://example.com")), Ok(()));
        assert_eq!(check(PasskeyConfig::new("example.com", "Ex").with_origin("https://a.example.com:8443")), Ok(()));
        assert_eq!(check(PasskeyConfig::new("localhost", "Dev").with_origin("http://localhost:3000")), Ok(()));
    }

    #[test]
    fn refuses_unusable_configurations() {
        let bad = [
            PasskeyConfig::new("example.com", "Ex"),
            PasskeyConfig::new("Example.com", "Ex").with_origin("https://example.com"),
            PasskeyConfig::new("127.0.0.1", "Ex").with_origin("http://127.0.0.1:3000"),
            PasskeyConfig::new("example.com", " ").with_origin("https://example.com"),
            PasskeyConfig::new("example.com", "Ex").with_origin("http://example.com"),
            PasskeyConfig::new("example.com", "Ex").with_origin("https://example.com/login"),
            PasskeyConfig::new("example.com", "Ex").with_origin("https://notexample.com"),
            PasskeyConfig::new("example.com", "Ex").with_origin("not a url"),
            PasskeyConfig::new("example.com", "Ex")
                .with_origin("https://example.com")
                .with_challenge_lifetime(Duration::zero()),
            PasskeyConfig::new("example.com", "Ex")
                .with_origin("https://example.com")
                .with_challenge_lifetime(Duration::days(1)),
        ];
        for config in bad {
            let err = check(config.clone()).expect_err(&format!("{config:?} must be refused"));
            assert!(err.starts_with("configuration error: passkeys:"), "{err}");
        }
    }

    #[test]
    fn debug_hides_the_decoy_key() {
        let config = PasskeyConfig::new("example.com", "Ex").with_decoy_key([7; 32]);
        assert!(format!("{config:?}").contains("<redacted>"));
        assert!(!format!("{config:?}").contains("7, 7"));
    }
}
