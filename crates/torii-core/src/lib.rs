//! Core of Torii: types, errors, storage traits, and the authentication services.
//!
//! Most applications use the `torii` facade crate, which re-exports what is here. This crate knows no
//! database driver and no HTTP framework: storage backends implement the traits in [`storage`], and
//! `torii-axum` turns the coordinator into HTTP routes.
//!
//! ```
//! use torii_core::{SessionConfig, SessionProviderType, SessionToken};
//!
//! let config = SessionConfig::default().expires_in(chrono::Duration::days(7));
//! assert_eq!(config.provider_type, SessionProviderType::Opaque);
//!
//! let token = SessionToken::new_random();
//! assert_eq!(token.as_str().len(), 43); // 32 random bytes, base64url
//! assert!(!format!("{token:?}").contains(token.as_str())); // Debug never shows the secret
//! ```

pub mod audit;
pub mod cleanup;
pub mod clock;
pub mod email;
pub mod email_flows;
pub mod error;
pub mod extensions;
pub mod id;
pub mod jwt;
pub mod managers;
pub mod metrics;
pub mod oauth;
mod opaque;
#[cfg(feature = "passkey")]
pub mod passkey;
pub mod password;
pub mod policy;
pub mod proof;
pub mod refresh;
pub mod session;
pub mod session_store;
pub mod settings;
pub mod split;
pub mod storage;
pub mod throttle;
pub mod token;
mod torii;
pub mod user;

/// Attribute for implementing [`UserManager`] and [`SessionManager`] (re-exported so apps need no extra
/// dependency).
pub use async_trait::async_trait;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{PasskeyError, StorageError, StorageResult, ToriiError};
pub use id::{AuditEventId, ChallengeId, SessionId, UserId};
pub use jwt::{JwtAlgorithm, JwtClaims, JwtConfig, JwtMetadata, JwtSessionManager, VerificationKey};
pub use managers::{ClientContext, DefaultUserManager, OpaqueSessionManager, SessionManager, UserManager};
pub use oauth::{OAuthError, OAuthLinkPolicy, OAuthProvider};
#[cfg(feature = "passkey")]
pub use passkey::{
    PasskeyConfig, PasskeyEnrollmentCompletion, PasskeyInfo, PasskeyLoginCompletion, PasskeyOptions,
    PasskeyRegistrationCompletion,
};
pub use password::{Argon2Params, PasswordHasher, PasswordPolicy, PasswordPolicyError};
pub use policy::{SessionLimitAction, SessionPolicy};
pub use proof::ProvenAddress;
pub use refresh::TokenPair;
pub use session::{Session, SessionBuilder, SessionConfig, SessionProviderType, SessionRecord, SessionToken};
pub use split::{NoStorage, SplitStorage};
pub use storage::RepositoryProvider;
pub use token::TokenHash;
pub use torii::Torii;
pub use user::{NewUser, User};
