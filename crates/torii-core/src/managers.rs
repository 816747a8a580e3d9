//! The user and session managers the [`crate::Torii`] coordinator delegates to.
//!
//! Torii ships one implementation of each ([`DefaultUserManager`], [`OpaqueSessionManager`]). An app
//! that needs different logic (an external user directory, a custom token format) implements the trait
//! and passes it to `Torii::with_managers` or `Torii::with_custom_managers`. These are trait objects —
//! one boxed future per call — because the coordinator must hold whichever manager the app chose
//! without changing its own type.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{StorageError, ToriiError};
use crate::id::{SessionId, UserId};
use crate::session::{Session, SessionRecord, SessionToken};
use crate::storage::UserStorage;
use crate::user::{NewUser, User};

pub use crate::opaque::OpaqueSessionManager;
pub use crate::policy::{DEFAULT_CLEANUP_BATCH, LAST_SEEN_RESOLUTION};

/// User lookups and changes, as the coordinator needs them.
#[async_trait]
pub trait UserManager: Send + Sync + 'static {
    /// Creates a user.
    async fn create_user(&self, user: &NewUser) -> Result<User, ToriiError>;
    /// The user with this id, if any.
    async fn get_user(&self, id: &UserId) -> Result<Option<User>, ToriiError>;
    /// The user with this email (ignoring case), if any.
    async fn get_user_by_email(&self, email: &str) -> Result<Option<User>, ToriiError>;
    /// Saves changes to a user.
    async fn update_user(&self, user: &User) -> Result<User, ToriiError>;
    /// Deletes a user and everything that belongs to it. Returns false when there was no such user.
    async fn delete_user(&self, id: &UserId) -> Result<bool, ToriiError>;
}

/// Session issuing and validation, as the coordinator needs it.
#[async_trait]
pub trait SessionManager: Send + Sync + 'static {
    /// Issues a new session for the user.
    async fn create_session(
        &self,
        user_id: &UserId,
        user_agent: Option<String>,
        ip_address: Option<String>,
    ) -> Result<Session, ToriiError>;

    /// Validates a token and returns its session.
    ///
    /// # Errors
    /// [`ToriiError::SessionNotFound`] for an unknown, revoked, malformed or expired token.
    async fn get_session(&self, token: &SessionToken) -> Result<Session, ToriiError>;

    /// The user's live sessions (without tokens), newest first.
    async fn list_sessions(&self, user_id: &UserId) -> Result<Vec<SessionRecord>, ToriiError>;

    /// Revokes the session. Revoking an unknown token is not an error.
    async fn delete_session(&self, token: &SessionToken) -> Result<(), ToriiError>;

    /// Revokes the user's session with this public id. Returns false when the user has no such session.
    async fn delete_session_by_id(&self, user_id: &UserId, session_id: &SessionId) -> Result<bool, ToriiError>;

    /// Revokes all the user's sessions, except `keep` when given. Returns how many were revoked.
    async fn delete_sessions_for_user(&self, user_id: &UserId, keep: Option<&SessionId>) -> Result<u64, ToriiError>;

    /// Deletes every expired session, in batches. Returns how many were deleted.
    async fn cleanup_expired_sessions(&self) -> Result<u64, ToriiError>;

    /// Validates a token for a request from the given client, applying client-binding policies (IP
    /// address, user agent) where the manager has them. The default ignores the client.
    async fn validate_session(&self, token: &SessionToken, client: &ClientContext) -> Result<Session, ToriiError> {
        let _ = client;
        self.get_session(token).await
    }

    /// Replaces the session's token with a fresh one; the old token stops working at once (fixation
    /// defence after a privilege change). With `reauthenticated`, the session counts as freshly
    /// authenticated. The default refuses: rotation needs the manager's cooperation.
    async fn rotate_session(&self, token: &SessionToken, reauthenticated: bool) -> Result<Session, ToriiError> {
        let _ = (token, reauthenticated);
        Err(ToriiError::Unsupported("this session manager cannot rotate sessions"))
    }

    /// Deletes expired sessions, at most `batch_size` per statement. The default ignores the batch size.
    async fn cleanup_expired_sessions_in_batches(&self, batch_size: u32) -> Result<u64, ToriiError> {
        let _ = batch_size;
        self.cleanup_expired_sessions().await
    }
}

/// What a request says about its client, for session-binding policies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientContext {
    /// The client's IP address, when known.
    pub ip_address: Option<String>,
    /// The client's user agent, when sent.
    pub user_agent: Option<String>,
}

/// The built-in [`UserManager`]: straight through to a [`UserStorage`].
pub struct DefaultUserManager<U> {
    storage: Arc<U>,
}

impl<U> DefaultUserManager<U> {
    /// A manager over this storage.
    pub fn new(storage: Arc<U>) -> Self {
        Self { storage }
    }
}

fn map_user_conflict(err: StorageError) -> ToriiError {
    match err {
        StorageError::Conflict(_) => ToriiError::UserAlreadyExists,
        StorageError::NotFound(_) => ToriiError::UserNotFound,
        other => ToriiError::Storage(other),
    }
}

#[async_trait]
impl<U: UserStorage> UserManager for DefaultUserManager<U> {
    async fn create_user(&self, user: &NewUser) -> Result<User, ToriiError> {
        self.storage.create_user(user).await.map_err(map_user_conflict)
    }

    async fn get_user(&self, id: &UserId) -> Result<Option<User>, ToriiError> {
        Ok(self.storage.get_user(id).await?)
    }

    async fn get_user_by_email(&self, email: &str) -> Result<Option<User>, ToriiError> {
        Ok(self.storage.get_user_by_email(email).await?)
    }

    async fn update_user(&self, user: &User) -> Result<User, ToriiError> {
        self.storage.update_user(user).await.map_err(map_user_conflict)
    }

    async fn delete_user(&self, id: &UserId) -> Result<bool, ToriiError> {
        Ok(self.storage.delete_user(id).await?)
    }
}
