//! The schema, as [`sea_orm_migration`] migrations written in Rust and compiled into the crate.
//!
//! They create the tables of the canonical schema (`migrations/sqlite` in the workspace) with the same
//! table, column and index names on SQLite, PostgreSQL and MySQL/MariaDB, foreign keys to `users` with
//! `ON DELETE CASCADE`, and the same unique constraints. Column types differ where the databases do:
//!
//! - timestamps are `timestamptz` on PostgreSQL, `DATETIME(6)` on MySQL and fixed-width UTC text on
//!   SQLite, all to the microsecond;
//! - keys and indexed text are bounded `VARCHAR`s (64 characters for SHA-256 hashes, 255 for ids,
//!   emails and provider names, 512 for passkey credential ids), other text is `TEXT` (`MEDIUMTEXT` on
//!   MySQL for serialized WebAuthn data);
//! - on MySQL every table is InnoDB with `utf8mb4` and a binary collation, so text compares exactly as
//!   on the other databases (email keys are computed by Torii, not by the collation).
//!
//! Applied migrations are recorded in `torii_migrations`, not SeaORM's default `seaql_migrations`, so
//! an application can keep its own SeaORM migrations in the same database.

mod m20260101_000001_core;
mod m20260101_000002_auth_methods;
mod m20260101_000003_token_revocation;
mod m20260101_000004_refresh_tokens;
mod m20260101_000005_session_data;
mod m20260101_000006_rate_limits_and_audit;
mod m20260101_000007_email_keys_and_provider_verification;
mod schema;

use sea_orm::sea_query::{Alias, IntoIden as _};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, DbBackend, DynIden, Statement};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use torii_core::StorageResult;

use crate::error::map_migration;

/// Torii's migrations, in order. Run them with [`crate::SeaORMStorage::migrate`]; the type is public so
/// that tooling built on `sea-orm-migration` can list or apply them too.
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20260101_000001_core::Migration),
            Box::new(m20260101_000002_auth_methods::Migration),
            Box::new(m20260101_000003_token_revocation::Migration),
            Box::new(m20260101_000004_refresh_tokens::Migration),
            Box::new(m20260101_000005_session_data::Migration),
            Box::new(m20260101_000006_rate_limits_and_audit::Migration),
            Box::new(m20260101_000007_email_keys_and_provider_verification::Migration),
        ]
    }

    fn migration_table_name() -> DynIden {
        Alias::new("torii_migrations").into_iden()
    }
}

/// Logs a warning for connection settings under which the database would not keep Torii's promises:
/// SQLite without foreign keys (rows could name users that do not exist), MySQL without strict mode
/// (values too long would be cut instead of refused).
async fn warn_about_settings(db: &DatabaseConnection) -> StorageResult<()> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => "PRAGMA foreign_keys",
        DbBackend::MySql => "SELECT @@SESSION.sql_mode",
        _ => return Ok(()),
    };
    let row = db.query_one_raw(Statement::from_string(backend, sql)).await.map_err(map_migration)?;
    match backend {
        DbBackend::Sqlite => {
            let enabled: i64 = row.map(|row| row.try_get_by_index(0)).transpose().map_err(map_migration)?.unwrap_or(0);
            if enabled == 0 {
                tracing::warn!("SQLite foreign keys are off on this connection; enable them (sqlx's default)");
            }
        }
        _ => {
            let mode: String =
                row.map(|row| row.try_get_by_index(0)).transpose().map_err(map_migration)?.unwrap_or_default();
            if !mode.contains("STRICT_TRANS_TABLES") && !mode.contains("STRICT_ALL_TABLES") {
                tracing::warn!("MySQL strict mode is off on this connection; values that do not fit would be cut");
            }
        }
    }
    Ok(())
}

/// Applies the migrations that have not been applied yet.
pub(crate) async fn run(db: &DatabaseConnection) -> StorageResult<()> {
    warn_about_settings(db).await?;
    Migrator::up(db, None).await.map_err(map_migration)?;
    // Keys SQL cannot compute (migration 000007); idempotent.
    crate::email_keys::backfill(db).await?;
    tracing::debug!(migrations = Migrator::migrations().len(), "database schema is up to date");
    Ok(())
}
