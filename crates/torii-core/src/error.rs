//! Error types.
//!
//! [`ToriiError`] is what every public operation returns. It keeps the variants the documentation has
//! always shown (`AuthError`, `StorageError`, `ServiceNotFound`) and adds precise ones so callers (and the
//! HTTP layer) can react without parsing strings. [`StorageError`] is what storage backends return; it
//! keeps the driver's error as its source.

use std::error::Error as StdError;

use crate::oauth::OAuthError;
use crate::password::PasswordPolicyError;

/// A boxed error from a storage driver, kept as the `source` of a [`StorageError`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// The error returned by every Torii operation.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ToriiError {
    /// Authentication failed for a reason described by the message. Application code may also build this
    /// variant itself (for example "User not found" after a session lookup).
    #[error("authentication error: {0}")]
    AuthError(String),

    /// A storage problem described only by a message. Application code may build this variant; Torii's
    /// own backends return [`ToriiError::Storage`], which keeps the driver error as its source.
    #[error("storage error: {0}")]
    StorageError(String),

    /// A storage backend failed.
    #[error(transparent)]
    Storage(#[from] StorageError),

    /// The requested authentication service (for example an OAuth provider) is not configured.
    #[error("service not found: {0}")]
    ServiceNotFound(String),

    /// The email/password pair is wrong, or the account does not exist. Deliberately one variant for both
    /// so callers cannot leak which one it was.
    #[error("invalid credentials")]
    InvalidCredentials,

    /// An account with this email address already exists.
    #[error("an account with this email address already exists")]
    UserAlreadyExists,

    /// The user does not exist.
    #[error("user not found")]
    UserNotFound,

    /// The email address is not acceptable.
    #[error("invalid email address: {0}")]
    InvalidEmail(&'static str),

    /// The password does not satisfy the password policy.
    #[error(transparent)]
    WeakPassword(#[from] PasswordPolicyError),

    /// The session token is unknown, revoked, or malformed.
    #[error("session not found")]
    SessionNotFound,

    /// A signed token (JWT) was refused; the reason is a fixed description, never the token.
    #[error("invalid token: {0}")]
    InvalidToken(&'static str),

    /// The email and password are right, but the account's address is not verified yet and the
    /// coordinator requires it (see [`crate::Torii::require_verified_email`]). Returned only after the
    /// password was checked, so it tells nothing to someone who does not know the password.
    #[error("the email address is not verified")]
    EmailNotVerified,

    /// The user already has the maximum number of sessions and the policy refuses more.
    #[error("too many active sessions")]
    SessionLimitReached,

    /// The session existed but has expired.
    #[error("session expired")]
    SessionExpired,

    /// The operation is not possible with the configured components (for example keeping one JWT
    /// session while revoking the others, which needs server-side sessions).
    #[error("not supported: {0}")]
    Unsupported(&'static str),

    /// Torii was configured in a way that cannot work (for example a key that is too short).
    #[error("configuration error: {0}")]
    ConfigError(String),

    /// An internal failure that is not the caller's fault (for example a hashing task that panicked).
    #[error("internal error: {0}")]
    Internal(String),

    /// An OAuth / OpenID Connect flow failed (see [`OAuthError`] for the reasons).
    #[error(transparent)]
    OAuth(#[from] OAuthError),

    /// Too many attempts: a guessing limit (per account, per device, per client address or overall;
    /// see [`crate::throttle`]) is exhausted. The same for known and unknown accounts. Try again after
    /// `retry_after` (whole seconds, at least one).
    #[error("too many attempts; retry after {} s", retry_after.as_secs())]
    TooManyAttempts {
        /// How long to wait before the next attempt can be accepted.
        retry_after: std::time::Duration,
    },

    /// A passkey registration or a change to a user's passkeys was refused. (A failed passkey *login* is
    /// [`ToriiError::InvalidCredentials`], like a wrong password.)
    #[error(transparent)]
    Passkey(#[from] PasskeyError),
}

/// Why a passkey registration or a change to a user's passkeys was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasskeyError {
    /// The ceremony's challenge is unknown, expired, already used, or belongs to another ceremony.
    #[error("the passkey challenge is unknown, expired or already used")]
    ChallengeInvalid,

    /// The authenticator's response did not verify (wrong origin or relying party, wrong challenge, no
    /// user verification, malformed data).
    #[error("the passkey response could not be verified")]
    VerificationFailed,

    /// The credential is already registered (to this or another account).
    #[error("this passkey is already registered")]
    AlreadyRegistered,

    /// The name given to a passkey is not acceptable.
    #[error("invalid passkey name: {0}")]
    InvalidName(&'static str),

    /// Removing this passkey would leave the account with no way to log in.
    #[error("the last way to log in to an account cannot be removed")]
    LastLoginMethod,
}

impl ToriiError {
    /// True when the error means "not authenticated" (unknown or expired session, bad credentials), as
    /// opposed to a server-side failure. The HTTP layer maps the first group to 401 and the rest to 5xx.
    pub fn is_unauthenticated(&self) -> bool {
        matches!(
            self,
            Self::AuthError(_)
                | Self::InvalidCredentials
                | Self::SessionNotFound
                | Self::SessionExpired
                | Self::InvalidToken(_)
        )
    }
}

/// The error returned by storage backends.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// A uniqueness constraint refused the write (for example a second user with the same email).
    #[error("conflict: {0} already exists")]
    Conflict(&'static str),

    /// The row to update or delete does not exist.
    #[error("not found: {0}")]
    NotFound(&'static str),

    /// The value cannot be stored (for example it contains a NUL byte the database refuses).
    #[error("invalid data: {0}")]
    InvalidData(String),

    /// The database could not be reached (connection refused, pool timed out). Usually transient: the
    /// HTTP layer maps it to 503.
    #[error("storage unavailable")]
    Unavailable(#[source] BoxError),

    /// Running migrations failed.
    #[error("migration failed")]
    Migration(#[source] BoxError),

    /// Any other database error.
    #[error("database error")]
    Database(#[source] BoxError),

    /// A row read back from the database could not be decoded into a Torii type.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl StorageError {
    /// Wraps any driver error as [`StorageError::Database`].
    pub fn database(err: impl Into<BoxError>) -> Self {
        Self::Database(err.into())
    }

    /// True for failures that are probably transient (the database is down or overloaded).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

/// Shorthand for results of storage operations.
pub type StorageResult<T> = Result<T, StorageError>;
