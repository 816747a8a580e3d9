//! Passkeys (WebAuthn): passwordless accounts, adding passkeys to an account, logging in with or without
//! an email address, and managing a user's passkeys. Built on `webauthn-rs`; enabled by the `passkey`
//! feature.
//!
//! Every ceremony has two steps. `begin_*` returns a [`PasskeyOptions`]: a challenge id and the options
//! to hand to the browser's `navigator.credentials.create()` or `.get()`. `complete_*` takes the
//! challenge id and the browser's answer. Between the two, the ceremony's state lives only in storage
//! ([`crate::storage::PasskeyStorage::store_challenge`]), never in a cookie or in the client's hands; it
//! expires after five minutes by default and is consumed atomically, so a response can be used once.
//!
//! ```
//! # async fn demo<S>(torii: torii_core::Torii<S>) -> Result<(), torii_core::ToriiError>
//! # where S: torii_core::storage::UserStorage + torii_core::storage::SessionStorage
//! #     + torii_core::storage::TokenRevocationStorage + torii_core::storage::PasskeyStorage {
//! use torii_core::{PasskeyConfig, PasskeyRegistrationCompletion};
//!
//! // At start-up: the relying party. A mistake here is an error now, not at the first login.
//! let torii = torii.with_passkeys(
//!     PasskeyConfig::new("example.com", "Example").with_origin("https://example.com"),
//! )?;
//!
//! // Request 1: send `start.challenge_id` and `start.options` to the browser.
//! let start = torii.begin_passkey_registration("ada@example.com").await?;
//! # let response = serde_json::Value::Null;
//! // Request 2: the browser's answer from navigator.credentials.create().
//! let completion = PasskeyRegistrationCompletion {
//!     email: "ada@example.com".to_owned(),
//!     challenge_id: start.challenge_id,
//!     response,
//! };
//! # let _ = completion;
//! # Ok(()) }
//! ```
//!
//! Security properties:
//! - User verification (PIN or biometrics) is required in every ceremony, so a passkey alone is a
//!   full login.
//! - Registration asks for a discoverable credential, so the account can log in without typing an email.
//! - Starting a login with an email answers the same way whether or not the account exists or has
//!   passkeys: unknown accounts get a stable list of decoy credential ids (see
//!   [`PasskeyConfig::with_decoy_key`]), and every allow-list is sent without transport hints.
//! - A signature counter that goes backwards (a sign of a cloned authenticator) fails the login and is
//!   logged as a security event (`target: "torii::security"`).
//! - A user can never delete their last way to log in (their last passkey when they have no password).

mod ceremony;
mod config;
mod login;
mod manage;
mod reauth;
mod register;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::id::ChallengeId;

pub(crate) use config::PasskeyService;
pub use config::{DEFAULT_CHALLENGE_LIFETIME, PasskeyConfig};
pub use register::MAX_CREDENTIAL_ID_LEN;

/// What the browser needs to run a ceremony: send both to the client.
#[derive(Debug, Clone, Serialize)]
pub struct PasskeyOptions {
    /// Identifies the ceremony; the completion must carry it back.
    pub challenge_id: ChallengeId,
    /// The WebAuthn options (`{"publicKey": {...}}`, binary values as base64url text), to be decoded and
    /// passed to `navigator.credentials.create()` or `navigator.credentials.get()`.
    pub options: serde_json::Value,
}

/// The second step of creating a passkey-only account.
#[derive(Debug, Clone)]
pub struct PasskeyRegistrationCompletion {
    /// The email the registration was started with.
    pub email: String,
    /// From [`PasskeyOptions::challenge_id`].
    pub challenge_id: ChallengeId,
    /// The browser's `PublicKeyCredential` from `navigator.credentials.create()`, as JSON (binary values
    /// as base64url text).
    pub response: serde_json::Value,
}

/// The second step of adding a passkey to an existing account.
#[derive(Debug, Clone)]
pub struct PasskeyEnrollmentCompletion {
    /// From [`PasskeyOptions::challenge_id`].
    pub challenge_id: ChallengeId,
    /// The browser's `PublicKeyCredential` from `navigator.credentials.create()`, as JSON.
    pub response: serde_json::Value,
    /// A name for the new passkey ("Laptop"); a default is used when absent.
    pub name: Option<String>,
}

/// The second step of a passkey login.
#[derive(Debug, Clone)]
pub struct PasskeyLoginCompletion {
    /// From [`PasskeyOptions::challenge_id`].
    pub challenge_id: ChallengeId,
    /// The browser's `PublicKeyCredential` from `navigator.credentials.get()`, as JSON.
    pub response: serde_json::Value,
}

/// A passkey as shown to its owner: no key material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PasskeyInfo {
    /// The credential id (base64url); names the passkey in rename and delete calls.
    pub id: String,
    /// The name the user gave it.
    pub name: String,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
    /// When it last logged in.
    pub last_used_at: Option<DateTime<Utc>>,
    /// Whether it may be synced between devices.
    pub backup_eligible: bool,
    /// Whether it is currently backed up or synced.
    pub backup_state: bool,
}

impl From<crate::storage::PasskeyCredential> for PasskeyInfo {
    fn from(credential: crate::storage::PasskeyCredential) -> Self {
        Self {
            id: credential.credential_id,
            name: credential.name,
            created_at: credential.created_at,
            last_used_at: credential.last_used_at,
            backup_eligible: credential.backup_eligible,
            backup_state: credential.backup_state,
        }
    }
}

/// The name a passkey gets when none is given.
pub const DEFAULT_PASSKEY_NAME: &str = "Passkey";

/// Longest passkey name accepted, in characters.
pub const MAX_PASSKEY_NAME_CHARS: usize = 64;
