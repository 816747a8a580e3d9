use std::future::Future;

use chrono::{DateTime, Utc};

use crate::error::StorageResult;
use crate::id::{ChallengeId, UserId};

/// A WebAuthn credential registered by a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyCredential {
    /// The credential id (base64url), unique across all users.
    pub credential_id: String,
    /// Whose credential it is.
    pub user_id: UserId,
    /// A name the user chose ("YubiKey", "Laptop").
    pub name: String,
    /// The serialized public-key credential (as the WebAuthn library stores it).
    pub data: String,
    /// Signature counter last seen.
    pub sign_count: u32,
    /// Whether the credential may be synced between devices.
    pub backup_eligible: bool,
    /// Whether it currently is backed up.
    pub backup_state: bool,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it was last used to log in.
    pub last_used_at: Option<DateTime<Utc>>,
}

/// Which WebAuthn ceremony a challenge belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CeremonyKind {
    /// Creating a credential.
    Registration,
    /// Logging in with a credential.
    Authentication,
}

impl CeremonyKind {
    /// The stable name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::Authentication => "authentication",
        }
    }

    /// Parses a stored name.
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "registration" => Some(Self::Registration),
            "authentication" => Some(Self::Authentication),
            _ => None,
        }
    }
}

/// Server-side state of a ceremony between its start and its completion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyChallenge {
    /// Identifies the ceremony.
    pub id: ChallengeId,
    /// Which ceremony.
    pub kind: CeremonyKind,
    /// The user, when known at the start.
    pub user_id: Option<UserId>,
    /// The email the ceremony was started for, when given.
    pub email: Option<String>,
    /// The WebAuthn library's serialized ceremony state.
    pub state: String,
    /// When it started.
    pub created_at: DateTime<Utc>,
    /// When it stops being accepted.
    pub expires_at: DateTime<Utc>,
}

/// Persistence of passkey credentials and ceremony challenges.
///
/// Contract (checked by the conformance suite):
/// - Credential ids are unique.
/// - [`PasskeyStorage::consume_challenge`] is atomic and single-use, only matches its own ceremony kind,
///   and never returns an expired challenge.
pub trait PasskeyStorage: Send + Sync + 'static {
    /// Stores a new credential.
    ///
    /// # Errors
    /// [`crate::StorageError::Conflict`] when the credential id exists.
    fn create_passkey(&self, credential: &PasskeyCredential) -> impl Future<Output = StorageResult<()>> + Send;

    /// The credential with this id, or `None`.
    fn get_passkey(&self, credential_id: &str)
    -> impl Future<Output = StorageResult<Option<PasskeyCredential>>> + Send;

    /// The user's credentials, oldest first.
    fn list_passkeys(&self, user_id: &UserId) -> impl Future<Output = StorageResult<Vec<PasskeyCredential>>> + Send;

    /// Records a successful use: the new data, counter, backup state and time. Returns false when the
    /// credential does not exist.
    fn update_passkey_usage(
        &self,
        credential_id: &str,
        data: &str,
        sign_count: u32,
        backup_state: bool,
        used_at: DateTime<Utc>,
    ) -> impl Future<Output = StorageResult<bool>> + Send;

    /// Renames the user's credential. Returns false when the user has no such credential.
    fn rename_passkey(
        &self,
        user_id: &UserId,
        credential_id: &str,
        name: &str,
    ) -> impl Future<Output = StorageResult<bool>> + Send;

    /// Deletes the user's credential. Returns false when the user has no such credential.
    fn delete_passkey(&self, user_id: &UserId, credential_id: &str)
    -> impl Future<Output = StorageResult<bool>> + Send;

    /// Stores the state of a ceremony that is starting.
    fn store_challenge(&self, challenge: &PasskeyChallenge) -> impl Future<Output = StorageResult<()>> + Send;

    /// Removes and returns the challenge if it exists, is of `kind`, and has not expired at `now`.
    fn consume_challenge(
        &self,
        id: &ChallengeId,
        kind: CeremonyKind,
        now: DateTime<Utc>,
    ) -> impl Future<Output = StorageResult<Option<PasskeyChallenge>>> + Send;
}
