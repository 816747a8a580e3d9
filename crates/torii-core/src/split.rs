//! Storage adapters for the coordinator's alternative set-ups.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use crate::error::{StorageError, StorageResult};
use crate::id::{SessionId, UserId};
use crate::session::SessionRecord;
use crate::storage::{
    AuditEvent, AuditLogStorage, DroppedCredentials, PasswordStorage, RateLimitDecision, RateLimitStorage,
    RepositoryProvider, SessionStorage, TokenRevocationStorage, UserStorage,
};
use crate::token::TokenHash;
use crate::user::{NewUser, User};

/// The storage of a coordinator built with `Torii::with_custom_managers`: there is none, the managers do
/// everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoStorage;

/// Users (and their credentials) in one storage, sessions in another.
#[derive(Debug)]
pub struct SplitStorage<U, S> {
    users: Arc<U>,
    sessions: Arc<S>,
}

impl<U, S> SplitStorage<U, S> {
    /// Combines a user storage and a session storage.
    pub fn new(users: Arc<U>, sessions: Arc<S>) -> Self {
        Self { users, sessions }
    }

    /// The user storage.
    pub fn users(&self) -> &Arc<U> {
        &self.users
    }

    /// The session storage.
    pub fn sessions(&self) -> &Arc<S> {
        &self.sessions
    }
}

impl<U: UserStorage, S: SessionStorage> UserStorage for SplitStorage<U, S> {
    async fn create_user(&self, user: &NewUser) -> StorageResult<User> {
        self.users.create_user(user).await
    }

    async fn get_user(&self, id: &UserId) -> StorageResult<Option<User>> {
        self.users.get_user(id).await
    }

    async fn get_user_by_email(&self, email: &str) -> StorageResult<Option<User>> {
        self.users.get_user_by_email(email).await
    }

    async fn update_user(&self, user: &User) -> StorageResult<User> {
        self.users.update_user(user).await
    }

    async fn set_email_verified(&self, id: &UserId, at: DateTime<Utc>) -> StorageResult<bool> {
        self.users.set_email_verified(id, at).await
    }

    async fn prove_email(&self, id: &UserId, at: DateTime<Utc>) -> StorageResult<Option<DroppedCredentials>> {
        self.users.prove_email(id, at).await
    }

    async fn delete_user(&self, id: &UserId) -> StorageResult<bool> {
        // The session store may be a different database: revoke there first, so a deleted user never
        // keeps a live session.
        self.sessions.delete_sessions_for_user(id, None).await?;
        self.users.delete_user(id).await
    }
}

impl<U: PasswordStorage, S: SessionStorage> PasswordStorage for SplitStorage<U, S> {
    async fn create_user_with_password(&self, user: &NewUser, password_hash: &str) -> StorageResult<User> {
        self.users.create_user_with_password(user, password_hash).await
    }

    async fn set_password_hash(&self, user_id: &UserId, hash: &str) -> StorageResult<()> {
        self.users.set_password_hash(user_id, hash).await
    }

    async fn get_password_hash(&self, user_id: &UserId) -> StorageResult<Option<String>> {
        self.users.get_password_hash(user_id).await
    }

    async fn remove_password_hash(&self, user_id: &UserId) -> StorageResult<bool> {
        self.users.remove_password_hash(user_id).await
    }
}

impl<U: UserStorage, S: SessionStorage> SessionStorage for SplitStorage<U, S> {
    /// Checks that the user exists in the user storage first: a session store in another database (or
    /// Redis) cannot enforce that reference itself.
    async fn create_session(&self, session: &SessionRecord) -> StorageResult<()> {
        if self.users.get_user(&session.user_id).await?.is_none() {
            return Err(StorageError::NotFound("user"));
        }
        self.sessions.create_session(session).await
    }

    async fn get_session(&self, token_hash: &TokenHash, now: DateTime<Utc>) -> StorageResult<Option<SessionRecord>> {
        self.sessions.get_session(token_hash, now).await
    }

    async fn touch_session(&self, token_hash: &TokenHash, updated_at: DateTime<Utc>) -> StorageResult<bool> {
        self.sessions.touch_session(token_hash, updated_at).await
    }

    async fn list_sessions_for_user(&self, user_id: &UserId, now: DateTime<Utc>) -> StorageResult<Vec<SessionRecord>> {
        self.sessions.list_sessions_for_user(user_id, now).await
    }

    async fn delete_session(&self, token_hash: &TokenHash) -> StorageResult<bool> {
        self.sessions.delete_session(token_hash).await
    }

    async fn delete_session_by_id(&self, user_id: &UserId, session_id: &SessionId) -> StorageResult<bool> {
        self.sessions.delete_session_by_id(user_id, session_id).await
    }

    async fn delete_sessions_for_user(&self, user_id: &UserId, keep: Option<&SessionId>) -> StorageResult<u64> {
        self.sessions.delete_sessions_for_user(user_id, keep).await
    }

    async fn cleanup_expired_sessions(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        self.sessions.cleanup_expired_sessions(now, batch_size).await
    }

    async fn ping(&self) -> StorageResult<()> {
        self.sessions.ping().await
    }
}

impl<U: Send + Sync + 'static, S: TokenRevocationStorage> TokenRevocationStorage for SplitStorage<U, S> {
    async fn revoke_token_id(&self, token_id: &str, user_id: &UserId, expires_at: DateTime<Utc>) -> StorageResult<()> {
        self.sessions.revoke_token_id(token_id, user_id, expires_at).await
    }

    async fn is_token_revoked(
        &self,
        token_id: &str,
        user_id: &UserId,
        issued_at: DateTime<Utc>,
    ) -> StorageResult<bool> {
        self.sessions.is_token_revoked(token_id, user_id, issued_at).await
    }

    async fn revoke_all_before(&self, user_id: &UserId, not_before: DateTime<Utc>) -> StorageResult<()> {
        self.sessions.revoke_all_before(user_id, not_before).await
    }

    async fn revoked_before(&self, user_id: &UserId) -> StorageResult<Option<DateTime<Utc>>> {
        self.sessions.revoked_before(user_id).await
    }

    async fn cleanup_revoked_tokens(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        self.sessions.cleanup_revoked_tokens(now, batch_size).await
    }
}

/// Rate-limit counters live with the sessions: they are short-lived, written on every guarded request,
/// and shared by every instance, which is what a session store such as Redis is for; the user database
/// then only sees logins that got through. (Every session store Torii ships counts.)
impl<U: Send + Sync + 'static, S: RateLimitStorage> RateLimitStorage for SplitStorage<U, S> {
    async fn hit_rate_limit(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: TimeDelta,
        max: u32,
    ) -> StorageResult<RateLimitDecision> {
        self.sessions.hit_rate_limit(key, now, window, max).await
    }

    async fn reset_rate_limit(&self, key: &str) -> StorageResult<()> {
        self.sessions.reset_rate_limit(key).await
    }

    async fn cleanup_expired_rate_limits(&self, now: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        self.sessions.cleanup_expired_rate_limits(now, batch_size).await
    }
}

/// The audit log lives with the users: it is a durable record about accounts.
impl<U: AuditLogStorage, S: Send + Sync + 'static> AuditLogStorage for SplitStorage<U, S> {
    async fn record_audit_event(&self, event: &AuditEvent) -> StorageResult<()> {
        self.users.record_audit_event(event).await
    }

    async fn list_audit_events_for_user(&self, user_id: &UserId, limit: u32) -> StorageResult<Vec<AuditEvent>> {
        self.users.list_audit_events_for_user(user_id, limit).await
    }

    async fn delete_audit_events_before(&self, cutoff: DateTime<Utc>, batch_size: u32) -> StorageResult<u64> {
        self.users.delete_audit_events_before(cutoff, batch_size).await
    }
}

impl<U: RepositoryProvider, S: SessionStorage + RateLimitStorage> RepositoryProvider for SplitStorage<U, S> {
    /// Migrates the user storage. A session storage that needs a schema has its own set-up.
    async fn migrate(&self) -> StorageResult<()> {
        self.users.migrate().await
    }

    /// Checks both stores: a healthy user database with an unreachable session store is not healthy.
    async fn health_check(&self) -> StorageResult<()> {
        self.users.health_check().await?;
        self.sessions.ping().await
    }
}
