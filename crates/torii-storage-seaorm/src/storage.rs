//! [`SeaORMStorage`]: connecting and preparing the database, before handing it to Torii.

use sea_orm::DatabaseConnection;
use torii_core::{StorageError, StorageResult};

use crate::SeaORMRepositoryProvider;

/// A Torii database reached through SeaORM: SQLite, PostgreSQL or MySQL/MariaDB.
///
/// Connect (or wrap a connection you already have), run [`SeaORMStorage::migrate`] once at startup, then
/// turn it into the [`SeaORMRepositoryProvider`] that Torii is built on. Cloning is cheap: clones share
/// one connection pool.
#[derive(Clone)]
pub struct SeaORMStorage {
    db: DatabaseConnection,
}

impl SeaORMStorage {
    /// Opens a connection pool for `url`:
    ///
    /// - `sqlite://auth.db?mode=rwc`, `sqlite://auth.db` (the file is created when the URL gives no
    ///   `mode`), `sqlite::memory:` (a private in-memory database that lives as long as the pool);
    /// - `postgres://user:password@host:5432/database` (or `postgresql://`);
    /// - `mysql://user:password@host:3306/database` (MySQL 8 or MariaDB).
    ///
    /// SQLite connections enforce foreign keys and wait up to [`crate::SQLITE_BUSY_TIMEOUT`] for a lock;
    /// database files use WAL journaling. Connections are not encrypted: reach PostgreSQL and MySQL over a
    /// trusted network or a local socket, or build an encrypted connection yourself and use
    /// [`SeaORMStorage::from_connection`]. This does not create the schema: call
    /// [`SeaORMStorage::migrate`].
    ///
    /// # Errors
    /// [`StorageError::Unavailable`] when the server cannot be reached; [`StorageError::Database`] when
    /// the URL is malformed, names a database whose Cargo feature is disabled (the source is a
    /// [`crate::ConnectError`]), or the server refuses the login or the database.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        Ok(Self { db: crate::connect::open(url).await? })
    }

    /// Wraps a connection opened by the application (for example with its own pool settings, logging or
    /// TLS). On SQLite its connections must enforce foreign keys (sqlx's default), so that rows cannot
    /// name users that do not exist.
    pub fn from_connection(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The underlying connection, for the application's own queries against the same database.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Creates or upgrades Torii's tables. Idempotent: running it on an up-to-date database changes
    /// nothing. Applied migrations are recorded in the table `torii_migrations`, so an application's own
    /// SeaORM migrations (in `seaql_migrations`) are not disturbed.
    ///
    /// Run it from one place at startup; two processes migrating a fresh database at the same instant
    /// may see one of them fail (rerunning succeeds).
    ///
    /// # Errors
    /// [`StorageError::Migration`] when a migration fails.
    pub async fn migrate(&self) -> StorageResult<()> {
        crate::migration::run(&self.db).await
    }

    /// The storage provider Torii is built on: `Torii::new(Arc::new(storage.into_repository_provider()))`.
    pub fn into_repository_provider(self) -> SeaORMRepositoryProvider {
        SeaORMRepositoryProvider::new(self.db)
    }
}

impl std::fmt::Debug for SeaORMStorage {
    // The connection's own Debug output includes driver options; keep it to the database kind.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeaORMStorage").field("backend", &self.db.get_database_backend()).finish_non_exhaustive()
    }
}

impl From<SeaORMStorage> for SeaORMRepositoryProvider {
    fn from(storage: SeaORMStorage) -> Self {
        storage.into_repository_provider()
    }
}
