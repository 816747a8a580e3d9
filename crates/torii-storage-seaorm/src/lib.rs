//! Torii storage on [SeaORM](https://www.sea-ql.org/SeaORM/): one backend for SQLite, PostgreSQL and
//! MySQL/MariaDB.
//!
//! [`SeaORMRepositoryProvider`] implements every storage trait of `torii-core`: users, passwords,
//! sessions, OAuth accounts and flow state, passkeys, one-time email tokens, refresh tokens, the
//! revocation lists of stateless (JWT) sessions, rate-limit counters and the audit log; it is also a
//! [`SessionStore`](torii_core::session_store::SessionStore) for the application's key/value session
//! data (table `session_data`). It behaves like `torii-storage-sqlite` on every database, and passes the
//! same conformance suite on all three.
//!
//! ```
//! use std::sync::Arc;
//!
//! use torii_core::Torii;
//! use torii_storage_seaorm::SeaORMStorage;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Or "sqlite://auth.db?mode=rwc", "postgres://user:password@localhost/app",
//! // "mysql://user:password@localhost/app".
//! let storage = SeaORMStorage::connect("sqlite::memory:").await?;
//! storage.migrate().await?;
//!
//! let repositories = Arc::new(storage.into_repository_provider());
//! let torii = Arc::new(Torii::new(repositories));
//!
//! // Passwords must pass the policy: common ones such as "password123" are refused.
//! let user = torii.register_user_with_password("ada@example.com", "analytical engine 1843").await?;
//! let (_, session) =
//!     torii.login_user_with_password("Ada@Example.com", "analytical engine 1843", None, None).await?;
//! assert_eq!(torii.get_session(&session.token).await?.user_id, user.id);
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//!
//! | Feature    | Default | Database |
//! |------------|---------|----------|
//! | `sqlite`   | yes     | SQLite (bundled; no system library) |
//! | `postgres` | no      | PostgreSQL |
//! | `mysql`    | no      | MySQL 8 and MariaDB (tested with 10.11) |
//!
//! Connections are made by sqlx on the Tokio runtime, without TLS: connect to PostgreSQL or MySQL over a
//! trusted network or a local socket, or open an encrypted [`sea_orm::DatabaseConnection`] yourself and
//! pass it to [`SeaORMStorage::from_connection`].
//!
//! # Schema and data
//!
//! [`SeaORMStorage::migrate`] runs the migrations in [`migration`], compiled into the crate. They create
//! the tables, columns and indexes of the workspace's canonical schema on each database, and record
//! what they applied in `torii_migrations`, apart from any migrations of the application's own.
//! [`entity`] has a SeaORM entity for every table, for applications that want to query them.
//!
//! What is stored is what is read back, on every database:
//!
//! - **Timestamps** keep microseconds (`timestamptz`; `DATETIME(6)` on MySQL; fixed-width UTC text on
//!   SQLite, so that text order is time order in `expires_at <= now`). Finer values are truncated
//!   before they are written.
//! - **Emails** are unique ignoring case because Torii stores a lower-cased copy
//!   (`users.email_normalized`) under a unique index. On MySQL every table uses `utf8mb4` with a binary
//!   collation, so that index compares exactly: `ärger@example.com` and `arger@example.com` are two
//!   addresses, as everywhere else, where MySQL's default collation would call them one.
//! - **Text** round-trips exactly. PostgreSQL cannot store a NUL byte in text; such a value is refused
//!   with [`torii_core::StorageError::InvalidData`], as are values longer than their column (ids and
//!   emails are at most 255 characters, token hashes 64, passkey credential ids 512).
//! - **Secrets**: session and email tokens are stored only as their SHA-256 ([`torii_core::TokenHash`]).
//!
//! Single-use values (OAuth states, passkey challenges, email tokens) are consumed atomically: of many
//! concurrent attempts exactly one succeeds, on MySQL too, which has no `RETURNING`.
//!
//! # Errors
//!
//! Database errors are mapped as `torii-storage-sqlite` maps them: a unique violation is
//! [`StorageError::Conflict`](torii_core::StorageError::Conflict), a missing user behind a foreign key
//! is [`StorageError::NotFound`](torii_core::StorageError::NotFound), an unreachable or overloaded
//! server (or a deadlock) is [`StorageError::Unavailable`](torii_core::StorageError::Unavailable), and
//! anything else keeps the driver's error as its source. Messages never contain SQL or values.

mod audit;
mod connect;
mod db;
mod email_keys;
pub mod entity;
mod error;
mod magic_link;
pub mod migration;
mod oauth;
mod passkey;
mod password;
mod provider;
mod rate_limit;
mod refresh;
mod revocation;
mod session;
mod session_data;
mod storage;
mod time;
mod user;

pub use connect::{SQLITE_BUSY_TIMEOUT, SQLITE_MAX_FILE_CONNECTIONS};
pub use error::ConnectError;
pub use provider::SeaORMRepositoryProvider;
pub use sea_orm;
pub use storage::SeaORMStorage;
