//! The first proof of an account's address, and what it takes away.
//!
//! An account can be created without anyone showing they own its address: by passkey sign-up, by an
//! identity provider that does not vouch for the address, or with a password. Someone who knows a
//! victim's address could create the account first and keep a way in after the owner takes it over
//! (pre-account hijacking). So an address that was never proven gives no lasting claim: when it is
//! proven for the first time (a verification link, a magic link, a password reset link, or an
//! identity provider that vouches for it), every credential and link added while it was unproven is
//! removed and every session ended, unless the person proving it is already signed in to that account.
//!
//! Why "signed in to that account" is enough to keep everything: before the address is proven, the
//! only ways into the account are its own credentials, and only someone signed in to it can add one (a
//! provider that vouches for the address is itself a proof, handled here first). So whoever holds a
//! session of the account, or knows its password, controls every credential it has.

use serde::Serialize;

use crate::error::ToriiError;
use crate::id::UserId;
use crate::storage::{DroppedCredentials, UserStorage};
use crate::torii::Torii;
use crate::user::User;

/// An account whose address was just proven, and what the proof removed (empty when the address was
/// already verified or the prover was signed in to the account).
///
/// `dropped` is what an audit log records as `credentials.dropped` when it is not empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProvenAddress {
    /// The account, with `email_verified_at` set.
    pub user: User,
    /// The credentials, links and sessions the proof removed.
    pub dropped: DroppedCredentials,
}

impl<S: UserStorage> Torii<S> {
    /// Records that the person acting has proven they own the address of `user_id` (they followed a
    /// link mailed to it, typed a code sent to it, or a trusted provider vouched for it). The first
    /// time, unless `signed_in` is that same account, every credential and link the account has is
    /// removed and its sessions are ended (see [`crate::proof`]); later proofs change nothing.
    ///
    /// `signed_in` is the account the request proving the address is already authenticated as (its
    /// session, or its password entered again), if any.
    ///
    /// # Errors
    /// [`ToriiError::UserNotFound`]; a storage failure.
    pub async fn prove_email_address(
        &self,
        user_id: &UserId,
        signed_in: Option<&UserId>,
    ) -> Result<ProvenAddress, ToriiError> {
        let user = self.storage().get_user(user_id).await?.ok_or(ToriiError::UserNotFound)?;
        self.prove_address(user, signed_in).await
    }

    /// [`Torii::prove_email_address`] for a user already read.
    pub(crate) async fn prove_address(
        &self,
        mut user: User,
        signed_in: Option<&UserId>,
    ) -> Result<ProvenAddress, ToriiError> {
        if user.email_verified_at.is_some() {
            return Ok(ProvenAddress { user, dropped: DroppedCredentials::default() });
        }
        let now = self.now();
        if signed_in == Some(&user.id) {
            self.storage().set_email_verified(&user.id, now).await?;
            user.email_verified_at = Some(now);
            self.audit_first_proof(&user.id, true).await;
            return Ok(ProvenAddress { user, dropped: DroppedCredentials::default() });
        }
        let Some(mut dropped) = self.storage().prove_email(&user.id, now).await? else {
            // A concurrent proof won (it did the removing), or the account is gone.
            let user = self.storage().get_user(&user.id).await?.ok_or(ToriiError::UserNotFound)?;
            return Ok(ProvenAddress { user, dropped: DroppedCredentials::default() });
        };
        // Through the session manager, so JWT sessions and sessions kept in another store end too.
        dropped.sessions = self.delete_sessions_for_user(&user.id).await?;
        user.email_verified_at = Some(now);
        self.audit_first_proof(&user.id, false).await;
        if !dropped.is_empty() {
            tracing::warn!(
                user_id = %user.id,
                password = dropped.password,
                passkeys = dropped.passkeys.len(),
                provider_links = dropped.provider_links.len(),
                sessions = dropped.sessions,
                "address proven for the first time: credentials added before were removed"
            );
            // Identifiers only: passkey credential ids and provider subjects are not secrets.
            let detail = serde_json::json!({
                "password": dropped.password,
                "passkeys": dropped.passkeys,
                "provider_links": dropped
                    .provider_links
                    .iter()
                    .map(|(provider, subject)| serde_json::json!({ "provider": provider, "subject": subject }))
                    .collect::<Vec<_>>(),
                "sessions": dropped.sessions,
            });
            self.audit(crate::storage::AuditEventKind::CREDENTIALS_DROPPED, Some(&user.id), None, detail).await;
        }
        Ok(ProvenAddress { user, dropped })
    }

    /// Records that an address was proven for the first time (whichever link or code proved it).
    async fn audit_first_proof(&self, user_id: &UserId, signed_in: bool) {
        let detail = serde_json::json!({ "first_proof": true, "signed_in": signed_in });
        self.audit(crate::storage::AuditEventKind::EMAIL_VERIFIED, Some(user_id), None, detail).await;
    }
}
