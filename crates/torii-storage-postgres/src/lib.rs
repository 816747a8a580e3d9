//! PostgreSQL storage for Torii, built on [sqlx](https://docs.rs/sqlx).
//!
//! [`PostgresRepositoryProvider`] implements the storage traits of `torii-core` that the SQLite backend
//! implements: users, passwords, sessions, OAuth accounts and flow state, passkeys, one-time email
//! tokens, refresh tokens (rotation with reuse detection), the revocation of stateless (JWT)
//! sessions, rate-limit counters and the audit log. It is also a [`SessionStore`](torii_core::session_store::SessionStore) for the
//! application's key/value session data (table `session_data`).
//!
//! The example is compiled but not run (`no_run`): it needs a PostgreSQL server, which documentation
//! tests cannot count on. The crate's integration tests make the same calls against a real server.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use torii_core::storage::UserStorage as _;
//! use torii_core::{NewUser, Torii};
//! use torii_storage_postgres::PostgresRepositoryProvider;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Not run as a doctest: this needs a reachable PostgreSQL server.
//! let storage = PostgresRepositoryProvider::connect("postgres://torii:secret@localhost/torii").await?;
//! storage.migrate().await?; // creates or upgrades the schema; safe when several instances start at once
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
//! [`PostgresRepositoryProvider::migrate`] creates the schema from the SQL files embedded from this
//! crate's `migrations/` folder (a byte-for-byte copy of the workspace's canonical
//! `migrations/postgres/`), and records what it applied in its own table, [`MIGRATIONS_TABLE`]
//! (`_torii_migrations`), so your application's sqlx migrations (in sqlx's `_sqlx_migrations`) can
//! live in the same database. The database must use the UTF-8 encoding (PostgreSQL's default). Times
//! are `timestamptz`, stored to the microsecond; values with finer precision are truncated towards the
//! past, as on every Torii backend. Session and email tokens are stored only as their SHA-256
//! ([`torii_core::TokenHash`]); the tokens themselves never reach the database.
//!
//! # Text PostgreSQL cannot hold
//! PostgreSQL's `text` cannot contain the NUL character (`'\0'`). Writing a value that contains one
//! fails with [`torii_core::StorageError::InvalidData`] and stores nothing. Looking something up by a
//! key that contains one (an email, an id from a request) simply finds nothing, because no stored key
//! can contain it.
//!
//! # Failures
//! Outages surface as [`torii_core::StorageError::Unavailable`] (HTTP 503 in `torii-axum`), never as a
//! hang: a call that cannot get a connection (the server is down or unreachable) fails after at most
//! [`ACQUIRE_TIMEOUT`], and a call whose connection the server terminates (a restart, a failover,
//! `pg_terminate_backend`) fails at once. The pool tests idle connections before handing them out and
//! opens new ones as needed, so service resumes by itself once the server is back.

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

pub use connect::{ACQUIRE_TIMEOUT, IDLE_TIMEOUT, MAX_CONNECTIONS, MAX_LIFETIME};
pub use provider::MIGRATIONS_TABLE;

use sqlx::PgPool;

/// Torii storage in a PostgreSQL database.
///
/// Cloning is cheap: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct PostgresRepositoryProvider {
    pool: PgPool,
}

impl PostgresRepositoryProvider {
    /// Wraps an existing pool. Call [`PostgresRepositoryProvider::migrate`] before use.
    ///
    /// [`PostgresRepositoryProvider::pool_options`] gives the settings [`PostgresRepositoryProvider::connect`]
    /// uses, as a starting point for a pool of your own.
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }

    /// The underlying pool, for running your own queries against the same database.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
