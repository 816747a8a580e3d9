use std::future::Future;

use chrono::{DateTime, Utc};

use crate::error::StorageResult;
use crate::id::UserId;
use crate::token::TokenHash;

/// What a one-time email token may be used for. A token is only ever accepted for the purpose it was
/// issued for: a password-reset token cannot log anyone in or verify an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TokenPurpose {
    /// Passwordless login by email link.
    MagicLink,
    /// Proof of ownership of an email address.
    EmailVerification,
    /// Resetting a forgotten password.
    PasswordReset,
}

impl TokenPurpose {
    /// The stable name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MagicLink => "magic_link",
            Self::EmailVerification => "email_verification",
            Self::PasswordReset => "password_reset",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "magic_link" => Some(Self::MagicLink),
            "email_verification" => Some(Self::EmailVerification),
            "password_reset" => Some(Self::PasswordReset),
            _ => None,
        }
    }
}

/// A single-use token sent by email, as stored (hashed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeToken {
    /// SHA-256 of the token; the lookup key.
    pub token_hash: TokenHash,
    /// What the token may be used for.
    pub purpose: TokenPurpose,
    /// The email address the token was sent to (normalised form is used for matching).
    pub email: String,
    /// The user it belongs to, when the account already exists.
    pub user_id: Option<UserId>,
    /// When it was issued.
    pub created_at: DateTime<Utc>,
    /// When it stops being valid.
    pub expires_at: DateTime<Utc>,
    /// When it was used, if it was.
    pub used_at: Option<DateTime<Utc>>,
}

/// Persistence of single-use email tokens (magic links, email verification, password reset).
///
/// Contract (checked by the conformance suite):
/// - [`MagicLinkStorage::consume_token`] is atomic: of many concurrent calls with one token, exactly
///   one gets it.
/// - A token is only returned for its own purpose, and never once expired or used.
pub trait MagicLinkStorage: Send + Sync + 'static {
    /// Stores a new token.
    fn create_token(&self, token: &OneTimeToken) -> impl Future<Output = StorageResult<()>> + Send;

    /// Marks the token used and returns it, if it exists with this purpose, is unused, and has not
    /// expired at `now`. Otherwise `None`.
    fn consume_token(
        &self,
        token_hash: &TokenHash,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StorageResult<Option<OneTimeToken>>> + Send;

    /// Marks every unused token of this purpose for this email (compared ignoring case) as used at `now`,
    /// so only the newest one works. Returns how many were voided.
    fn invalidate_tokens(
        &self,
        email: &str,
        purpose: TokenPurpose,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StorageResult<u64>> + Send;

    /// Deletes up to `batch_size` tokens that expired at or before `now`; returns how many.
    fn cleanup_expired_tokens(
        &self,
        now: DateTime<Utc>,
        batch_size: u32,
    ) -> impl Future<Output = StorageResult<u64>> + Send;
}
