//! The user and session managers the [`crate::Torii`] coordinator delegates to.
//!
//! Torii ships one implementation of each ([`DefaultUserManager`], [`OpaqueSessionManager`]). An app
//! that needs different logic (an external user directory, a custom token format) implements the trait
//! and passes it to `Torii::with_managers` or `Torii::with_custom_managers`. These are trait objects —
//! one boxed future per call — because the coordinator must hold whichever manager the app chose
//! without changing its own type.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};

use crate::clock::Clock;
use crate::metrics::{self, Kind};
use crate::error::{StorageError, ToriiError};
use crate::id::{SessionId, UserId};
use crate::session::{Session, SessionConfig, SessionRecord, SessionToken};
use crate::storage::{SessionStorage, UserStorage};
use crate::user::{NewUser, User};

/// How many expired sessions one cleanup statement deletes.
pub const DEFAULT_CLEANUP_BATCH: u32 = 1_000;

/// `updated_at` ("last seen") is refreshed at most this often per session, so validating a session on
/// every request does not turn into a database write on every request.
pub const LAST_SEEN_RESOLUTION: Duration = Duration::minutes(5);

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

/// The built-in [`SessionManager`]: random opaque tokens, stored hashed in a [`SessionStorage`].
pub struct OpaqueSessionManager<S> {
    storage: Arc<S>,
    config: SessionConfig,
    clock: Arc<dyn Clock>,
}

impl<S> OpaqueSessionManager<S> {
    /// A manager over this storage.
    pub fn new(storage: Arc<S>, config: SessionConfig, clock: Arc<dyn Clock>) -> Self {
        Self { storage, config, clock }
    }

    fn now(&self) -> DateTime<Utc> {
        crate::torii::truncate_to_micros(self.clock.now())
    }
}

impl<S: SessionStorage> OpaqueSessionManager<S> {
    async fn validate(&self, token: &SessionToken) -> Result<Session, ToriiError> {
        let SessionToken::Opaque(raw) = token else {
            return Err(ToriiError::SessionNotFound);
        };
        if !is_well_formed_opaque(raw) {
            return Err(ToriiError::SessionNotFound);
        }
        let now = self.now();
        let hash = token.hash();
        let Some(mut record) = self.storage.get_session(&hash, now).await? else {
            return Err(ToriiError::SessionNotFound);
        };
        if now - record.updated_at >= LAST_SEEN_RESOLUTION {
            // Best effort: a failed "last seen" write must not fail the request it belongs to.
            match self.storage.touch_session(&hash, now).await {
                Ok(_) => record.updated_at = now,
                Err(err) => tracing::warn!(error = %err, session_id = %record.id, "could not record session activity"),
            }
        }
        Ok(Session::from_record(record, token.clone()))
    }
}

/// Opaque tokens are exactly 43 base64url characters. Anything else cannot be one of ours, so it is
/// refused without a database round trip.
fn is_well_formed_opaque(token: &str) -> bool {
    token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[async_trait]
impl<S: SessionStorage> SessionManager for OpaqueSessionManager<S> {
    async fn create_session(
        &self,
        user_id: &UserId,
        user_agent: Option<String>,
        ip_address: Option<String>,
    ) -> Result<Session, ToriiError> {
        let now = self.now();
        let session = Session {
            id: SessionId::new_random(),
            token: SessionToken::new_random(),
            user_id: user_id.clone(),
            user_agent,
            ip_address,
            created_at: now,
            updated_at: now,
            expires_at: now + self.config.expires_in,
        };
        self.storage.create_session(&SessionRecord::from_session(&session)).await.map_err(|e| match e {
            StorageError::NotFound(_) => ToriiError::UserNotFound,
            other => ToriiError::Storage(other),
        })?;
        tracing::debug!(user_id = %session.user_id, session_id = %session.id, "session created");
        metrics::session_created(Kind::Opaque);
        Ok(session)
    }

    async fn get_session(&self, token: &SessionToken) -> Result<Session, ToriiError> {
        let started = std::time::Instant::now();
        let result = self.validate(token).await;
        metrics::session_validated(Kind::Opaque, started, &result);
        result
    }

    async fn list_sessions(&self, user_id: &UserId) -> Result<Vec<SessionRecord>, ToriiError> {
        Ok(self.storage.list_sessions_for_user(user_id, self.now()).await?)
    }

    async fn delete_session(&self, token: &SessionToken) -> Result<(), ToriiError> {
        if self.storage.delete_session(&token.hash()).await? {
            tracing::debug!("session revoked");
            metrics::sessions_revoked(Kind::Opaque, 1);
        }
        Ok(())
    }

    async fn delete_session_by_id(&self, user_id: &UserId, session_id: &SessionId) -> Result<bool, ToriiError> {
        let deleted = self.storage.delete_session_by_id(user_id, session_id).await?;
        if deleted {
            tracing::debug!(%user_id, %session_id, "session revoked");
            metrics::sessions_revoked(Kind::Opaque, 1);
        }
        Ok(deleted)
    }

    async fn delete_sessions_for_user(&self, user_id: &UserId, keep: Option<&SessionId>) -> Result<u64, ToriiError> {
        let n = self.storage.delete_sessions_for_user(user_id, keep).await?;
        tracing::debug!(%user_id, revoked = n, "sessions revoked");
        metrics::sessions_revoked(Kind::Opaque, n);
        Ok(n)
    }

    async fn cleanup_expired_sessions(&self) -> Result<u64, ToriiError> {
        let now = self.now();
        let mut total = 0;
        loop {
            let deleted = self.storage.cleanup_expired_sessions(now, DEFAULT_CLEANUP_BATCH).await?;
            total += deleted;
            if deleted < u64::from(DEFAULT_CLEANUP_BATCH) {
                break;
            }
            // Let other tasks at the database between batches.
            tokio::task::yield_now().await;
        }
        if total > 0 {
            tracing::info!(deleted = total, "expired sessions cleaned up");
            metrics::sessions_cleaned(Kind::Opaque, total);
        }
        Ok(total)
    }
}
