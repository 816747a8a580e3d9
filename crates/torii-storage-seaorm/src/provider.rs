//! [`SeaORMRepositoryProvider`]: the storage Torii runs on, plus schema management and health checks.

use sea_orm::DatabaseConnection;
use torii_core::{RepositoryProvider, StorageResult};

use crate::error::on;

/// Torii storage on a SeaORM connection. Implements every storage trait of `torii-core` (users,
/// passwords, sessions, OAuth, passkeys, one-time email tokens, refresh tokens, token revocation),
/// [`RepositoryProvider`], and [`SessionStore`](torii_core::session_store::SessionStore) for the
/// application's key/value session data.
///
/// Cloning is cheap: clones share one connection pool.
#[derive(Clone)]
pub struct SeaORMRepositoryProvider {
    pub(crate) db: DatabaseConnection,
}

impl SeaORMRepositoryProvider {
    /// Wraps a connection. Call [`SeaORMRepositoryProvider::migrate`] (or [`crate::SeaORMStorage::migrate`])
    /// before use; see [`crate::SeaORMStorage::from_connection`] for what the connection must allow.
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The underlying connection, for the application's own queries against the same database.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Creates or upgrades the schema; see [`crate::SeaORMStorage::migrate`]. (Also available as
    /// [`RepositoryProvider::migrate`]; this inherent method needs no trait import.)
    ///
    /// # Errors
    /// [`torii_core::StorageError::Migration`] when a migration fails.
    pub async fn migrate(&self) -> StorageResult<()> {
        crate::migration::run(&self.db).await
    }

    /// Checks that the database answers.
    ///
    /// # Errors
    /// [`torii_core::StorageError::Unavailable`] when it does not.
    pub async fn health_check(&self) -> StorageResult<()> {
        self.db.ping().await.map_err(on("database"))
    }
}

impl std::fmt::Debug for SeaORMRepositoryProvider {
    // The connection's own Debug output includes driver options; keep it to the database kind.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeaORMRepositoryProvider")
            .field("backend", &self.db.get_database_backend())
            .finish_non_exhaustive()
    }
}

impl RepositoryProvider for SeaORMRepositoryProvider {
    async fn migrate(&self) -> StorageResult<()> {
        SeaORMRepositoryProvider::migrate(self).await
    }

    async fn health_check(&self) -> StorageResult<()> {
        SeaORMRepositoryProvider::health_check(self).await
    }
}
