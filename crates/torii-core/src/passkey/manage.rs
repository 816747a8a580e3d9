//! A user's passkeys: list, rename, delete.

use super::PasskeyInfo;
use super::ceremony::clean_name;
use crate::error::{PasskeyError, ToriiError};
use crate::id::UserId;
use crate::storage::{PasskeyStorage, PasswordStorage};
use crate::torii::Torii;

impl<S: PasskeyStorage> Torii<S> {
    /// The user's passkeys, oldest first.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn list_passkeys(&self, user_id: &UserId) -> Result<Vec<PasskeyInfo>, ToriiError> {
        Ok(self.storage().list_passkeys(user_id).await?.into_iter().map(PasskeyInfo::from).collect())
    }

    /// Renames one of the user's passkeys. Returns false when the user has no such passkey (including
    /// when the id belongs to someone else).
    ///
    /// # Errors
    /// [`PasskeyError::InvalidName`]; a storage failure.
    pub async fn rename_passkey(&self, user_id: &UserId, passkey_id: &str, name: &str) -> Result<bool, ToriiError> {
        let name = clean_name(Some(name))?;
        Ok(self.storage().rename_passkey(user_id, passkey_id, &name).await?)
    }
}

impl<S: PasskeyStorage + PasswordStorage> Torii<S> {
    /// Deletes one of the user's passkeys. Returns false when the user has no such passkey (including
    /// when the id belongs to someone else). The last passkey of an account without a password cannot
    /// be deleted: the account could never log in again.
    ///
    /// Two deletions racing for an account's last two passkeys can both pass the check; the storage
    /// traits have no conditional delete to close that gap.
    ///
    /// # Errors
    /// [`PasskeyError::LastLoginMethod`]; a storage failure.
    pub async fn delete_passkey(&self, user_id: &UserId, passkey_id: &str) -> Result<bool, ToriiError> {
        let passkeys = self.storage().list_passkeys(user_id).await?;
        if !passkeys.iter().any(|p| p.credential_id == passkey_id) {
            return Ok(false);
        }
        let other_passkeys = passkeys.len() > 1;
        if !other_passkeys && self.storage().get_password_hash(user_id).await?.is_none() {
            return Err(PasskeyError::LastLoginMethod.into());
        }
        let deleted = self.storage().delete_passkey(user_id, passkey_id).await?;
        if deleted {
            tracing::info!(%user_id, passkey_id, "passkey deleted");
            let detail = serde_json::json!({ "passkey_id": passkey_id });
            self.audit(crate::storage::AuditEventKind::PASSKEY_REMOVED, Some(user_id), None, detail).await;
        }
        Ok(deleted)
    }
}
