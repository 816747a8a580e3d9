use std::future::Future;

use crate::error::StorageResult;
use crate::id::UserId;
use crate::user::{NewUser, User};

use super::UserStorage;

/// Persistence of password hashes (PHC strings; storage never sees a password).
///
/// Contract: at most one hash per user; deleting the user deletes its hash.
pub trait PasswordStorage: UserStorage {
    /// Creates the user and its password hash in one transaction: either both exist afterwards or
    /// neither does.
    ///
    /// # Errors
    /// As [`UserStorage::create_user`]: [`crate::StorageError::Conflict`] when the email is taken.
    fn create_user_with_password(
        &self,
        user: &NewUser,
        password_hash: &str,
    ) -> impl Future<Output = StorageResult<User>> + Send;

    /// Sets (inserts or replaces) the user's password hash.
    ///
    /// # Errors
    /// [`crate::StorageError::NotFound`] when the user does not exist.
    fn set_password_hash(&self, user_id: &UserId, hash: &str) -> impl Future<Output = StorageResult<()>> + Send;

    /// The user's password hash, or `None` when the user has no password (or does not exist).
    fn get_password_hash(&self, user_id: &UserId) -> impl Future<Output = StorageResult<Option<String>>> + Send;

    /// Removes the user's password (for passwordless accounts). Returns false when there was none.
    fn remove_password_hash(&self, user_id: &UserId) -> impl Future<Output = StorageResult<bool>> + Send;
}
