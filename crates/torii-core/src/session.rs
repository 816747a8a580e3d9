//! Sessions: the token a client holds, the session it names, and how sessions are configured.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use subtle::ConstantTimeEq as _;

use crate::error::ToriiError;
use crate::id::{SessionId, UserId};
use crate::jwt::{JwtClaims, JwtConfig, JwtMetadata, SESSION_TOKEN_TYPE};
use crate::token::{TokenHash, generate_secret_token};

/// The bearer secret that identifies a session.
///
/// It is a secret: `Debug` is redacted, equality is constant-time, and it does not implement `Serialize`
/// so it cannot end up in a JSON body by accident. `Display` and [`SessionToken::as_str`] give the raw
/// text for the one place it belongs: the cookie or `Authorization` header sent to its owner.
#[derive(Clone)]
#[non_exhaustive]
pub enum SessionToken {
    /// A random token that names a session stored server-side.
    Opaque(String),
    /// A signed JSON Web Token that carries the session itself.
    Jwt(String),
}

impl SessionToken {
    /// Wraps a token received from a client, telling a JWT (three dot-separated base64url parts) from an
    /// opaque token. Opaque tokens never contain a '.'.
    pub fn new(token: &str) -> Self {
        if looks_like_jwt(token) { Self::Jwt(token.to_owned()) } else { Self::Opaque(token.to_owned()) }
    }

    /// A fresh opaque token: 32 bytes from the OS CSPRNG, base64url without padding (43 characters).
    pub fn new_random() -> Self {
        Self::Opaque(generate_secret_token())
    }

    /// The token text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Opaque(s) | Self::Jwt(s) => s,
        }
    }

    /// True for a JWT.
    pub fn is_jwt(&self) -> bool {
        matches!(self, Self::Jwt(_))
    }

    /// The SHA-256 of the token: the key storage keeps instead of the token.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(self.as_str())
    }

    /// Signs the claims into a JWT session token (`iss`/`aud` are filled from the configuration when
    /// unset).
    ///
    /// # Errors
    /// [`ToriiError::ConfigError`] when the configuration's key is unusable.
    pub fn new_jwt(claims: &JwtClaims, config: &JwtConfig) -> Result<Self, ToriiError> {
        crate::jwt::sign(claims, config).map(Self::Jwt)
    }

    /// Verifies a JWT session token against the configuration (signature with the algorithm pinned to
    /// the key, expiry, `nbf`, issuer and audience) and returns its claims. This checks the token only;
    /// revocation is checked by `Torii::get_session`.
    ///
    /// # Errors
    /// [`ToriiError::InvalidToken`] with the reason; [`ToriiError::ConfigError`] for an unusable key.
    pub fn verify_jwt(&self, config: &JwtConfig) -> Result<JwtClaims, ToriiError> {
        crate::jwt::verify(self.as_str(), config, chrono::Utc::now().timestamp())
    }
}

fn looks_like_jwt(token: &str) -> bool {
    let mut parts = 0;
    for part in token.split('.') {
        parts += 1;
        if part.is_empty() || !part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return false;
        }
    }
    parts == 3
}

impl fmt::Display for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Opaque(_) => f.write_str("SessionToken::Opaque(<redacted>)"),
            Self::Jwt(_) => f.write_str("SessionToken::Jwt(<redacted>)"),
        }
    }
}

impl PartialEq for SessionToken {
    fn eq(&self, other: &Self) -> bool {
        self.is_jwt() == other.is_jwt() && bool::from(self.as_str().as_bytes().ct_eq(other.as_str().as_bytes()))
    }
}

impl Eq for SessionToken {}

/// An authenticated session, as returned to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Public identifier of the session (safe to show in a device list; not a credential).
    pub id: SessionId,
    /// The secret token that authenticates requests for this session.
    pub token: SessionToken,
    /// Whose session it is.
    pub user_id: UserId,
    /// User agent of the client that created the session.
    pub user_agent: Option<String>,
    /// IP address of the client that created the session.
    pub ip_address: Option<String>,
    /// When the session was created.
    pub created_at: DateTime<Utc>,
    /// Last recorded activity.
    pub updated_at: DateTime<Utc>,
    /// When the session stops being valid.
    pub expires_at: DateTime<Utc>,
}

impl Session {
    /// True when the session has expired at `now`.
    pub fn is_expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now
    }

    /// True when the session has expired.
    pub fn is_expired(&self) -> bool {
        self.is_expired_at(Utc::now())
    }

    /// Starts building a session by hand (for example to mint a JWT with [`SessionToken::new_jwt`]).
    pub fn builder() -> SessionBuilder {
        SessionBuilder::default()
    }

    /// The JWT claims describing this session: `sub` = user id, `iat`/`exp` from the timestamps, `jti` =
    /// the session id, and the user agent and IP address when `include_metadata` is true.
    pub fn to_jwt_claims(&self, issuer: Option<String>, include_metadata: bool) -> JwtClaims {
        JwtClaims {
            sub: self.user_id.as_str().to_owned(),
            iat: self.created_at.timestamp(),
            exp: self.expires_at.timestamp(),
            iss: issuer,
            aud: None,
            nbf: None,
            jti: self.id.as_str().to_owned(),
            typ: SESSION_TOKEN_TYPE.to_owned(),
            metadata: include_metadata
                .then(|| JwtMetadata { user_agent: self.user_agent.clone(), ip_address: self.ip_address.clone() }),
        }
    }

    /// Re-attaches the token to a stored record.
    pub fn from_record(record: SessionRecord, token: SessionToken) -> Self {
        Self {
            id: record.id,
            token,
            user_id: record.user_id,
            user_agent: record.user_agent,
            ip_address: record.ip_address,
            created_at: record.created_at,
            updated_at: record.updated_at,
            expires_at: record.expires_at,
        }
    }
}

/// Builds a [`Session`] by hand. `user_id` and `expires_at` are required; the id and token default to
/// fresh random ones and the timestamps to now.
#[derive(Debug, Default)]
pub struct SessionBuilder {
    id: Option<SessionId>,
    token: Option<SessionToken>,
    user_id: Option<UserId>,
    user_agent: Option<String>,
    ip_address: Option<String>,
    created_at: Option<DateTime<Utc>>,
    expires_at: Option<DateTime<Utc>>,
}

impl SessionBuilder {
    /// The session's user (required).
    pub fn user_id(mut self, user_id: UserId) -> Self {
        self.user_id = Some(user_id);
        self
    }

    /// When it expires (required).
    pub fn expires_at(mut self, at: DateTime<Utc>) -> Self {
        self.expires_at = Some(at);
        self
    }

    /// The public id (default: random).
    pub fn id(mut self, id: SessionId) -> Self {
        self.id = Some(id);
        self
    }

    /// The token (default: a random opaque token).
    pub fn token(mut self, token: SessionToken) -> Self {
        self.token = Some(token);
        self
    }

    /// The user agent.
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// The IP address.
    pub fn ip_address(mut self, ip_address: impl Into<String>) -> Self {
        self.ip_address = Some(ip_address.into());
        self
    }

    /// Creation time (default: now).
    pub fn created_at(mut self, at: DateTime<Utc>) -> Self {
        self.created_at = Some(at);
        self
    }

    /// Builds the session.
    ///
    /// # Errors
    /// [`ToriiError::ConfigError`] when `user_id` or `expires_at` is missing.
    pub fn build(self) -> Result<Session, ToriiError> {
        let user_id = self.user_id.ok_or_else(|| ToriiError::ConfigError("a session needs a user_id".into()))?;
        let expires_at =
            self.expires_at.ok_or_else(|| ToriiError::ConfigError("a session needs an expires_at".into()))?;
        let created_at = self.created_at.unwrap_or_else(Utc::now);
        Ok(Session {
            id: self.id.unwrap_or_else(SessionId::new_random),
            token: self.token.unwrap_or_else(SessionToken::new_random),
            user_id,
            user_agent: self.user_agent,
            ip_address: self.ip_address,
            created_at,
            updated_at: created_at,
            expires_at,
        })
    }
}

/// A session as storage keeps it: everything but the token, which is replaced by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// Public identifier.
    pub id: SessionId,
    /// SHA-256 of the token; the lookup key.
    pub token_hash: TokenHash,
    /// Whose session it is.
    pub user_id: UserId,
    /// User agent of the client that created the session.
    pub user_agent: Option<String>,
    /// IP address of the client that created the session.
    pub ip_address: Option<String>,
    /// When the session was created.
    pub created_at: DateTime<Utc>,
    /// Last recorded activity.
    pub updated_at: DateTime<Utc>,
    /// When the session stops being valid.
    pub expires_at: DateTime<Utc>,
}

impl SessionRecord {
    /// The record to store for a session.
    pub fn from_session(session: &Session) -> Self {
        Self {
            id: session.id.clone(),
            token_hash: session.token.hash(),
            user_id: session.user_id.clone(),
            user_agent: session.user_agent.clone(),
            ip_address: session.ip_address.clone(),
            created_at: session.created_at,
            updated_at: session.updated_at,
            expires_at: session.expires_at,
        }
    }
}

/// Which kind of session token Torii issues.
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub enum SessionProviderType {
    /// Random tokens naming sessions stored server-side (the default): revocable at once.
    #[default]
    Opaque,
    /// Signed JSON Web Tokens carrying the session; validated without a session lookup, revoked through
    /// a denylist.
    Jwt(JwtConfig),
}

/// How sessions are issued. Build it with [`SessionConfig::default`] and the chainable setters, or as a
/// struct literal.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionConfig {
    /// How long a session lives after it is created. Default: 30 days.
    pub expires_in: Duration,
    /// Which kind of token to issue. Default: [`SessionProviderType::Opaque`].
    pub provider_type: SessionProviderType,
}

impl Default for SessionConfig {
    fn default() -> Self {
        Self { expires_in: Duration::days(30), provider_type: SessionProviderType::Opaque }
    }
}

impl SessionConfig {
    /// Sets the session lifetime.
    pub fn expires_in(mut self, duration: Duration) -> Self {
        self.expires_in = duration;
        self
    }

    /// Issues JWT sessions signed with this configuration.
    pub fn with_jwt(mut self, config: JwtConfig) -> Self {
        self.provider_type = SessionProviderType::Jwt(config);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_tells_jwt_from_opaque() {
        assert!(!SessionToken::new("abc_DEF-123").is_jwt());
        assert!(SessionToken::new("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln").is_jwt());
        assert!(!SessionToken::new("a.b").is_jwt());
        assert!(!SessionToken::new("a..b").is_jwt());
        assert!(!SessionToken::new("a.b c.d").is_jwt());
    }

    #[test]
    fn random_tokens_are_opaque_43_chars() {
        let token = SessionToken::new_random();
        assert_eq!(token.as_str().len(), 43);
        assert!(!token.as_str().contains('.'));
        assert!(!token.is_jwt());
    }

    #[test]
    fn debug_is_redacted() {
        let token = SessionToken::new("super-secret-value");
        let shown = format!("{token:?}");
        assert!(!shown.contains("super-secret-value"), "{shown}");
        assert_eq!(token.to_string(), "super-secret-value");
    }

    #[test]
    fn default_config_is_thirty_day_opaque() {
        let cfg = SessionConfig::default();
        assert_eq!(cfg.expires_in, Duration::days(30));
        assert_eq!(cfg.provider_type, SessionProviderType::Opaque);
        assert_eq!(SessionConfig::default().expires_in(Duration::hours(1)).expires_in, Duration::hours(1));
    }
}
