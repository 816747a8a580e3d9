//! Registration: a new passkey-only account, or one more passkey for an existing account.

use serde::Deserialize as _;
use webauthn_rs::prelude::{CredentialID, RegisterPublicKeyCredential};

use super::ceremony::{
    RegistrationState, clean_name, decode_id, new_challenge, new_credential, read_state, require_resident_key, to_json,
    user_handle,
};
use super::{PasskeyEnrollmentCompletion, PasskeyInfo, PasskeyOptions, PasskeyRegistrationCompletion};
use crate::email::{normalize_email, validate_email};
use crate::error::{PasskeyError, StorageError, ToriiError};
use crate::id::UserId;
use crate::storage::{AuditEventKind, CeremonyKind, PasskeyStorage, UserStorage};
use crate::torii::Torii;
use crate::user::{NewUser, User};

impl<S: UserStorage + PasskeyStorage> Torii<S> {
    /// Starts creating a passkey-only account (no password) for this email address.
    ///
    /// # Errors
    /// [`ToriiError::InvalidEmail`]; [`ToriiError::UserAlreadyExists`] when the email has an account (a
    /// passkey is added to an existing account only by its logged-in owner, with
    /// [`Torii::begin_passkey_enrollment`]); [`ToriiError::ServiceNotFound`] when passkeys are not
    /// configured; a storage failure.
    pub async fn begin_passkey_registration(&self, email: &str) -> Result<PasskeyOptions, ToriiError> {
        self.passkey_service()?;
        let email = validate_email(email)?;
        if self.storage().get_user_by_email(&email).await?.is_some() {
            return Err(ToriiError::UserAlreadyExists);
        }
        self.start_new_account_ceremony(email).await
    }

    /// Like [`Torii::begin_passkey_registration`], except that an address that already has an account
    /// gets a ceremony too, indistinguishable from any other, so the answer does not tell who has an
    /// account. Such a ceremony can never create anything: completing it fails with
    /// [`ToriiError::UserAlreadyExists`]. Returns whether the address has an account, so the caller can
    /// notify its owner.
    ///
    /// # Errors
    /// [`ToriiError::InvalidEmail`]; [`ToriiError::ServiceNotFound`] when passkeys are not configured;
    /// a storage failure.
    pub async fn begin_passkey_registration_concealed(
        &self,
        email: &str,
    ) -> Result<(PasskeyOptions, bool), ToriiError> {
        self.passkey_service()?;
        let email = validate_email(email)?;
        let exists = self.storage().get_user_by_email(&email).await?.is_some();
        Ok((self.start_new_account_ceremony(email).await?, exists))
    }

    /// The registration ceremony of a new account for `email` (validated), with a fresh account id.
    async fn start_new_account_ceremony(&self, email: String) -> Result<PasskeyOptions, ToriiError> {
        let service = self.passkey_service()?;
        // The account's id is chosen now: the user handle the authenticator stores is derived from it.
        let user_id = UserId::new_random();
        let (options, state) = service
            .webauthn
            .start_passkey_registration(user_handle(&user_id), &email, &email, None)
            .map_err(|e| ToriiError::Internal(format!("cannot start a passkey registration: {e}")))?;
        let mut options = to_json(&options)?;
        require_resident_key(&mut options);
        let state = RegistrationState::NewAccount { user_id, state };
        let challenge = new_challenge(
            service,
            CeremonyKind::Registration,
            None,
            Some(normalize_email(&email)),
            &state,
            self.now(),
        )?;
        self.storage().store_challenge(&challenge).await?;
        Ok(PasskeyOptions { challenge_id: challenge.id, options })
    }

    /// Completes creating a passkey-only account and returns the new user (not logged in yet: issue a
    /// session with [`Torii::create_session`]).
    ///
    /// # Errors
    /// [`PasskeyError::ChallengeInvalid`] for an unknown, expired or used challenge, or one started for
    /// another email or ceremony; [`PasskeyError::VerificationFailed`] when the response does not verify;
    /// [`PasskeyError::AlreadyRegistered`]; [`ToriiError::UserAlreadyExists`] when the email was taken
    /// meanwhile; a storage failure.
    pub async fn complete_passkey_registration(
        &self,
        completion: &PasskeyRegistrationCompletion,
    ) -> Result<User, ToriiError> {
        let service = self.passkey_service()?;
        let now = self.now();
        let challenge = self
            .storage()
            .consume_challenge(&completion.challenge_id, CeremonyKind::Registration, now)
            .await?
            .ok_or(PasskeyError::ChallengeInvalid)?;
        let RegistrationState::NewAccount { user_id, state } = read_state(&challenge)? else {
            return Err(PasskeyError::ChallengeInvalid.into());
        };
        if challenge.user_id.is_some() || challenge.email.as_deref() != Some(&normalize_email(&completion.email)) {
            return Err(PasskeyError::ChallengeInvalid.into());
        }
        let email = validate_email(&completion.email)?;
        let passkey = verify_registration(service, &completion.response, &state)?;
        if self.storage().get_passkey(&super::ceremony::encode_id(passkey.cred_id())).await?.is_some() {
            return Err(PasskeyError::AlreadyRegistered.into());
        }

        let new_user = NewUser { id: user_id, ..NewUser::new(email, now) };
        let user = self.storage().create_user(&new_user).await.map_err(|e| match e {
            StorageError::Conflict(_) => ToriiError::UserAlreadyExists,
            other => ToriiError::Storage(other),
        })?;
        let credential = new_credential(&user.id, clean_name(None)?, &passkey, now)?;
        if let Err(err) = self.storage().create_passkey(&credential).await {
            // An account without its passkey could never log in: take it back.
            if let Err(cleanup) = self.storage().delete_user(&user.id).await {
                tracing::error!(user_id = %user.id, error = %cleanup, "could not remove an account whose passkey failed to save");
            }
            return Err(match err {
                StorageError::Conflict(_) => PasskeyError::AlreadyRegistered.into(),
                other => other.into(),
            });
        }
        tracing::info!(user_id = %user.id, "user registered with a passkey");
        let detail = crate::audit::method_detail(crate::audit::AuthMethod::Passkey);
        self.audit(AuditEventKind::USER_REGISTERED, Some(&user.id), None, detail).await;
        let detail = serde_json::json!({ "passkey_id": credential.credential_id, "name": credential.name });
        self.audit(AuditEventKind::PASSKEY_ADDED, Some(&user.id), None, detail).await;
        Ok(user)
    }

    /// Starts adding a passkey to an existing account. Call it only for the logged-in user: whoever
    /// completes the ceremony can log in to the account.
    ///
    /// # Errors
    /// [`ToriiError::UserNotFound`]; [`ToriiError::ServiceNotFound`] when passkeys are not configured; a
    /// storage failure.
    pub async fn begin_passkey_enrollment(&self, user_id: &UserId) -> Result<PasskeyOptions, ToriiError> {
        let service = self.passkey_service()?;
        let user = self.storage().get_user(user_id).await?.ok_or(ToriiError::UserNotFound)?;
        // The authenticator refuses to register a second credential for this account on itself.
        let existing: Vec<CredentialID> =
            self.storage().list_passkeys(user_id).await?.iter().filter_map(|c| decode_id(&c.credential_id)).collect();
        let display = user.name.as_deref().unwrap_or(&user.email);
        let (options, state) = service
            .webauthn
            .start_passkey_registration(user_handle(&user.id), &user.email, display, Some(existing))
            .map_err(|e| ToriiError::Internal(format!("cannot start a passkey registration: {e}")))?;
        let mut options = to_json(&options)?;
        require_resident_key(&mut options);
        let state = RegistrationState::Enrollment { state };
        let challenge =
            new_challenge(service, CeremonyKind::Registration, Some(user.id.clone()), None, &state, self.now())?;
        self.storage().store_challenge(&challenge).await?;
        Ok(PasskeyOptions { challenge_id: challenge.id, options })
    }

    /// Completes adding a passkey to the account of `user_id` (the logged-in user).
    ///
    /// # Errors
    /// [`PasskeyError::ChallengeInvalid`] (including a challenge started for another user);
    /// [`PasskeyError::VerificationFailed`]; [`PasskeyError::AlreadyRegistered`];
    /// [`PasskeyError::InvalidName`]; a storage failure.
    pub async fn complete_passkey_enrollment(
        &self,
        user_id: &UserId,
        completion: &PasskeyEnrollmentCompletion,
    ) -> Result<PasskeyInfo, ToriiError> {
        let service = self.passkey_service()?;
        let name = clean_name(completion.name.as_deref())?;
        let now = self.now();
        let challenge = self
            .storage()
            .consume_challenge(&completion.challenge_id, CeremonyKind::Registration, now)
            .await?
            .ok_or(PasskeyError::ChallengeInvalid)?;
        let RegistrationState::Enrollment { state } = read_state(&challenge)? else {
            return Err(PasskeyError::ChallengeInvalid.into());
        };
        if challenge.user_id.as_ref() != Some(user_id) {
            return Err(PasskeyError::ChallengeInvalid.into());
        }
        let passkey = verify_registration(service, &completion.response, &state)?;
        let credential = new_credential(user_id, name, &passkey, now)?;
        self.storage().create_passkey(&credential).await.map_err(|e| match e {
            StorageError::Conflict(_) => ToriiError::from(PasskeyError::AlreadyRegistered),
            other => other.into(),
        })?;
        tracing::info!(%user_id, "passkey added");
        let detail = serde_json::json!({ "passkey_id": credential.credential_id, "name": credential.name });
        self.audit(AuditEventKind::PASSKEY_ADDED, Some(user_id), None, detail).await;
        Ok(credential.into())
    }
}

/// Checks the browser's answer against the stored state (origin, rp id, challenge, user verification).
fn verify_registration(
    service: &super::PasskeyService,
    response: &serde_json::Value,
    state: &webauthn_rs::prelude::PasskeyRegistration,
) -> Result<webauthn_rs::prelude::Passkey, PasskeyError> {
    let response = RegisterPublicKeyCredential::deserialize(response).map_err(|_| PasskeyError::VerificationFailed)?;
    let passkey = service.webauthn.finish_passkey_registration(&response, state).map_err(|err| {
        tracing::info!(error = %err, "passkey registration refused");
        PasskeyError::VerificationFailed
    })?;
    // webauthn-rs accepts ids up to 4096 bytes; WebAuthn Level 3 (§6.5.1) caps them at 1023. Longer
    // ones come from no conforming authenticator and would only bloat every row and lookup.
    if passkey.cred_id().len() > MAX_CREDENTIAL_ID_LEN {
        tracing::info!(length = passkey.cred_id().len(), "passkey registration refused: credential id too long");
        return Err(PasskeyError::VerificationFailed);
    }
    Ok(passkey)
}

/// The longest credential id WebAuthn Level 3 allows (`credentialIdLength` "MUST be <= 1023").
pub const MAX_CREDENTIAL_ID_LEN: usize = 1023;
