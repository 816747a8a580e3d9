//! Schema management and health checks.

use std::sync::LazyLock;

use sqlx::migrate::Migrator;
use torii_core::{RepositoryProvider, StorageResult};

use crate::SqliteRepositoryProvider;
use crate::error::{map_migrate, on};

/// The table in which [`SqliteRepositoryProvider::migrate`] records the migrations it has applied.
///
/// Torii's own name rather than sqlx's default `_sqlx_migrations`, so an application that runs its own
/// sqlx migrations in the same database keeps its own table: neither migrator sees the other's
/// versions, so neither reports them as missing or changed.
pub const MIGRATIONS_TABLE: &str = "_torii_migrations";

/// The migrations in this crate's `migrations/` folder, embedded at compile time (`build.rs` makes
/// Cargo rebuild when they change), recorded in [`MIGRATIONS_TABLE`].
pub(crate) static MIGRATOR: LazyLock<Migrator> = LazyLock::new(|| {
    let mut migrator = sqlx::migrate!("./migrations");
    // sqlx calls this "dangerous" because renaming the table of a database that is already migrated
    // makes it forget what it applied. Torii has used this name since its first release.
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    migrator
});

impl SqliteRepositoryProvider {
    /// Logs a warning when the connection the pool hands out does not enforce foreign keys, which
    /// would let rows point at users that do not exist (see the crate docs).
    async fn warn_if_foreign_keys_off(&self) -> StorageResult<()> {
        let enabled: i64 =
            sqlx::query_scalar("PRAGMA foreign_keys").fetch_one(&self.pool).await.map_err(on("database"))?;
        if enabled == 0 {
            tracing::warn!(
                "SQLite foreign keys are off on this pool; build it with SqliteConnectOptions::foreign_keys(true)"
            );
        }
        Ok(())
    }
}

impl SqliteRepositoryProvider {
    /// Applies the embedded migrations that have not been applied yet, then rewrites the email keys of
    /// users created before keys were NFKC-normalised (see `migrations/20260101000007_*.sql`). Running
    /// it again on an up-to-date database changes nothing. (Also available as [`RepositoryProvider::migrate`]; this
    /// inherent method lets set-up code call it without importing the trait.)
    ///
    /// Run it from one place at startup: SQLite has no advisory lock, so two processes migrating a
    /// fresh database at the same instant may see one of them fail (harmlessly; rerunning succeeds).
    ///
    /// The applied versions are recorded in [`MIGRATIONS_TABLE`] (`_torii_migrations`), not in sqlx's
    /// default `_sqlx_migrations`, so the application's own sqlx migrations can share the database.
    ///
    /// # Errors
    /// [`torii_core::StorageError::Migration`] when a migration fails.
    pub async fn migrate(&self) -> StorageResult<()> {
        self.warn_if_foreign_keys_off().await?;
        MIGRATOR.run(&self.pool).await.map_err(map_migrate)?;
        crate::email_keys::backfill(&self.pool).await?;
        tracing::debug!(migrations = MIGRATOR.iter().count(), "SQLite schema is up to date");
        Ok(())
    }

    /// Checks that the database answers.
    ///
    /// # Errors
    /// [`torii_core::StorageError::Unavailable`] when it does not.
    pub async fn health_check(&self) -> StorageResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map_err(on("database"))?;
        Ok(())
    }
}

impl RepositoryProvider for SqliteRepositoryProvider {
    async fn migrate(&self) -> StorageResult<()> {
        SqliteRepositoryProvider::migrate(self).await
    }

    async fn health_check(&self) -> StorageResult<()> {
        SqliteRepositoryProvider::health_check(self).await
    }
}
