//! Re-authentication by passkey: a logged-in user proves again, with one of their passkeys, that they
//! are at the keyboard, and their session counts as freshly authenticated (see
//! [`Torii::is_session_fresh`]).

use super::{PasskeyLoginCompletion, PasskeyOptions};
use crate::error::ToriiError;
use crate::session::{Session, SessionToken};
use crate::storage::{PasskeyStorage, UserStorage};
use crate::torii::Torii;

impl<S: UserStorage + PasskeyStorage> Torii<S> {
    /// Starts re-authenticating the session's user by passkey: the options list that user's passkeys.
    ///
    /// # Errors
    /// [`ToriiError::SessionNotFound`] for an invalid session; [`ToriiError::ServiceNotFound`] when
    /// passkeys are not configured; a storage failure.
    pub async fn begin_passkey_reauthentication(&self, token: &SessionToken) -> Result<PasskeyOptions, ToriiError> {
        let session = self.get_session(token).await?;
        let user = self.storage().get_user(&session.user_id).await?.ok_or(ToriiError::SessionNotFound)?;
        self.begin_passkey_login(&user.email).await
    }

    /// Completes re-authentication by passkey: the passkey must belong to the session's user. The
    /// session's token is then replaced by one that counts as freshly authenticated (for JWT sessions, a
    /// new token); the old token stops working.
    ///
    /// # Errors
    /// [`ToriiError::InvalidCredentials`] for any failed check, including a passkey of another account;
    /// [`ToriiError::SessionNotFound`] for an invalid session; a storage failure.
    pub async fn reauthenticate_with_passkey(
        &self,
        token: &SessionToken,
        completion: &PasskeyLoginCompletion,
    ) -> Result<Session, ToriiError> {
        let session = self.get_session(token).await?;
        let user = self.verify_passkey_login(completion).await?;
        if user.id != session.user_id {
            tracing::info!(user_id = %session.user_id, "passkey re-authentication refused: passkey of another account");
            return Err(ToriiError::InvalidCredentials);
        }
        let session = self.session_service.rotate_session(token, true).await?;
        tracing::info!(user_id = %session.user_id, session_id = %session.id, "re-authenticated by passkey");
        Ok(session)
    }
}
