//! Storage traits: the contract every backend (SQLite, PostgreSQL, SeaORM, Redis, in-memory) fulfils.
//!
//! Each method's documentation states its contract; the conformance suite (`torii-test-suite`) checks
//! every backend against exactly these statements. Methods return futures that are `Send`, so Torii can
//! be used from multi-threaded runtimes and web handlers.
//!
//! Times are passed in (`now`) rather than read by the backend, so expiry is decided by Torii's clock,
//! identically on every backend, and can be tested with an injected clock.

mod audit;
mod magic_link;
mod oauth;
mod passkey;
mod password;
mod rate_limit;
mod refresh;
mod revocation;
mod session;
mod user;

pub use audit::{AuditEvent, AuditEventKind, AuditLogStorage, MAX_AUDIT_KIND_LEN};
pub use magic_link::{MagicLinkStorage, OneTimeToken, TokenPurpose};
pub use oauth::{OAuthAccount, OAuthState, OAuthStorage};
pub use passkey::{CeremonyKind, PasskeyChallenge, PasskeyCredential, PasskeyStorage};
pub use password::PasswordStorage;
pub use rate_limit::{RateLimitDecision, RateLimitStorage, RateLimitWindow};
pub use refresh::{RefreshTokenRecord, RefreshTokenStorage, RefreshTokenUse};
pub use revocation::TokenRevocationStorage;
pub use session::SessionStorage;
pub use user::{DroppedCredentials, UserStorage};

use std::future::Future;

use crate::error::StorageResult;

/// Everything a storage backend offers for the core flows (users, sessions, passwords, the rate-limit
/// counters that protect them and the audit log that records them), plus schema management. A backend's provider type (for example
/// `SqliteRepositoryProvider`) implements this and the individual storage traits, so `Torii::new(Arc::new(provider))` works wherever a function asks for
/// `Torii<impl RepositoryProvider>` or for `Torii<impl UserStorage + MagicLinkStorage>`.
pub trait RepositoryProvider:
    UserStorage + SessionStorage + PasswordStorage + RateLimitStorage + AuditLogStorage + Send + Sync + 'static
{
    /// Creates or upgrades the schema. Idempotent: running it on an up-to-date database changes nothing.
    fn migrate(&self) -> impl Future<Output = StorageResult<()>> + Send;

    /// Checks that the backend is reachable (for health endpoints).
    fn health_check(&self) -> impl Future<Output = StorageResult<()>> + Send;
}
