//! Torii: self-hosted authentication for Rust web apps. Your users' data stays in your own database.
//!
//! This is the facade crate: it re-exports the core types and, by feature flag, the storage backends
//! and authentication methods.
//!
//! # Quick start
//!
//! ```
//! # #[cfg(feature = "sqlite")]
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use std::sync::Arc;
//! use torii::{SessionConfig, SqliteRepositoryProvider, Torii};
//!
//! let repositories = SqliteRepositoryProvider::connect("sqlite::memory:").await?;
//! repositories.migrate().await?;
//! let torii = Torii::new(Arc::new(repositories))
//!     .with_session_config(SessionConfig::default().expires_in(chrono::Duration::days(30)));
//!
//! // Passwords must pass the policy: common ones such as "password123" are refused.
//! let user = torii.register_user_with_password("ada@example.com", "analytical engine 1843").await?;
//! let (_, session) = torii
//!     .login_user_with_password("ada@example.com", "analytical engine 1843", None, None)
//!     .await?;
//! let validated = torii.get_session(&session.token).await?;
//! assert_eq!(validated.user_id, user.id);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//!
//! # Feature flags
//!
//! | Feature | Default | What it enables |
//! |---|---|---|
//! | `password` | yes | Email/password authentication: Argon2id hashing, password policy |
//! | `sqlite` | yes | [`SqliteRepositoryProvider`]: SQLite storage through sqlx |
//! | `oauth` | no | OAuth 2.0 / OpenID Connect providers: any OIDC issuer (discovery), Google, GitHub ([`oauth`]) |
//! | `passkey` | no | Passkeys (WebAuthn): passwordless accounts, login with or without an email, passkey management |
//! | `magic-link` | no | Reserved for email magic links (not released yet; adds nothing today) |
//! | `postgres` | no | `PostgresRepositoryProvider` and the `postgres` module: PostgreSQL storage through sqlx |
//! | `seaorm`, `seaorm-sqlite`, `seaorm-postgres`, `seaorm-mysql` | no | `SeaORMStorage` and the `seaorm` module: SeaORM storage; the suffixed features pick SQLite, PostgreSQL or MySQL/MariaDB |

pub use torii_core::{
    ChallengeId, ClientContext, Clock, DefaultUserManager, JwtAlgorithm, JwtClaims, JwtConfig, JwtMetadata,
    JwtSessionManager, ManualClock, NewUser, OpaqueSessionManager, RepositoryProvider, Session, SessionBuilder,
    SessionConfig, SessionId, SessionLimitAction, SessionManager, SessionPolicy, SessionProviderType, SessionRecord,
    SessionToken, StorageError, SystemClock, TokenPair, Torii, ToriiError, User, UserId, UserManager, VerificationKey,
    async_trait,
};

/// Application session data (key/value, in memory or in an encrypted cookie), separate from login
/// sessions; its `SessionConfig` is `torii::session_store::SessionConfig`.
#[doc(inline)]
pub use torii_core::session_store;

/// Guessing limits (on by default): per account with device cookies, per client address, overall.
#[doc(inline)]
pub use torii_core::throttle;

/// Configuration from environment variables, with the table of every variable.
#[doc(inline)]
pub use torii_core::settings;

/// Email flows: mailers, message templates, magic links, address verification, password reset.
#[doc(inline)]
pub use torii_core::email_flows;

/// The audit log: security events to storage, `tracing` (target `torii::audit`) and `Torii::on_event`
/// hooks.
#[doc(inline)]
pub use torii_core::audit;

/// OAuth 2.0 / OpenID Connect login: the flow's types and the provider trait, and with the `oauth`
/// feature the OpenID Connect (discovery, Google) and GitHub providers.
pub mod oauth {
    pub use torii_core::oauth::*;
    #[cfg(feature = "oauth")]
    pub use torii_oauth::{GOOGLE_ISSUER, GitHubConfig, GitHubProvider, JwsAlgorithm, OidcConfig, OidcProvider, env};
}

/// Storage traits and the types they exchange, for writing or using a backend directly.
pub mod storage {
    pub use torii_core::split::{NoStorage, SplitStorage};
    pub use torii_core::storage::*;
    pub use torii_core::token::TokenHash;
}

/// Password policy and hashing.
#[cfg(feature = "password")]
pub mod password {
    pub use torii_core::password::*;
}

#[cfg(feature = "password")]
pub use torii_core::password::{Argon2Params, PasswordHasher, PasswordPolicy, PasswordPolicyError};

pub use torii_core::PasskeyError;

#[cfg(feature = "passkey")]
pub use torii_core::{
    PasskeyConfig, PasskeyEnrollmentCompletion, PasskeyInfo, PasskeyLoginCompletion, PasskeyOptions,
    PasskeyRegistrationCompletion,
};

/// Passkeys (WebAuthn): the relying-party configuration and the ceremonies' types.
#[cfg(feature = "passkey")]
pub mod passkey {
    pub use torii_core::passkey::*;
}

#[cfg(feature = "sqlite")]
pub use torii_storage_sqlite::SqliteRepositoryProvider;

#[cfg(feature = "seaorm")]
pub use torii_storage_seaorm::{SeaORMRepositoryProvider, SeaORMStorage};

/// The SeaORM backend crate (SQLite, PostgreSQL, MySQL/MariaDB), for its less common items.
#[cfg(feature = "seaorm")]
pub mod seaorm {
    pub use torii_storage_seaorm::*;
}

/// The SQLite backend crate, for its less common items.
#[cfg(feature = "sqlite")]
pub mod sqlite {
    pub use torii_storage_sqlite::*;
}

#[cfg(feature = "postgres")]
pub use torii_storage_postgres::PostgresRepositoryProvider;

/// The PostgreSQL backend crate, for its less common items.
#[cfg(feature = "postgres")]
pub mod postgres {
    pub use torii_storage_postgres::*;
}

/// The README's code, compiled and run as a doctest so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;

/// The book's chapters, compiled and run as doctests so every Rust example in `book/` works. Blocks that
/// are not Rust carry a language tag (`toml`, `sh`, `text`) and are skipped; the quick start is shown
/// through an mdBook include of `examples/quickstart`, which the workspace compiles on its own. The
/// examples use SQLite and passwords, so they need the default features.
#[cfg(all(doctest, feature = "password", feature = "sqlite"))]
mod book_doctests {
    #[doc = include_str!("../../../book/src/introduction.md")]
    struct Introduction;

    #[doc = include_str!("../../../book/src/getting-started.md")]
    struct GettingStarted;

    #[doc = include_str!("../../../book/src/core-concepts.md")]
    struct CoreConcepts;

    #[doc = include_str!("../../../book/src/sessions.md")]
    struct Sessions;

    #[doc = include_str!("../../../book/src/jwt-sessions.md")]
    struct JwtSessions;

    #[doc = include_str!("../../../book/src/passwords.md")]
    struct Passwords;

    #[doc = include_str!("../../../book/src/rate-limiting.md")]
    struct RateLimiting;

    #[doc = include_str!("../../../book/src/email-flows.md")]
    struct EmailFlows;

    #[doc = include_str!("../../../book/src/web-integration.md")]
    struct WebIntegration;

    #[doc = include_str!("../../../book/src/audit-log.md")]
    struct AuditLog;

    #[doc = include_str!("../../../book/src/storage.md")]
    struct Storage;

    #[doc = include_str!("../../../book/src/session-store.md")]
    struct SessionStore;

    #[doc = include_str!("../../../book/src/configuration.md")]
    struct Configuration;

    #[doc = include_str!("../../../book/src/feature-flags.md")]
    struct FeatureFlags;

    #[doc = include_str!("../../../book/src/security.md")]
    struct Security;

    /// Needs the `oauth` feature for `torii::oauth`'s providers. `cargo test --workspace` has it: the
    /// example web app enables it, and Cargo unifies the facade's features across the workspace. On its
    /// own, run it with `cargo test -p torii --features oauth --doc`.
    #[cfg(feature = "oauth")]
    #[doc = include_str!("../../../book/src/oauth.md")]
    struct OAuth;

    /// Needs the `passkey` feature, which `cargo test --workspace` has for the same reason (the example
    /// web app enables it); on its own: `cargo test -p torii --features passkey --doc`.
    #[cfg(feature = "passkey")]
    #[doc = include_str!("../../../book/src/passkeys.md")]
    struct Passkeys;
}
