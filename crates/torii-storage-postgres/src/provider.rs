//! Schema management and health checks.

use std::sync::LazyLock;

use sqlx::migrate::Migrator;
use torii_core::{RepositoryProvider, StorageResult};

use crate::PostgresRepositoryProvider;
use crate::error::{map_migrate, map_sqlx, on};

/// The table in which [`PostgresRepositoryProvider::migrate`] records the migrations it has applied.
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

impl PostgresRepositoryProvider {
    /// Applies the embedded migrations that have not been applied yet. Running it again on an
    /// up-to-date database changes nothing. (Also available as [`RepositoryProvider::migrate`]; this
    /// inherent method lets set-up code call it without importing the trait.)
    ///
    /// Safe to run from every instance at startup: sqlx's PostgreSQL migrator holds an advisory lock
    /// (`pg_advisory_lock`, keyed by the database name) while it checks and applies migrations, so
    /// instances starting at once apply each migration exactly once, one after the other. Each
    /// migration runs in a transaction, so a failed one leaves no partial schema behind.
    ///
    /// The database role needs permission to create tables in the current schema (PostgreSQL 15 and
    /// later grant that on `public` only to the database owner by default). The applied versions are
    /// recorded in [`MIGRATIONS_TABLE`] (`_torii_migrations`), not in sqlx's default
    /// `_sqlx_migrations`, so the application's own sqlx migrations can share the database. Both use
    /// the same advisory lock, so Torii's and the application's migrations never run at the same time.
    ///
    /// # Errors
    /// [`torii_core::StorageError::Unavailable`] when no connection can be had;
    /// [`torii_core::StorageError::Migration`] when a migration fails.
    pub async fn migrate(&self) -> StorageResult<()> {
        // The migrations run on a pool of their own with this pool's settings (connection options and
        // hooks, so the same server, role and search_path) and one connection, closed afterwards. That
        // matters when a migration fails: sqlx releases its advisory lock only after a successful run,
        // and a connection still holding it, returned to the shared pool, would make the next `migrate`
        // in this process wait for ever. Closing the connection ends its session, which releases it.
        if self.pool.is_closed() {
            return Err(map_sqlx(sqlx::Error::PoolClosed, "database"));
        }
        let options = self.pool.options().clone().max_connections(1).min_connections(0);
        let pool = options.connect_with((*self.pool.connect_options()).clone()).await.map_err(on("database"))?;
        let result = MIGRATOR.run(&pool).await;
        pool.close().await;
        result.map_err(map_migrate)?;
        // Keys SQL cannot compute (see `migrations/20260101000007_*.sql`); idempotent, and safe to run
        // from several instances at once (each user is rewritten in its own transaction).
        crate::email_keys::backfill(&self.pool).await?;
        tracing::debug!(migrations = MIGRATOR.iter().count(), "PostgreSQL schema is up to date");
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

impl RepositoryProvider for PostgresRepositoryProvider {
    async fn migrate(&self) -> StorageResult<()> {
        PostgresRepositoryProvider::migrate(self).await
    }

    async fn health_check(&self) -> StorageResult<()> {
        PostgresRepositoryProvider::health_check(self).await
    }
}
