//! SQLite storage for Torii, built on [sqlx](https://docs.rs/sqlx).
//!
//! [`SqliteRepositoryProvider`] implements every storage trait of `torii-core`: users, passwords,
//! sessions, OAuth accounts and flow state, passkeys, one-time email tokens, refresh tokens, the
//! revocation lists of stateless (JWT) sessions, rate-limit counters and the audit log. It is also a
//! [`SessionStore`](torii_core::session_store::SessionStore) for the application's key/value session
//! data (table `session_data`).
//!
//! ```
//! use std::sync::Arc;
//!
//! use torii_core::storage::UserStorage as _;
//! use torii_core::{NewUser, RepositoryProvider as _, Torii};
//! use torii_storage_sqlite::SqliteRepositoryProvider;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // A file would be `sqlite://torii.db` (created if missing).
//! let storage = SqliteRepositoryProvider::connect("sqlite::memory:").await?;
//! storage.migrate().await?;
//!
//! let user = storage.create_user(&NewUser::new("Alice@Example.com", chrono::Utc::now())).await?;
//! assert_eq!(storage.get_user_by_email("alice@example.com").await?, Some(user));
//!
//! // The provider is what the coordinator is built on.
//! let torii = Torii::new(Arc::new(storage));
//! # let _ = torii;
//! # Ok(())
//! # }
//! ```
//!
//! # Schema and data
//! [`SqliteRepositoryProvider::migrate`] creates the schema from the SQL files embedded from this
//! crate's `migrations/` folder (a byte-for-byte copy of the workspace's canonical
//! `migrations/sqlite/`) and records what it applied in its own table, [`MIGRATIONS_TABLE`]
//! (`_torii_migrations`), so your application's sqlx migrations (in sqlx's `_sqlx_migrations`) can
//! live in the same database. Timestamps are INTEGER microseconds since the Unix epoch, so times are
//! stored to the microsecond. Session and email tokens are stored only as their SHA-256
//! ([`torii_core::TokenHash`]); the tokens themselves never reach the database.
//!
//! # Foreign keys
//! Deleting a user removes everything that belongs to it through `ON DELETE CASCADE`, which SQLite only
//! honours on connections with `PRAGMA foreign_keys = ON`. That pragma is per connection and off in
//! SQLite by default. [`SqliteRepositoryProvider::connect`] turns it on, and so does sqlx's
//! [`SqliteConnectOptions`](sqlx::sqlite::SqliteConnectOptions) unless told otherwise
//! (`.foreign_keys(false)`); if you build your own pool for [`SqliteRepositoryProvider::new`], keep it
//! on. ([`torii_core::storage::UserStorage::delete_user`] also deletes the dependent rows itself, so
//! deleting a user stays complete either way, and `migrate` logs a warning when the pragma is off.)

mod audit;
mod connect;
mod email_keys;
mod error;
mod magic_link;
mod oauth;
mod passkey;
mod password;
mod provider;
mod rate_limit;
mod refresh;
mod revocation;
mod session;
mod session_data;
mod time;
mod user;

#[cfg(test)]
mod tests;

pub use connect::{BUSY_TIMEOUT, MAX_FILE_CONNECTIONS};
pub use provider::MIGRATIONS_TABLE;

use sqlx::SqlitePool;

/// Torii storage in a SQLite database.
///
/// Cloning is cheap: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct SqliteRepositoryProvider {
    pool: SqlitePool,
}

impl SqliteRepositoryProvider {
    /// Wraps an existing pool.
    ///
    /// The pool's connections must have foreign keys enabled (sqlx's default; see the crate docs) so
    /// that a session cannot name a user that does not exist. Call
    /// [`torii_core::RepositoryProvider::migrate`] before use.
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }

    /// The underlying pool, for running your own queries against the same database.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }
}
