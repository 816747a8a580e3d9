//! Login: with an email (the account's passkeys in an allow-list) or without one (a discoverable
//! passkey names its account).

use serde::Deserialize as _;
use webauthn_rs::prelude::{AuthenticationResult, Passkey, PublicKeyCredential, WebauthnError};

use super::ceremony::{
    LoginState, decoy_credential_id, deserialize_passkey, encode_id, new_challenge, read_state, serialize_passkey,
    to_json, uniform_login_options, user_handle,
};
use super::{PasskeyLoginCompletion, PasskeyOptions};
use crate::email::validate_email;
use crate::error::ToriiError;
use crate::session::Session;
use crate::storage::{AuditEventKind, CeremonyKind, PasskeyCredential, PasskeyStorage, UserStorage};
use crate::torii::Torii;
use crate::user::User;

/// Where a failed login is logged; never in the response, which is always "invalid credentials".
const FAILED: &str = "passkey login failed";

impl<S: UserStorage + PasskeyStorage> Torii<S> {
    /// Starts a login with an email address: the options list that account's passkeys.
    ///
    /// An unknown email, or an account without passkeys, gets an answer of the same shape (a stable
    /// decoy credential id), so the answer does not tell whether the account exists.
    ///
    /// # Errors
    /// [`ToriiError::ServiceNotFound`] when passkeys are not configured; a storage failure.
    pub async fn begin_passkey_login(&self, email: &str) -> Result<PasskeyOptions, ToriiError> {
        let service = self.passkey_service()?;
        let user = match validate_email(email) {
            Ok(valid) => self.storage().get_user_by_email(&valid).await?,
            Err(_) => None,
        };
        let credentials = match &user {
            Some(user) => self.storage().list_passkeys(&user.id).await?,
            None => Vec::new(),
        };
        let passkeys: Vec<Passkey> = credentials.iter().map(deserialize_passkey).collect::<Result<_, _>>()?;

        let (mut options, state, user_id) = match user.filter(|_| !passkeys.is_empty()) {
            Some(user) => {
                let (options, state) = service
                    .webauthn
                    .start_passkey_authentication(&passkeys)
                    .map_err(|e| ToriiError::Internal(format!("cannot start a passkey login: {e}")))?;
                (to_json(&options)?, LoginState::Email { state: Some(state) }, Some(user.id))
            }
            None => {
                // A real challenge with a decoy allow-list; its stored state can never complete.
                let (options, _) = service
                    .webauthn
                    .start_discoverable_authentication()
                    .map_err(|e| ToriiError::Internal(format!("cannot start a passkey login: {e}")))?;
                (to_json(&options)?, LoginState::Email { state: None }, None)
            }
        };
        let decoy = user_id.is_none().then(|| decoy_credential_id(&service.decoy_key, email));
        uniform_login_options(&mut options, decoy);
        let challenge = new_challenge(service, CeremonyKind::Authentication, user_id, None, &state, self.now())?;
        self.storage().store_challenge(&challenge).await?;
        Ok(PasskeyOptions { challenge_id: challenge.id, options })
    }

    /// Starts a login without an email ("usernameless"): the browser offers the passkeys it holds for
    /// this site, and the chosen one names the account. The options carry `mediation: "conditional"` for
    /// autofill UI; drop it for a modal prompt.
    ///
    /// # Errors
    /// [`ToriiError::ServiceNotFound`] when passkeys are not configured; a storage failure.
    pub async fn begin_passkey_login_usernameless(&self) -> Result<PasskeyOptions, ToriiError> {
        let service = self.passkey_service()?;
        let (options, state) = service
            .webauthn
            .start_discoverable_authentication()
            .map_err(|e| ToriiError::Internal(format!("cannot start a passkey login: {e}")))?;
        let state = LoginState::Discoverable { state };
        let challenge = new_challenge(service, CeremonyKind::Authentication, None, None, &state, self.now())?;
        self.storage().store_challenge(&challenge).await?;
        Ok(PasskeyOptions { challenge_id: challenge.id, options: to_json(&options)? })
    }

    /// Completes a passkey login (with or without email) and issues a session.
    ///
    /// # Errors
    /// [`ToriiError::InvalidCredentials`] for every kind of failure (unknown, expired or used challenge;
    /// a response that does not verify; a passkey of another account; a signature counter that went
    /// backwards), so a caller learns nothing about which; the reason is logged. A storage failure.
    pub async fn complete_passkey_login(
        &self,
        completion: &PasskeyLoginCompletion,
        user_agent: Option<String>,
        ip_address: Option<String>,
    ) -> Result<(User, Session), ToriiError> {
        let client = crate::torii::explicit_client(&user_agent, &ip_address);
        let user = match self.verify_passkey_login(completion).await {
            Ok(user) => user,
            Err(err) => {
                if matches!(err, ToriiError::InvalidCredentials) {
                    let detail = crate::audit::method_detail(crate::audit::AuthMethod::Passkey);
                    self.audit(AuditEventKind::LOGIN_FAILED, None, client.as_ref(), detail).await;
                }
                return Err(err);
            }
        };
        let session = self.create_session(&user.id, user_agent, ip_address).await?;
        tracing::info!(user_id = %user.id, session_id = %session.id, "passkey login succeeded");
        self.audit_login(&user.id, crate::audit::AuthMethod::Passkey, &session, client.as_ref()).await;
        Ok((user, session))
    }

    /// Checks a passkey login without issuing a session (for re-authentication before a sensitive
    /// action).
    ///
    /// # Errors
    /// As [`Torii::complete_passkey_login`].
    pub async fn verify_passkey_login(&self, completion: &PasskeyLoginCompletion) -> Result<User, ToriiError> {
        let service = self.passkey_service()?;
        let now = self.now();
        let refuse = |reason: &'static str| {
            tracing::info!(reason, "{FAILED}");
            ToriiError::InvalidCredentials
        };
        let challenge = self
            .storage()
            .consume_challenge(&completion.challenge_id, CeremonyKind::Authentication, now)
            .await?
            .ok_or_else(|| refuse("unknown, expired or used challenge"))?;
        let state: LoginState = read_state(&challenge).map_err(|_| refuse("unreadable challenge state"))?;
        let response =
            PublicKeyCredential::deserialize(&completion.response).map_err(|_| refuse("malformed response"))?;
        let credential_id = encode_id(response.get_credential_id());
        let credential =
            self.storage().get_passkey(&credential_id).await?.ok_or_else(|| refuse("unknown credential"))?;
        let mut passkey = deserialize_passkey(&credential)?;

        let result = match state {
            LoginState::Email { state: None } => return Err(refuse("no passkeys for this email")),
            LoginState::Email { state: Some(state) } => {
                if challenge.user_id.as_ref() != Some(&credential.user_id) {
                    return Err(refuse("credential of another account"));
                }
                service.webauthn.finish_passkey_authentication(&response, &state)
            }
            LoginState::Discoverable { state } => {
                let expected = user_handle(&credential.user_id);
                if response.get_user_unique_id() != Some(expected.as_bytes().as_slice()) {
                    return Err(refuse("user handle does not match the credential's account"));
                }
                let internal = webauthn_rs::prelude::Credential::from(passkey.clone());
                service.webauthn.finish_discoverable_authentication_v2(&response, state, &internal)
            }
        };
        let result = match result {
            Ok(result) => result,
            Err(WebauthnError::CredentialPossibleCompromise) => {
                counter_regression(&credential, None);
                self.audit(
                    AuditEventKind::PASSKEY_COUNTER_REGRESSION,
                    Some(&credential.user_id),
                    None,
                    regression_detail(&credential, None),
                )
                .await;
                return Err(ToriiError::InvalidCredentials);
            }
            Err(err) => {
                tracing::info!(error = %err, "{FAILED}");
                return Err(ToriiError::InvalidCredentials);
            }
        };
        // webauthn-rs compared the counter with the one inside the stored passkey; the column is checked
        // too, in case the two ever disagree.
        if (result.counter() > 0 || credential.sign_count > 0) && result.counter() <= credential.sign_count {
            counter_regression(&credential, Some(result.counter()));
            let detail = regression_detail(&credential, Some(result.counter()));
            self.audit(AuditEventKind::PASSKEY_COUNTER_REGRESSION, Some(&credential.user_id), None, detail).await;
            return Err(ToriiError::InvalidCredentials);
        }
        self.record_use(&credential, &mut passkey, &result).await?;
        let user = self.storage().get_user(&credential.user_id).await?.ok_or_else(|| refuse("account is gone"))?;
        Ok(user)
    }

    async fn record_use(
        &self,
        credential: &PasskeyCredential,
        passkey: &mut Passkey,
        result: &AuthenticationResult,
    ) -> Result<(), ToriiError> {
        passkey.update_credential(result);
        let data = serialize_passkey(passkey)?;
        self.storage()
            .update_passkey_usage(&credential.credential_id, &data, result.counter(), result.backup_state(), self.now())
            .await?;
        Ok(())
    }
}

/// What the audit log keeps of a counter regression: which passkey, and the two counters.
fn regression_detail(credential: &PasskeyCredential, presented: Option<u32>) -> serde_json::Value {
    serde_json::json!({
        "passkey_id": credential.credential_id,
        "stored_counter": credential.sign_count,
        "presented_counter": presented,
    })
}

/// A counter that did not increase means two copies of the private key may exist.
fn counter_regression(credential: &PasskeyCredential, presented: Option<u32>) {
    tracing::warn!(
        target: "torii::security",
        event = "passkey_counter_regression",
        user_id = %credential.user_id,
        credential_id = %credential.credential_id,
        stored = credential.sign_count,
        presented,
        "passkey signature counter went backwards: possible cloned authenticator; login refused"
    );
}
