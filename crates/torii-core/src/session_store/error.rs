//! What can go wrong configuring a store or sealing data into a cookie.

use crate::error::{StorageError, ToriiError};

/// A session store error. Converts into [`ToriiError`], which is what the [`SessionStore`] methods
/// return, so `?` works in either direction of use.
///
/// No message ever contains key material: key errors describe the shape of the problem (length, a
/// character that is not hexadecimal), never the value.
///
/// [`SessionStore`]: super::SessionStore
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionStoreError {
    /// A cookie store needs an encryption key and none was configured.
    #[error(
        "a cookie session store needs an encryption key: set `encryption_key` (or SESSION_ENCRYPTION_KEY) to \
         128 hex characters, for example from `openssl rand -hex 64`"
    )]
    MissingKey,

    /// The encryption key (or one of the previous keys) cannot be used.
    #[error("invalid {which}: {reason}")]
    InvalidKey {
        /// Which key: "encryption key" or "previous encryption key #n".
        which: String,
        /// What is wrong with it (never the key itself).
        reason: &'static str,
    },

    /// A cookie setting cannot work (for example `SameSite=None` without `Secure`).
    #[error("invalid session store configuration: {0}")]
    InvalidConfig(String),

    /// An environment variable holds a value that cannot be used. The message names the variable; it
    /// repeats the value only for settings that are not secret.
    #[error("{variable}: {reason}")]
    InvalidVariable {
        /// The variable's name.
        variable: &'static str,
        /// What is wrong with its value.
        reason: String,
    },

    /// The sealed cookie would be larger than browsers keep.
    #[error(
        "session data too large for a cookie: the cookie would take {size} bytes, the limit is {limit}; keep less \
         in the session or use a server-side store"
    )]
    TooLarge {
        /// Size of the cookie (name, value and attributes) in bytes.
        size: usize,
        /// The limit, [`MAX_COOKIE_BYTES`](super::MAX_COOKIE_BYTES).
        limit: usize,
    },

    /// The data could not be encoded.
    #[error("session data could not be encoded")]
    Encode(#[source] serde_json::Error),

    /// The cookie codec returned no sealed value (not expected to happen).
    #[error("session data could not be sealed")]
    Seal,

    /// The store cannot do this (for example saving by id into a cookie store, which keeps nothing).
    #[error("not supported: {0}")]
    Unsupported(&'static str),
}

impl From<SessionStoreError> for ToriiError {
    fn from(err: SessionStoreError) -> Self {
        match err {
            SessionStoreError::Unsupported(what) => Self::Unsupported(what),
            SessionStoreError::TooLarge { .. } => Self::Storage(StorageError::InvalidData(err.to_string())),
            SessionStoreError::Seal => Self::Internal(err.to_string()),
            SessionStoreError::Encode(source) => Self::Internal(format!("session data could not be encoded: {source}")),
            SessionStoreError::MissingKey
            | SessionStoreError::InvalidKey { .. }
            | SessionStoreError::InvalidConfig(_)
            | SessionStoreError::InvalidVariable { .. } => Self::ConfigError(err.to_string()),
        }
    }
}
