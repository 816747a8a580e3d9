use std::future::Future;

use chrono::{DateTime, Utc};

use crate::error::StorageResult;
use crate::id::UserId;

/// Revocation of stateless (JWT) sessions: a denylist of token ids, kept until the tokens would have
/// expired anyway, and a per-user "not before" time that kills every token issued earlier.
///
/// Contract (checked by the conformance suite):
/// - A revoked token id stays revoked until its `expires_at`; afterwards the entry may be cleaned up
///   (the token is dead by expiry then).
/// - [`TokenRevocationStorage::revoke_all_before`] only ever moves a user's "not before" forward.
/// - Deleting a user keeps its entries: a deleted user's tokens must stay dead. Denylist entries go
///   with [`TokenRevocationStorage::cleanup_revoked_tokens`] once expired.
pub trait TokenRevocationStorage: Send + Sync + 'static {
    /// Adds a token id to the denylist until `expires_at`. Revoking twice is not an error.
    fn revoke_token_id(
        &self,
        token_id: &str,
        user_id: &UserId,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = StorageResult<()>> + Send;

    /// True when the token is revoked: its id is on the denylist, or it was issued (`issued_at`) before
    /// the user's "not before" time. One round trip.
    fn is_token_revoked(
        &self,
        token_id: &str,
        user_id: &UserId,
        issued_at: DateTime<Utc>,
    ) -> impl Future<Output = StorageResult<bool>> + Send;

    /// Revokes every token of the user issued before `not_before` (kept if a later time is stored).
    fn revoke_all_before(
        &self,
        user_id: &UserId,
        not_before: DateTime<Utc>,
    ) -> impl Future<Output = StorageResult<()>> + Send;

    /// The user's "not before" time, if one was set.
    fn revoked_before(&self, user_id: &UserId) -> impl Future<Output = StorageResult<Option<DateTime<Utc>>>> + Send;

    /// Deletes up to `batch_size` denylist entries whose tokens expired at or before `now`.
    fn cleanup_revoked_tokens(
        &self,
        now: DateTime<Utc>,
        batch_size: u32,
    ) -> impl Future<Output = StorageResult<u64>> + Send;
}
