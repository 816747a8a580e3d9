//! What a ceremony keeps in storage between its two steps, and the small conversions around it.
//!
//! These functions are not generic over the storage, so they are compiled once.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use webauthn_rs::prelude::{DiscoverableAuthentication, Passkey, PasskeyAuthentication, PasskeyRegistration, Uuid};

use super::PasskeyService;
use crate::error::{PasskeyError, StorageError, ToriiError};
use crate::id::{ChallengeId, UserId};
use crate::storage::{CeremonyKind, PasskeyChallenge, PasskeyCredential};

/// Registration state, tagged with whom it is for so a new-account ceremony can't finish as an
/// enrollment into an existing account (or the reverse).
#[derive(Serialize, Deserialize)]
#[serde(tag = "flow", rename_all = "snake_case")]
pub(super) enum RegistrationState {
    /// A passkey-only account that does not exist yet; its id is chosen at the start.
    NewAccount { user_id: UserId, state: PasskeyRegistration },
    /// A passkey for the existing user named by the challenge.
    Enrollment { state: PasskeyRegistration },
}

/// Login state. `Email { state: None }` is a decoy ceremony for an email with no passkeys: it never
/// completes.
#[derive(Serialize, Deserialize)]
#[serde(tag = "flow", rename_all = "snake_case")]
pub(super) enum LoginState {
    Email { state: Option<PasskeyAuthentication> },
    Discoverable { state: DiscoverableAuthentication },
}

/// The WebAuthn user handle of a user: derived from the id, so nothing extra is stored and no personal
/// data ends up on authenticators.
pub(super) fn user_handle(user_id: &UserId) -> Uuid {
    let digest = Sha256::new().chain_update(b"torii passkey user handle\0").chain_update(user_id.as_str()).finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

/// Stored credential ids are the raw id in base64url without padding.
pub(super) fn encode_id(raw: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

pub(super) fn decode_id(id: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(id).ok()
}

/// Decoy credential ids for an email with no passkeys: stable per email (so asking twice gives the same
/// answer, as it would for a real account) and unpredictable without the key.
pub(super) fn decoy_credential_id(key: &[u8; 32], email: &str) -> Vec<u8> {
    let normalized = crate::email::normalize_email(email);
    Sha256::new()
        .chain_update(b"torii passkey decoy\0")
        .chain_update(key)
        .chain_update(normalized.as_bytes())
        .finalize()
        .to_vec()
}

/// Serializes webauthn-rs options for the browser.
pub(super) fn to_json(value: &impl Serialize) -> Result<serde_json::Value, ToriiError> {
    serde_json::to_value(value).map_err(|e| ToriiError::Internal(format!("cannot serialize passkey options: {e}")))
}

/// Registration asks for a discoverable credential, so the account can also log in without an email.
/// (webauthn-rs leaves residency to the authenticator; the verification does not depend on it.)
pub(super) fn require_resident_key(options: &mut serde_json::Value) {
    if let Some(selection) =
        options.get_mut("publicKey").and_then(|p| p.get_mut("authenticatorSelection")).and_then(|s| s.as_object_mut())
    {
        selection.insert("residentKey".into(), "required".into());
        selection.insert("requireResidentKey".into(), true.into());
    }
}

/// Gives every email-login answer one shape: the allow-list without transport hints (a decoy has none
/// to give), no mediation, no extensions.
pub(super) fn uniform_login_options(options: &mut serde_json::Value, decoy: Option<Vec<u8>>) {
    if let Some(object) = options.as_object_mut() {
        object.remove("mediation");
    }
    let Some(public_key) = options.get_mut("publicKey").and_then(|p| p.as_object_mut()) else { return };
    public_key.remove("extensions");
    if let Some(id) = decoy {
        public_key
            .insert("allowCredentials".into(), serde_json::json!([{ "type": "public-key", "id": encode_id(&id) }]));
    }
    if let Some(list) = public_key.get_mut("allowCredentials").and_then(|l| l.as_array_mut()) {
        for entry in list.iter_mut().filter_map(|e| e.as_object_mut()) {
            entry.remove("transports");
        }
    }
}

/// Serializes a ceremony state into a challenge row.
pub(super) fn new_challenge(
    service: &PasskeyService,
    kind: CeremonyKind,
    user_id: Option<UserId>,
    email: Option<String>,
    state: &impl Serialize,
    now: DateTime<Utc>,
) -> Result<PasskeyChallenge, ToriiError> {
    let state = serde_json::to_string(state)
        .map_err(|e| ToriiError::Internal(format!("cannot serialize passkey ceremony state: {e}")))?;
    Ok(PasskeyChallenge {
        id: ChallengeId::new_random(),
        kind,
        user_id,
        email,
        state,
        created_at: now,
        expires_at: now + service.challenge_lifetime,
    })
}

/// Reads a stored state back; a state this version cannot read counts as an invalid challenge.
pub(super) fn read_state<T: for<'de> Deserialize<'de>>(challenge: &PasskeyChallenge) -> Result<T, PasskeyError> {
    serde_json::from_str(&challenge.state).map_err(|_| PasskeyError::ChallengeInvalid)
}

/// The stored form of a newly registered passkey.
pub(super) fn new_credential(
    user_id: &UserId,
    name: String,
    passkey: &Passkey,
    now: DateTime<Utc>,
) -> Result<PasskeyCredential, ToriiError> {
    let credential = webauthn_rs::prelude::Credential::from(passkey.clone());
    Ok(PasskeyCredential {
        credential_id: encode_id(passkey.cred_id()),
        user_id: user_id.clone(),
        name,
        data: serialize_passkey(passkey)?,
        sign_count: credential.counter,
        backup_eligible: credential.backup_eligible,
        backup_state: credential.backup_state,
        created_at: now,
        last_used_at: None,
    })
}

pub(super) fn serialize_passkey(passkey: &Passkey) -> Result<String, ToriiError> {
    serde_json::to_string(passkey).map_err(|e| ToriiError::Internal(format!("cannot serialize a passkey: {e}")))
}

pub(super) fn deserialize_passkey(credential: &PasskeyCredential) -> Result<Passkey, ToriiError> {
    serde_json::from_str(&credential.data).map_err(|_| {
        ToriiError::Storage(StorageError::Corrupt(format!("passkey {} cannot be read", credential.credential_id)))
    })
}

/// Trims a passkey name and checks it: 1 to 64 printable characters.
pub(super) fn clean_name(name: Option<&str>) -> Result<String, PasskeyError> {
    let Some(name) = name.map(str::trim) else { return Ok(super::DEFAULT_PASSKEY_NAME.to_owned()) };
    if name.is_empty() {
        return Err(PasskeyError::InvalidName("the name is empty"));
    }
    if name.chars().count() > super::MAX_PASSKEY_NAME_CHARS {
        return Err(PasskeyError::InvalidName("the name is longer than 64 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(PasskeyError::InvalidName("the name contains control characters"));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_handles_are_stable_and_distinct() {
        let a = UserId::new("a");
        assert_eq!(user_handle(&a), user_handle(&UserId::new("a")));
        assert_ne!(user_handle(&a), user_handle(&UserId::new("b")));
    }

    #[test]
    fn decoys_are_stable_per_email_and_key() {
        let key = [1; 32];
        assert_eq!(decoy_credential_id(&key, "Ada@Example.com"), decoy_credential_id(&key, "ada@example.com"));
        assert_ne!(decoy_credential_id(&key, "ada@example.com"), decoy_credential_id(&key, "bob@example.com"));
        assert_ne!(decoy_credential_id(&key, "ada@example.com"), decoy_credential_id(&[2; 32], "ada@example.com"));
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        assert_eq!(clean_name(None), Ok("Passkey".to_owned()));
        assert_eq!(clean_name(Some("  Laptop ")), Ok("Laptop".to_owned()));
        assert!(clean_name(Some("   ")).is_err());
        assert!(clean_name(Some("a\nb")).is_err());
        assert!(clean_name(Some(&"x".repeat(65))).is_err());
        assert!(clean_name(Some(&"é".repeat(64))).is_ok());
    }
}
