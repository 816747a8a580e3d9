use std::future::Future;

use chrono::{DateTime, Utc};

use crate::error::StorageResult;
use crate::id::{SessionId, UserId};
use crate::session::SessionRecord;
use crate::token::TokenHash;

/// Persistence of server-side sessions. Sessions are keyed by the SHA-256 of their token; the token
/// itself is never given to storage.
///
/// Contract (checked by the conformance suite):
/// - An expired session is never returned: every read takes `now` and treats `expires_at <= now` as
///   absent.
/// - Deleting a user deletes its sessions.
pub trait SessionStorage: Send + Sync + 'static {
    /// Stores a new session.
    ///
    /// # Errors
    /// [`crate::StorageError::Conflict`] when the token hash or id is already used;
    /// [`crate::StorageError::NotFound`] when the user does not exist (where the backend can tell).
    fn create_session(&self, session: &SessionRecord) -> impl Future<Output = StorageResult<()>> + Send;

    /// The live session whose token hashes to `token_hash`, or `None` when it is unknown or expired at
    /// `now`.
    fn get_session(
        &self,
        token_hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StorageResult<Option<SessionRecord>>> + Send;

    /// Records activity: sets `updated_at` of the session (if it exists). Returns false when it does not.
    fn touch_session(
        &self,
        token_hash: &TokenHash,
        updated_at: DateTime<Utc>,
    ) -> impl Future<Output = StorageResult<bool>> + Send;

    /// The user's live sessions at `now`, newest first.
    fn list_sessions_for_user(
        &self,
        user_id: &UserId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StorageResult<Vec<SessionRecord>>> + Send;

    /// Deletes the session with this token hash. Returns false when there was none.
    fn delete_session(&self, token_hash: &TokenHash) -> impl Future<Output = StorageResult<bool>> + Send;

    /// Deletes the session with this public id, only if it belongs to `user_id` (so one user can never
    /// revoke another's session by guessing ids). Returns false when there was no such session.
    fn delete_session_by_id(
        &self,
        user_id: &UserId,
        session_id: &SessionId,
    ) -> impl Future<Output = StorageResult<bool>> + Send;

    /// Deletes every session of the user, except the one with id `keep` when given. Returns how many
    /// were deleted.
    fn delete_sessions_for_user(
        &self,
        user_id: &UserId,
        keep: Option<&SessionId>,
    ) -> impl Future<Output = StorageResult<u64>> + Send;

    /// Deletes up to `batch_size` sessions that expired at or before `now`; returns how many were
    /// deleted. Callers loop until it returns less than `batch_size`, so a huge backlog never holds a
    /// long lock.
    fn cleanup_expired_sessions(
        &self,
        now: DateTime<Utc>,
        batch_size: u32,
    ) -> impl Future<Output = StorageResult<u64>> + Send;

    /// Checks that the session store answers, for health endpoints. The default reports healthy: a
    /// store that lives in the same database as the users is checked with them; a separate one (such
    /// as Redis) overrides this.
    fn ping(&self) -> impl Future<Output = StorageResult<()>> + Send {
        async { Ok(()) }
    }
}
