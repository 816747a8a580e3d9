use std::future::Future;

use chrono::{DateTime, Utc};

use crate::error::StorageResult;
use crate::id::UserId;
use crate::token::TokenHash;

/// A link between a user and an identity at an external provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthAccount {
    /// The Torii user.
    pub user_id: UserId,
    /// Provider name, for example `google` or `github`.
    pub provider: String,
    /// The provider's stable subject identifier for the user (never the email).
    pub subject: String,
    /// The email the provider reported, for display.
    pub email: Option<String>,
    /// Whether the provider said that email was verified when the link was made.
    pub email_verified: bool,
    /// When the link was made.
    pub created_at: DateTime<Utc>,
    /// When it was last used or changed.
    pub updated_at: DateTime<Utc>,
}

/// Server-side state of one authorization-code flow, between the redirect and the callback.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthState {
    /// SHA-256 of the `state` parameter; the lookup key.
    pub state_hash: TokenHash,
    /// The provider the flow was started with.
    pub provider: String,
    /// PKCE code verifier (a secret until the code is exchanged).
    pub pkce_verifier: String,
    /// OpenID Connect nonce, when the provider is OIDC.
    pub nonce: Option<String>,
    /// Where to send the browser afterwards.
    pub redirect_to: Option<String>,
    /// The logged-in user starting a "link this provider" flow, if any.
    pub link_user_id: Option<UserId>,
    /// When the flow started.
    pub created_at: DateTime<Utc>,
    /// When the state stops being accepted.
    pub expires_at: DateTime<Utc>,
}

impl std::fmt::Debug for OAuthState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthState")
            .field("provider", &self.provider)
            .field("redirect_to", &self.redirect_to)
            .field("link_user_id", &self.link_user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// Persistence of linked provider accounts and of in-flight authorization states.
///
/// Contract (checked by the conformance suite):
/// - Accounts are unique on (provider, subject).
/// - [`OAuthStorage::consume_oauth_state`] is atomic and single-use; an expired state is never returned.
pub trait OAuthStorage: Send + Sync + 'static {
    /// Links a provider identity to a user.
    ///
    /// # Errors
    /// [`crate::StorageError::Conflict`] when (provider, subject) is already linked.
    fn create_oauth_account(&self, account: &OAuthAccount) -> impl Future<Output = StorageResult<()>> + Send;

    /// The link for (provider, subject), or `None`.
    fn get_oauth_account(
        &self,
        provider: &str,
        subject: &str,
    ) -> impl Future<Output = StorageResult<Option<OAuthAccount>>> + Send;

    /// All provider links of a user, oldest first.
    fn list_oauth_accounts(&self, user_id: &UserId) -> impl Future<Output = StorageResult<Vec<OAuthAccount>>> + Send;

    /// Removes the user's link to `provider`. Returns false when there was none.
    fn delete_oauth_account(
        &self,
        user_id: &UserId,
        provider: &str,
    ) -> impl Future<Output = StorageResult<bool>> + Send;

    /// Stores the state of a flow that is starting.
    fn store_oauth_state(&self, state: &OAuthState) -> impl Future<Output = StorageResult<()>> + Send;

    /// Removes and returns the state, if it exists and has not expired at `now`.
    fn consume_oauth_state(
        &self,
        state_hash: &TokenHash,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StorageResult<Option<OAuthState>>> + Send;
}
