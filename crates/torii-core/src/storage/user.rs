use std::future::Future;

use chrono::{DateTime, Utc};

use crate::error::StorageResult;
use crate::id::UserId;
use crate::user::{NewUser, User};

/// Persistence of user accounts.
///
/// Contract (checked by the conformance suite):
/// - Emails are unique case-insensitively: the uniqueness key is [`crate::email::normalize_email`] of
///   the address, computed by the backend from the email it is given.
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

    /// Deletes the user and everything that belongs to it (sessions, password, linked accounts, passkeys,
    /// tokens). Returns false when there was no such user.
    fn delete_user(&self, id: &UserId) -> impl Future<Output = StorageResult<bool>> + Send;
}
