//! Fresh, migrated storage backends for tests that run whole flows (email, passkeys, OAuth) on every
//! backend Torii ships: SQLite (sqlx), PostgreSQL (sqlx), and SeaORM on SQLite, PostgreSQL and
//! MySQL/MariaDB.
//!
//! SQLite backends live in memory. Server backends get a [`FreshDatabase`] each, owned by the provider's
//! connection pool, so the database is dropped exactly when the pool is (when the test's `Torii` goes).
//! When a server cannot be reached the constructors return `None` (the caller skips, with a notice) on a
//! developer machine and panic under `CI`, as [`torii_test_suite::skip_or_fail`] decides.

// A test-support crate: failures to set up a database are reported by panicking, like `assert!`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod servers;

use std::sync::Arc;

use sqlx::mysql::MySqlPoolOptions;
use sqlx::postgres::PgPoolOptions;
use torii_storage_postgres::PostgresRepositoryProvider;
use torii_storage_seaorm::sea_orm::{SqlxMySqlConnector, SqlxPostgresConnector};
use torii_storage_seaorm::{SeaORMRepositoryProvider, SeaORMStorage};
use torii_storage_sqlite::SqliteRepositoryProvider;

pub use servers::{FreshDatabase, Server};
pub use torii_storage_postgres::PostgresRepositoryProvider as Postgres;
pub use torii_storage_seaorm::SeaORMRepositoryProvider as SeaORM;
pub use torii_storage_sqlite::SqliteRepositoryProvider as Sqlite;

/// A migrated in-memory SQLite database (sqlx backend).
pub async fn sqlite() -> Arc<SqliteRepositoryProvider> {
    let repositories = SqliteRepositoryProvider::connect("sqlite::memory:").await.expect("open SQLite");
    repositories.migrate().await.expect("migrate");
    Arc::new(repositories)
}

/// A fresh, migrated PostgreSQL database (sqlx backend) with the pool settings of
/// `PostgresRepositoryProvider::connect`, or `None` when the server is unavailable.
pub async fn postgres() -> Option<Arc<PostgresRepositoryProvider>> {
    let database = FreshDatabase::create(Server::Postgres).await?;
    let url = database.url();
    let pool = PostgresRepositoryProvider::pool_options()
        .after_connect(move |_conn, _meta| {
            // Owning the handle is all this hook does: the database lives as long as the pool.
            let _owner = &database;
            Box::pin(async { Ok(()) })
        })
        .connect(&url)
        .await
        .expect("connect to the test database");
    let repositories = PostgresRepositoryProvider::new(pool);
    repositories.migrate().await.expect("migrate");
    Some(Arc::new(repositories))
}

/// A migrated in-memory SQLite database through SeaORM, opened with `SeaORMStorage::connect`.
pub async fn seaorm_sqlite() -> Arc<SeaORMRepositoryProvider> {
    let storage = SeaORMStorage::connect("sqlite::memory:").await.expect("open SQLite");
    storage.migrate().await.expect("migrate");
    Arc::new(storage.into_repository_provider())
}

/// A fresh, migrated database on `server` through SeaORM, or `None` when the server is unavailable.
pub async fn seaorm(server: Server) -> Option<Arc<SeaORMRepositoryProvider>> {
    let database = FreshDatabase::create(server).await?;
    let url = database.url();
    let connection = match server {
        Server::Postgres => SqlxPostgresConnector::from_sqlx_postgres_pool(
            PgPoolOptions::new()
                .after_connect(move |_conn, _meta| {
                    let _owner = &database;
                    Box::pin(async { Ok(()) })
                })
                .connect(&url)
                .await
                .expect("connect to the test database"),
        ),
        Server::MySql => SqlxMySqlConnector::from_sqlx_mysql_pool(
            MySqlPoolOptions::new()
                .after_connect(move |_conn, _meta| {
                    let _owner = &database;
                    Box::pin(async { Ok(()) })
                })
                .connect(&url)
                .await
                .expect("connect to the test database"),
        ),
    };
    let storage = SeaORMStorage::from_connection(connection);
    storage.migrate().await.expect("migrate");
    Some(Arc::new(storage.into_repository_provider()))
}

/// Reads what a backend stored for one-time tokens (magic links, verification, reset), so tests can check
/// that only hashes reach the database.
pub trait StoredTokens {
    /// Every `token_hash` in the one-time token table, in no particular order.
    fn one_time_token_hashes(&self) -> impl std::future::Future<Output = Vec<String>> + Send;
}

const TOKEN_HASHES: &str = "SELECT token_hash FROM one_time_tokens";

impl StoredTokens for SqliteRepositoryProvider {
    async fn one_time_token_hashes(&self) -> Vec<String> {
        sqlx::query_scalar(TOKEN_HASHES).fetch_all(self.pool()).await.expect("read one_time_tokens")
    }
}

impl StoredTokens for PostgresRepositoryProvider {
    async fn one_time_token_hashes(&self) -> Vec<String> {
        sqlx::query_scalar(TOKEN_HASHES).fetch_all(self.pool()).await.expect("read one_time_tokens")
    }
}

impl StoredTokens for SeaORMRepositoryProvider {
    async fn one_time_token_hashes(&self) -> Vec<String> {
        use torii_storage_seaorm::sea_orm::{ConnectionTrait as _, Statement};

        let connection = self.connection();
        let statement = Statement::from_string(connection.get_database_backend(), TOKEN_HASHES);
        let rows = connection.query_all_raw(statement).await.expect("read one_time_tokens");
        rows.iter().map(|row| row.try_get_by_index::<String>(0).expect("a token hash")).collect()
    }
}
