use std::future::Future;

use chrono::{DateTime, Utc};

use crate::error::StorageResult;
use crate::id::UserId;
use crate::user::{NewUser, User};

/// What the first proof of an account's address removed: every credential and link added while the
/// address was unproven (see [`UserStorage::prove_email`]). Nothing here is a secret: credential ids
/// and provider subjects are identifiers, so the summary can go to an audit log as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct DroppedCredentials {
    /// The account's password was removed.
    pub password: bool,
    /// Ids of the passkeys removed.
    pub passkeys: Vec<String>,
    /// The provider links removed, as `(provider, subject)`.
    pub provider_links: Vec<(String, String)>,
    /// Sessions ended (counted by the coordinator, which ends them through its session manager; storage
    /// leaves it 0).
    pub sessions: u64,
}

impl DroppedCredentials {
    /// True when no credential or link was removed and no session ended.
    pub fn is_empty(&self) -> bool {
        !self.password && self.passkeys.is_empty() && self.provider_links.is_empty() && self.sessions == 0
    }
}

/// Persistence of user accounts.
///
/// Contract (checked by the conformance suite):
/// - Emails are unique by their key [`crate::email::normalize_email`] (NFKC, then case-folded), computed
///   by the backend from the email it is given; the email itself is stored as given.
/// - Values are stored exactly: what is written is what is read back (timestamps to the microsecond).
pub trait UserStorage: Send + Sync + 'static {
    /// Creates a user with exactly the given id, email and timestamps.
    ///
    /// # Errors
    /// [`crate::StorageError::Conflict`] when a user with the same id, or with an email equal to this one
    /// ignoring case, exists. Under concurrent calls with one email, exactly one succeeds.
    fn create_user(&self, user: &NewUser) -> impl Future<Output = StorageResult<User>> + Send;

    /// The user with this id, or `None`.
    fn get_user(&self, id: &UserId) -> impl Future<Output = StorageResult<Option<User>>> + Send;

    /// The user whose email equals `email` ignoring case (and surrounding whitespace), or `None`.
    fn get_user_by_email(&self, email: &str) -> impl Future<Output = StorageResult<Option<User>>> + Send;

    /// Replaces the stored name, email, `email_verified_at` and `updated_at` of `user.id`
    /// (`created_at` is never changed) and returns the stored user.
    ///
    /// # Errors
    /// [`crate::StorageError::NotFound`] when the user does not exist;
    /// [`crate::StorageError::Conflict`] when the new email belongs to another user.
    fn update_user(&self, user: &User) -> impl Future<Output = StorageResult<User>> + Send;

    /// Marks the email as verified at `at`. Returns false when the user does not exist.
    fn set_email_verified(&self, id: &UserId, at: DateTime<Utc>) -> impl Future<Output = StorageResult<bool>> + Send;

    /// The first proof of the account's address: when `email_verified_at` is unset, sets it to `at` and,
    /// in the same transaction, removes every credential and link the account has, because all of them
    /// were added while nobody had shown they own the address: the password, the passkeys, the provider
    /// links, the refresh tokens, and the passkey and OAuth ceremonies in progress for the account.
    /// Sessions are not touched (the coordinator ends them through its session manager, which may be
    /// another store).
    ///
    /// Returns what was removed, or `None` (removing nothing) when the user does not exist or its
    /// address was already verified. Of concurrent calls for one user, exactly one returns `Some`.
    fn prove_email(
        &self,
        id: &UserId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = StorageResult<Option<DroppedCredentials>>> + Send;

    /// Deletes the user and everything that belongs to it (sessions, password, linked accounts, passkeys,
    /// tokens). Returns false when there was no such user.
    fn delete_user(&self, id: &UserId) -> impl Future<Output = StorageResult<bool>> + Send;
}
