//! Listing and unlinking a user's provider identities.

use crate::error::ToriiError;
use crate::id::UserId;
use crate::oauth::OAuthError;
use crate::storage::{OAuthAccount, OAuthStorage, PasskeyStorage, PasswordStorage};
use crate::torii::Torii;

impl<S: OAuthStorage> Torii<S> {
    /// The user's linked provider identities, oldest first.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn list_oauth_accounts(&self, user_id: &UserId) -> Result<Vec<OAuthAccount>, ToriiError> {
        Ok(self.storage().list_oauth_accounts(user_id).await?)
    }
}

impl<S: OAuthStorage + PasswordStorage + PasskeyStorage> Torii<S> {
    /// Removes the user's link to `provider`, unless it is their last way to log in (no password, no
    /// passkey and no other linked provider).
    ///
    /// # Errors
    /// [`OAuthError::NotLinked`] when there is no such link; [`OAuthError::LastLoginMethod`] when it
    /// is the last way to log in; a storage failure.
    pub async fn unlink_oauth_account(&self, user_id: &UserId, provider: &str) -> Result<(), ToriiError> {
        let accounts = self.storage().list_oauth_accounts(user_id).await?;
        if !accounts.iter().any(|a| a.provider == provider) {
            return Err(OAuthError::NotLinked.into());
        }
        let other_links = accounts.iter().any(|a| a.provider != provider);
        let other_method = other_links
            || self.storage().get_password_hash(user_id).await?.is_some()
            || !self.storage().list_passkeys(user_id).await?.is_empty();
        if !other_method {
            return Err(OAuthError::LastLoginMethod.into());
        }
        if !self.storage().delete_oauth_account(user_id, provider).await? {
            return Err(OAuthError::NotLinked.into());
        }
        tracing::info!(%user_id, provider, "OAuth identity unlinked");
        let detail = serde_json::json!({ "provider": provider });
        self.audit(crate::storage::AuditEventKind::OAUTH_UNLINKED, Some(user_id), None, detail).await;
        Ok(())
    }
}
