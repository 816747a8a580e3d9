use std::future::Future;

use chrono::{DateTime, Utc};

use crate::error::StorageResult;
use crate::id::UserId;
use crate::token::TokenHash;

/// A refresh token as stored (hashed). Tokens descending from one login share a family.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshTokenRecord {
    /// SHA-256 of the token; the lookup key.
    pub token_hash: TokenHash,
    /// The login this token descends from; reuse of any member revokes the whole family.
    pub family_id: String,
    /// Whose token it is.
    pub user_id: UserId,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops being valid.
    pub expires_at: DateTime<Utc>,
    /// When it was exchanged for a new pair, if it was.
    pub used_at: Option<DateTime<Utc>>,
    /// When its family was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What presenting a refresh token found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshTokenUse {
    /// Live and unused: it is now marked used and may be exchanged.
    Valid(RefreshTokenRecord),
    /// Already used (and not revoked): someone replayed it. The caller revokes the family.
    Reused(RefreshTokenRecord),
    /// Unknown, expired or revoked.
    Invalid,
}

/// Persistence of refresh tokens with rotation and reuse detection.
///
/// Contract (checked by the conformance suite):
/// - [`RefreshTokenStorage::use_refresh_token`] is atomic: of concurrent uses of one token exactly one
///   gets `Valid`; the others get `Reused`.
/// - A revoked or expired token is `Invalid`, never `Valid` or `Reused`.
/// - Deleting a user deletes its refresh tokens.
pub trait RefreshTokenStorage: Send + Sync + 'static {
    /// Stores a new refresh token.
    fn create_refresh_token(&self, token: &RefreshTokenRecord) -> impl Future<Output = StorageResult<()>> + Send;

    /// Marks the token used at `now` if it is live and unused, and says what was found.
    fn use_refresh_token(
        &self,
        token_hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StorageResult<RefreshTokenUse>> + Send;

    /// Revokes every token of the family at `now`; returns how many were live.
    fn revoke_refresh_family(
        &self,
        family_id: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StorageResult<u64>> + Send;

    /// Revokes every token of the user at `now`; returns how many were live.
    fn revoke_refresh_tokens_for_user(
        &self,
        user_id: &UserId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StorageResult<u64>> + Send;

    /// Deletes up to `batch_size` tokens that expired at or before `now`.
    fn cleanup_expired_refresh_tokens(
        &self,
        now: DateTime<Utc>,
        batch_size: u32,
    ) -> impl Future<Output = StorageResult<u64>> + Send;
}
